import { setupI18n } from "../i18n";

setupI18n("en");
