import { Languages } from "lucide-react";
import { useTranslation } from "react-i18next";
import { LANGUAGES, switchLanguage, type Language } from "@/i18n";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "./ui/select";

export function LanguageSwitcher({ className }: { className?: string }) {
  const { t, i18n } = useTranslation();
  return (
    <Select value={i18n.language} onValueChange={(v) => void switchLanguage(v as Language)}>
      <SelectTrigger className={className ?? "w-44"} aria-label={t("nav.language")}>
        <Languages className="size-3.5 opacity-70" aria-hidden />
        <SelectValue />
      </SelectTrigger>
      <SelectContent>
        {LANGUAGES.map((l) => (
          <SelectItem key={l.code} value={l.code}>{l.label}</SelectItem>
        ))}
      </SelectContent>
    </Select>
  );
}
