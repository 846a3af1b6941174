// The editor's preview: the text each platform would get (its variant, else the universal body)
// with sample values in the variables, and how long it is against that platform's limit.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { PlatformIcon, platformLabel } from "@/components/PlatformIcon";
import { fill, measure, PLATFORMS, SAMPLE_VALUES } from "@/components/templates/logic";
import { cn } from "@/lib/utils";

export interface PreviewSource {
  body: string;
  variants: { platform: string; body: string; subject: string }[];
  prompts: Record<string, string>;
}

export function previewText(source: PreviewSource, platform: string): { text: string; subject: string | null; variant: boolean } {
  const variant = source.variants.find((v) => v.platform === platform);
  const body = variant?.body.trim() ? variant.body : source.body;
  const value = (name: string) => SAMPLE_VALUES[name] ?? (source.prompts[name] ? `‹${source.prompts[name]}›` : undefined);
  return { text: fill(body, value), subject: variant?.subject ? fill(variant.subject, value) : null, variant: Boolean(variant) };
}

export function TemplatePreview({ source }: { source: PreviewSource }) {
  const { t, i18n } = useTranslation();
  const [platform, setPlatform] = useState("WHATSAPP");
  const withVariant = new Set(source.variants.map((v) => v.platform));
  const { text, subject, variant } = previewText(source, platform);
  const size = measure(text, platform);

  return (
    <div className="rounded-xl border border-border bg-background shadow-sm">
      <div className="border-b border-border px-4 py-3">
        <h2 className="text-sm font-semibold">{t("templates.preview.title")}</h2>
        <p className="mt-0.5 text-xs text-muted-foreground">{t("templates.preview.hint")}</p>
      </div>
      <div role="radiogroup" aria-label={t("templates.preview.platform")} className="flex flex-wrap gap-1.5 border-b border-border px-4 py-3">
        {PLATFORMS.map((p) => (
          <button
            key={p}
            type="button"
            role="radio"
            aria-checked={platform === p}
            onClick={() => setPlatform(p)}
            className={cn(
              "relative inline-flex items-center gap-1.5 rounded-full border border-border px-2 py-1 text-xs transition hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
              platform === p && "border-primary bg-primary/10 font-medium text-primary",
            )}
          >
            <PlatformIcon platform={p} className="ring-0" />
            {platformLabel(p)}
            {withVariant.has(p) && <span className="size-1.5 rounded-full bg-primary" aria-label={t("templates.preview.hasVariant")} role="img" />}
          </button>
        ))}
      </div>
      <div className="bg-muted/40 px-4 py-5" data-testid="template-preview">
        <p className="mb-2 text-center text-[11px] font-medium uppercase tracking-wide text-muted-foreground">
          {variant ? t("templates.preview.variant", { platform: platformLabel(platform) }) : t("templates.preview.universal")}
        </p>
        <div className="ml-auto max-w-[85%] rounded-2xl rounded-br-sm bg-primary px-3.5 py-2.5 text-sm text-primary-foreground shadow-sm">
          {subject && <p className="mb-1 font-semibold">{subject}</p>}
          <p className="whitespace-pre-wrap break-words">{text || <span className="opacity-70">{t("templates.preview.empty")}</span>}</p>
        </div>
      </div>
      <div className="flex items-center justify-between border-t border-border px-4 py-2 text-xs">
        <span className="text-muted-foreground">{t("templates.preview.sample")}</span>
        <span className={cn("tabular-nums", size.over ? "font-semibold text-destructive" : "text-muted-foreground")}>
          {t(size.unit === "bytes" ? "templates.limit.bytes" : "templates.limit.chars", { size: size.size.toLocaleString(i18n.language), max: size.max.toLocaleString(i18n.language) })}
        </span>
      </div>
    </div>
  );
}
