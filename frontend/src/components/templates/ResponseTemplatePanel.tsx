// The composer with one of our response templates picked (`/shortcut`): a field per prompt the
// agent fills, and the server's rendering of it for this conversation and channel (renderTemplate),
// live as the prompts are typed, with the platform's limits it breaks.
import { AlertTriangle, FileText, FlaskConical, Loader2, X } from "lucide-react";
import { useEffect, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import type { TplPickQuery, TplRenderQuery } from "@/api/graphql.generated";
import { TPL_RENDER } from "@/api/ops/templates";
import type { Services } from "@/services";
import { cn } from "@/lib/utils";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Input } from "../ui/input";
import { measure } from "./logic";

export type PickedTemplate = TplPickQuery["templates"]["edges"][number]["node"];
export type Rendered = TplRenderQuery["renderTemplate"];

export function ResponseTemplatePanel({
  template,
  required,
  values,
  onValue,
  onRemove,
  rendered,
  previewError,
  loading,
  platform,
}: {
  template: PickedTemplate;
  required: string[];
  values: Record<string, string>;
  onValue: (name: string, value: string) => void;
  onRemove: () => void;
  rendered: Rendered | null;
  previewError: string | null;
  loading: boolean;
  platform: string | null;
}) {
  const { t, i18n } = useTranslation();
  const ids = useId();
  const prompts = template.content.prompts;
  const size = rendered && platform ? measure(rendered.text, rendered.platform) : null;
  return (
    <div className="space-y-3 px-3 py-2.5" data-testid="composer-template">
      <div className="flex items-center gap-2">
        <span className="flex size-6 items-center justify-center rounded-md bg-primary/10 text-primary"><FileText className="size-3.5" aria-hidden /></span>
        <span className="text-sm font-medium">{template.name}</span>
        {template.shortcut && <code className="rounded bg-muted px-1.5 py-0.5 font-mono text-[11px] text-muted-foreground">{template.shortcut}</code>}
        {rendered?.arm && <Badge variant="info"><FlaskConical aria-hidden /> {t("templates.composer.arm", { arm: rendered.arm })}</Badge>}
        <Button type="button" size="icon" variant="ghost" className="ml-auto size-7" onClick={onRemove} aria-label={t("templates.composer.remove")}>
          <X aria-hidden />
        </Button>
      </div>
      {prompts.length > 0 && (
        <div className="grid grid-cols-2 gap-2.5">
          {prompts.map((p, index) => (
            <div key={p.name} className="space-y-1">
              <label htmlFor={`${ids}-${p.name}`} className="block text-xs font-medium">
                {p.label}
                {required.includes(p.name) && <span className="text-destructive" aria-hidden> *</span>}
              </label>
              <Input
                id={`${ids}-${p.name}`}
                value={values[p.name] ?? ""}
                onChange={(e) => onValue(p.name, e.target.value)}
                required={required.includes(p.name)}
                autoFocus={index === 0}
                className="h-8"
                data-prompt={p.name}
              />
            </div>
          ))}
        </div>
      )}
      <div className="rounded-lg border border-border bg-muted/40 p-2.5" aria-live="polite">
        <div className="mb-1 flex items-center justify-between text-[11px] font-medium uppercase tracking-wide text-muted-foreground">
          <span className="flex items-center gap-1.5">
            {t("templates.composer.preview")}
            {rendered && <span className="normal-case tracking-normal">· {rendered.variant === "universal" ? t("templates.composer.universal") : rendered.variant.toLowerCase()}</span>}
            {loading && <Loader2 className="size-3 animate-spin" aria-hidden />}
          </span>
          {size && (
            <span className={cn("tabular-nums normal-case tracking-normal", size.over && "font-semibold text-destructive")}>
              {t(size.unit === "bytes" ? "templates.limit.bytes" : "templates.limit.chars", { size: size.size.toLocaleString(i18n.language), max: size.max.toLocaleString(i18n.language) })}
            </span>
          )}
        </div>
        {previewError ? (
          <p className="flex items-start gap-1.5 text-sm text-destructive"><AlertTriangle className="mt-0.5 size-4 shrink-0" aria-hidden /> {previewError}</p>
        ) : rendered ? (
          <>
            {rendered.subject && <p className="text-sm font-semibold">{rendered.subject}</p>}
            <p className="whitespace-pre-wrap break-words text-sm" data-testid="composer-preview">{rendered.text}</p>
            {rendered.buttons.length > 0 && (
              <div className="mt-2 flex flex-wrap gap-1.5">{rendered.buttons.map((b) => <Badge key={b.id} variant="outline">{b.title}</Badge>)}</div>
            )}
            {rendered.problems.map((p) => (
              <p key={p} role="alert" className="mt-1.5 flex items-start gap-1.5 text-xs font-medium text-destructive"><AlertTriangle className="mt-0.5 size-3.5 shrink-0" aria-hidden /> {p}</p>
            ))}
          </>
        ) : (
          <p className="text-sm text-muted-foreground">{t("templates.composer.rendering")}</p>
        )}
      </div>
    </div>
  );
}

/** renderTemplate for the picked template, again (debounced) whenever the prompts change; unfilled
 * prompts show as ‹their label›. */
export function useRendered(services: Services | null, template: PickedTemplate | null, conversationId: string | undefined, channelId: string | null, values: Record<string, string>) {
  const { t } = useTranslation();
  const [rendered, setRendered] = useState<Rendered | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const key = JSON.stringify(values);
  useEffect(() => {
    if (!services || !template || !conversationId) return;
    let live = true;
    setLoading(true);
    const variables: Record<string, string> = {};
    for (const p of template.content.prompts) variables[p.name] = values[p.name]?.trim() || `‹${p.label}›`;
    const timer = setTimeout(() => {
      void services.client
        .query<TplRenderQuery>(TPL_RENDER, { id: template.id, conversationId, channelId, variables }, { requestPolicy: "network-only" })
        .toPromise()
        .then((r) => {
          if (!live) return;
          setLoading(false);
          if (r.error || !r.data) {
            const e = explain(r.error, t);
            setError(e.detail ?? e.message);
          } else {
            setError(null);
            setRendered(r.data.renderTemplate);
          }
        });
    }, 200);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [services, template, conversationId, channelId, key]);
  useEffect(() => {
    if (!template) {
      setRendered(null);
      setError(null);
    }
  }, [template]);
  return { rendered, error, loading };
}
