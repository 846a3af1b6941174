// The audit log's filters: who, what (exact or a prefix ending in "."), the target's type and a
// date range. Applied together, so one query per change the admin means.
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import type { AdminAuditActorsQuery } from "@/api/graphql.generated";
import { Button } from "@/components/ui/button";
import { Input, Label } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";

export interface AuditFilterValues {
  actor: string;
  action: string;
  targetType: string;
  from: string;
  to: string;
}
export const NO_FILTER: AuditFilterValues = { actor: "", action: "", targetType: "", from: "", to: "" };
const ANYONE = "_anyone";

export function AuditFilters({ actors, value, onApply }: { actors: AdminAuditActorsQuery | undefined; value: AuditFilterValues; onApply: (v: AuditFilterValues) => void }) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState(value);
  const set = (patch: Partial<AuditFilterValues>) => setDraft((d) => ({ ...d, ...patch }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ ...draft, action: draft.action.trim(), targetType: draft.targetType.trim() });
  };
  return (
    <form onSubmit={submit} className="mb-4 grid grid-cols-[minmax(0,1.4fr)_repeat(4,minmax(0,1fr))_auto] items-start gap-3 rounded-xl border border-border bg-muted/30 p-3" aria-label={t("integrations.audit.filters")}>
      <div className="space-y-1">
        <Label htmlFor="audit-actor" className="text-xs">{t("integrations.audit.actor")}</Label>
        <Select value={draft.actor || ANYONE} onValueChange={(v) => set({ actor: v === ANYONE ? "" : v })}>
          <SelectTrigger id="audit-actor" className="h-9 bg-background text-sm">
            <SelectValue />
          </SelectTrigger>
          <SelectContent>
            <SelectItem value={ANYONE}>{t("integrations.audit.anyone")}</SelectItem>
            {actors?.users.map((u) => (
              <SelectItem key={u.id} value={u.id}>
                {u.name}
              </SelectItem>
            ))}
            {actors?.apiKeys.map((k) => (
              <SelectItem key={k.id} value={k.id}>
                {t("integrations.audit.keyActor", { name: k.name })}
              </SelectItem>
            ))}
          </SelectContent>
        </Select>
      </div>
      <div className="space-y-1">
        <Label htmlFor="audit-action" className="text-xs">{t("integrations.audit.action")}</Label>
        <Input id="audit-action" className="bg-background" value={draft.action} onChange={(e) => set({ action: e.target.value })} placeholder="channel." />
      </div>
      <div className="space-y-1">
        <Label htmlFor="audit-target" className="text-xs">{t("integrations.audit.targetType")}</Label>
        <Input id="audit-target" className="bg-background" value={draft.targetType} onChange={(e) => set({ targetType: e.target.value })} placeholder="ApiKey" />
      </div>
      <div className="space-y-1">
        <Label htmlFor="audit-from" className="text-xs">{t("integrations.audit.from")}</Label>
        <Input id="audit-from" type="date" className="bg-background" value={draft.from} onChange={(e) => set({ from: e.target.value })} />
      </div>
      <div className="space-y-1">
        <Label htmlFor="audit-to" className="text-xs">{t("integrations.audit.to")}</Label>
        <Input id="audit-to" type="date" className="bg-background" value={draft.to} onChange={(e) => set({ to: e.target.value })} />
      </div>
      <div className="flex gap-2 self-end">
        <Button type="submit">{t("integrations.audit.apply")}</Button>
        <Button
          type="button"
          variant="ghost"
          onClick={() => {
            setDraft(NO_FILTER);
            onApply(NO_FILTER);
          }}
        >
          {t("integrations.audit.clear")}
        </Button>
      </div>
    </form>
  );
}
