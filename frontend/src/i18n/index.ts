// i18next with English and Brazilian Portuguese: the browser's languages pick one on the first
// visit (pickLanguage), the switcher changes it, and the choice is kept (localStorage "pytake.lang").
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import { en as baseEn } from "./en";
import { ptBR as basePtBR } from "./pt-BR";

// Each screen keeps its strings in src/i18n/screens/<screen>.ts (`export const en`, `export const
// ptBR`, the same keys), under the key <screen>: t("dashboard.title") is screens/dashboard.ts.
type Strings = Record<string, unknown>;
const screens = import.meta.glob<{ en: Strings; ptBR: Strings }>("./screens/*.ts", { eager: true });
const screenStrings = (lang: "en" | "ptBR") =>
  Object.fromEntries(Object.entries(screens).map(([path, module]) => [path.replace(/^.*\/|\.ts$/g, ""), module[lang]]));
export const en = { ...screenStrings("en"), ...baseEn };
export const ptBR = { ...screenStrings("ptBR"), ...basePtBR };

export const LANGUAGES = [
  { code: "en", label: "English" },
  { code: "pt-BR", label: "Português (Brasil)" },
] as const;
export type Language = (typeof LANGUAGES)[number]["code"];
const KEY = "pytake.lang";

/** The language picked from a browser's list: pt-* is Brazilian Portuguese, en-* English, the
 * first of those that appears wins; English otherwise. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("pt")) return "pt-BR";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

function initial(): Language {
  try {
    const saved = globalThis.localStorage?.getItem(KEY);
    if (saved === "en" || saved === "pt-BR") return saved;
  } catch {
    /* storage blocked: the browser's choice */
  }
  const nav = globalThis.navigator;
  return pickLanguage(nav?.languages?.length ? nav.languages : [nav?.language ?? "en"]);
}

export function setupI18n(lng: Language = initial()) {
  if (!i18n.isInitialized) {
    void i18n.use(initReactI18next).init({
      resources: { en: { translation: en }, "pt-BR": { translation: ptBR } },
      lng,
      fallbackLng: "en",
      interpolation: { escapeValue: false },
      initAsync: false,
    });
    const sync = (l: string) => {
      if (typeof document !== "undefined") document.documentElement.lang = l;
    };
    sync(i18n.language);
    i18n.on("languageChanged", sync);
  }
  return i18n;
}

export async function switchLanguage(lng: Language): Promise<void> {
  try {
    globalThis.localStorage?.setItem(KEY, lng);
  } catch {
    /* not kept, still switched */
  }
  await i18n.changeLanguage(lng);
}

export default i18n;
