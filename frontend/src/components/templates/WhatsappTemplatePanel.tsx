// The composer when WhatsApp's 24-hour window is closed: only an approved template is delivered, so
// the agent picks one of the channel's APPROVED templates and fills its parameters.
import { Clock, Loader2 } from "lucide-react";
import { useEffect, useId, useState } from "react";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import type { TplWhatsappQuery } from "@/api/graphql.generated";
import { TPL_WHATSAPP } from "@/api/ops/templates";
import type { Services } from "@/services";
import { Input } from "../ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "../ui/select";
import { waPreview, type WaParameter } from "./logic";

export type WaTemplate = TplWhatsappQuery["whatsappTemplates"][number];

export function useApprovedTemplates(services: Services | null, channelId: string | null, enabled: boolean) {
  const { t } = useTranslation();
  const [list, setList] = useState<WaTemplate[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!services || !channelId || !enabled) return;
    let live = true;
    setList(null);
    void services.client
      .query<TplWhatsappQuery>(TPL_WHATSAPP, { channelId, status: "APPROVED" }, { requestPolicy: "network-only" })
      .toPromise()
      .then((r) => {
        if (!live) return;
        if (r.error || !r.data) setError(explain(r.error, t).message);
        else setList(r.data.whatsappTemplates);
      });
    return () => {
      live = false;
    };
  }, [services, channelId, enabled, t]);
  return { list, error };
}

export const paramKey = (p: WaParameter) => `${p.part}|${p.name}`;

function paramLabel(p: WaParameter, t: TFunction): string {
  const part = p.part.startsWith("button ") ? t("templates.composer.waButton", { n: Number(p.part.slice(7)) + 1 }) : t(`templates.composer.waPart.${p.part}`, { defaultValue: p.part });
  if (p.type === "text") return `${part} · {{${p.name}}}`;
  return `${part} · ${t(`templates.composer.waType.${p.type}`, { defaultValue: p.type })}`;
}

export function WhatsappTemplatePanel({
  list,
  error,
  selected,
  onSelect,
  values,
  onValue,
}: {
  list: WaTemplate[] | null;
  error: string | null;
  selected: WaTemplate | null;
  onSelect: (t: WaTemplate | null) => void;
  values: Record<string, string>;
  onValue: (key: string, value: string) => void;
}) {
  const { t } = useTranslation();
  const ids = useId();
  const keyOf = (w: WaTemplate) => `${w.name}|${w.language}`;
  return (
    <div className="space-y-3 px-3 py-2.5" data-testid="composer-whatsapp">
      <p className="flex items-start gap-2 rounded-md bg-warning-soft px-2.5 py-2 text-xs text-warning-strong">
        <Clock className="mt-0.5 size-3.5 shrink-0" aria-hidden /> {t("templates.composer.windowClosed")}
      </p>
      {error ? (
        <p role="alert" className="text-sm text-destructive">{error}</p>
      ) : list === null ? (
        <p className="flex items-center gap-2 text-sm text-muted-foreground"><Loader2 className="size-4 animate-spin" aria-hidden /> {t("templates.composer.waLoading")}</p>
      ) : list.length === 0 ? (
        <p className="text-sm text-muted-foreground">{t("templates.composer.waNone")}</p>
      ) : (
        <>
          <Select value={selected ? keyOf(selected) : undefined} onValueChange={(v) => onSelect(list.find((w) => keyOf(w) === v) ?? null)}>
            <SelectTrigger className="h-8" aria-label={t("templates.composer.waPick")}>
              <SelectValue placeholder={t("templates.composer.waPick")} />
            </SelectTrigger>
            <SelectContent>
              {list.map((w) => (
                <SelectItem key={keyOf(w)} value={keyOf(w)}>
                  <span className="font-mono text-xs">{w.name}</span> <span className="text-muted-foreground">· {w.language}</span>
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
          {selected && (
            <>
              {selected.parameters.length > 0 && (
                <div className="grid grid-cols-2 gap-2.5">
                  {selected.parameters.map((p) => (
                    <div key={paramKey(p)} className="space-y-1">
                      <label htmlFor={`${ids}-${paramKey(p)}`} className="block text-xs font-medium">
                        {paramLabel(p, t)}
                        {!p.optional && <span className="text-destructive" aria-hidden> *</span>}
                      </label>
                      <Input
                        id={`${ids}-${paramKey(p)}`}
                        value={values[paramKey(p)] ?? ""}
                        onChange={(e) => onValue(paramKey(p), e.target.value)}
                        placeholder={p.type === "text" || p.type === "coupon_code" || p.type === "payload" ? undefined : p.type === "location" ? "-23.55, -46.63" : "https://"}
                        className="h-8"
                      />
                    </div>
                  ))}
                </div>
              )}
              <div className="rounded-lg border border-border bg-muted/40 p-2.5">
                <p className="mb-1 text-[11px] font-medium uppercase tracking-wide text-muted-foreground">{t("templates.composer.preview")}</p>
                <p className="whitespace-pre-wrap break-words text-sm">{waPreview(selected.components, values)}</p>
              </div>
            </>
          )}
        </>
      )}
    </div>
  );
}
