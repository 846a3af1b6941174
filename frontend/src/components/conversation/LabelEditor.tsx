// The conversation's labels: add (Enter) and remove (×); the server keeps them case-insensitive,
// at most 20, 50 characters each.
import { Plus, X } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import { CHANGE_LABELS } from "@/api/operations";
import type { Conversation } from "@/api/types";
import { Input } from "@/components/ui/input";
import { useServices } from "@/services";
import { useInbox } from "@/state/inbox";

export function labelProblem(label: string, current: string[]): "empty" | "long" | "duplicate" | "many" | null {
  const l = label.trim();
  if (!l) return "empty";
  if (l.length > 50) return "long";
  if (current.some((x) => x.toLowerCase() === l.toLowerCase())) return "duplicate";
  if (current.length >= 20) return "many";
  return null;
}

export function LabelEditor({ c }: { c: Conversation }) {
  const { t } = useTranslation();
  const { client } = useServices();
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);
  const change = async (variables: { add?: string[]; remove?: string[] }) => {
    const r = await client.mutation<{ changeConversationLabels: Conversation }>(CHANGE_LABELS, { id: c.id, ...variables }).toPromise();
    if (r.error || !r.data) return setError(explain(r.error, t).message), false;
    useInbox.getState().touch(r.data.changeConversationLabels);
    return true;
  };
  const add = async () => {
    const problem = labelProblem(draft, c.labels);
    if (problem) return setError(problem === "empty" ? null : t(`inbox-plus.labelError.${problem}`));
    if (await change({ add: [draft.trim()] })) setDraft("");
  };
  return (
    <div className="space-y-2">
      <ul className="flex flex-wrap gap-1" aria-label={t("conversation.labels")}>
        {c.labels.length === 0 && <li className="text-xs text-muted-foreground">{t("conversation.noLabels")}</li>}
        {c.labels.map((l) => (
          <li key={l} className="inline-flex items-center gap-0.5 rounded-full bg-info-soft py-0.5 pl-2 pr-0.5 text-[11px] font-medium text-info-strong" data-label={l}>
            {l}
            <button type="button" onClick={() => void change({ remove: [l] })} aria-label={t("inbox-plus.removeLabelNamed", { name: l })}
              className="rounded-full p-0.5 hover:bg-background/70 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
              <X className="size-3" aria-hidden />
            </button>
          </li>
        ))}
      </ul>
      <form className="relative" onSubmit={(e) => { e.preventDefault(); void add(); }}>
        <Plus className="pointer-events-none absolute left-2 top-1/2 size-3.5 -translate-y-1/2 text-muted-foreground" aria-hidden />
        <Input value={draft} onChange={(e) => { setDraft(e.target.value); setError(null); }} placeholder={t("inbox-plus.addLabelPlaceholder")}
          aria-label={t("inbox-plus.addLabel")} className="h-7 pl-7 text-xs" aria-invalid={error ? true : undefined} />
      </form>
      {error && <p role="alert" className="text-[11px] font-medium text-destructive">{error}</p>}
    </div>
  );
}
