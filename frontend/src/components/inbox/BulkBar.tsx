// Bulk changes on the ticked conversations (bulkUpdateConversations: up to 500 at once): assign,
// label, resolve. What the server could not change is listed per row, not thrown.
import { Check, ChevronDown, Tag, UserPlus, X } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import type { BulkUpdateMutation } from "@/api/graphql.generated";
import { BULK_UPDATE } from "@/api/operations";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuSeparator, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { Input } from "@/components/ui/input";
import { Popover, PopoverClose, PopoverContent, PopoverTrigger } from "@/components/ui/popover";
import { useServices } from "@/services";
import { useInbox } from "@/state/inbox";
import { useSelection, type RowError } from "@/state/selection";
import { useUi } from "@/state/ui";
import { useDirectory } from "./useDirectory";

export const BULK_MAX = 500;

export function BulkBar({ visibleIds }: { visibleIds: string[] }) {
  const { t } = useTranslation();
  const { client, me } = useServices();
  const ids = useSelection((s) => s.ids);
  const errors = useSelection((s) => s.errors);
  const { people, lead } = useDirectory();
  const showError = useUi((s) => s.showError);
  const [busy, setBusy] = useState(false);
  const [label, setLabel] = useState("");
  const updated = useSelection((s) => s.updated);
  const failed = Object.keys(errors).length;
  const all = visibleIds.length > 0 && visibleIds.every((id) => ids.includes(id));

  const apply = async (change: Record<string, unknown>) => {
    setBusy(true);
    const r = await client.mutation<BulkUpdateMutation>(BULK_UPDATE, { input: { conversationIds: ids.slice(0, BULK_MAX), ...change } }).toPromise();
    setBusy(false);
    if (r.error || !r.data) {
      const e = explain(r.error, t);
      return showError(e.message, e.code);
    }
    const { updated: changed, errors: rowErrors } = r.data.bulkUpdateConversations;
    for (const c of changed) useInbox.getState().touch(c);
    useSelection.getState().settle(changed.length, Object.fromEntries(rowErrors.map((e): [string, RowError] => [e.conversationId, { code: e.code, message: e.message }])));
  };

  return (
    <div className="space-y-1.5 border-b bg-secondary/40 px-3 py-2" role="region" aria-label={t("inbox-plus.bulkActions")}>
      <div className="flex items-center gap-2">
        <Checkbox checked={all ? true : ids.length ? "indeterminate" : false} aria-label={t("inbox-plus.selectAll")}
          onCheckedChange={() => useSelection.getState().set(all ? [] : visibleIds.slice(0, BULK_MAX))} />
        <span className="text-xs font-medium" aria-live="polite" data-testid="bulk-count">{t("inbox-plus.selected", { count: ids.length })}</span>
        <Button variant="ghost" size="icon" className="ml-auto size-6" onClick={() => useSelection.getState().clear()} aria-label={t("inbox-plus.clearSelection")}>
          <X className="size-3.5" aria-hidden />
        </Button>
      </div>
      <div className="flex items-center gap-1.5">
        <DropdownMenu>
          <DropdownMenuTrigger asChild>
            <Button variant="outline" size="sm" className="h-7 gap-1 px-2 text-xs" disabled={busy || ids.length === 0}>
              <UserPlus aria-hidden className="size-3.5" /> {t("inbox-plus.assign")} <ChevronDown aria-hidden className="size-3" />
            </Button>
          </DropdownMenuTrigger>
          <DropdownMenuContent align="start">
            <DropdownMenuItem onSelect={() => void apply({ assigneeId: me.id })}>{t("inbox-plus.toMe")}</DropdownMenuItem>
            <DropdownMenuItem onSelect={() => void apply({ unassign: true })}>{t("inbox-plus.unassign")}</DropdownMenuItem>
            {lead && people.length > 0 && <DropdownMenuSeparator />}
            {lead && people.length > 0 && <DropdownMenuLabel>{t("inbox-plus.assignTo")}</DropdownMenuLabel>}
            {lead && people.filter((p) => p.id !== me.id).map((p) => <DropdownMenuItem key={p.id} onSelect={() => void apply({ assigneeId: p.id })}>{p.name}</DropdownMenuItem>)}
          </DropdownMenuContent>
        </DropdownMenu>
        <Popover>
          <PopoverTrigger asChild>
            <Button variant="outline" size="sm" className="h-7 gap-1 px-2 text-xs" disabled={busy || ids.length === 0}>
              <Tag aria-hidden className="size-3.5" /> {t("inbox-plus.label")}
            </Button>
          </PopoverTrigger>
          <PopoverContent align="start" className="w-60 space-y-2">
            <Input value={label} onChange={(e) => setLabel(e.target.value)} placeholder={t("inbox-plus.labelPlaceholder")} aria-label={t("inbox-plus.label")} className="h-8 text-xs" />
            <div className="flex justify-end gap-1.5">
              <PopoverClose asChild>
                <Button size="sm" variant="outline" className="h-7 text-xs" disabled={!label.trim()} onClick={() => void apply({ removeLabels: [label.trim()] }).then(() => setLabel(""))}>{t("inbox-plus.removeLabel")}</Button>
              </PopoverClose>
              <PopoverClose asChild>
                <Button size="sm" className="h-7 text-xs" disabled={!label.trim()} onClick={() => void apply({ addLabels: [label.trim()] }).then(() => setLabel(""))}>{t("inbox-plus.addLabel")}</Button>
              </PopoverClose>
            </div>
          </PopoverContent>
        </Popover>
        <Button variant="success" size="sm" className="h-7 gap-1 px-2 text-xs" disabled={busy || ids.length === 0} onClick={() => void apply({ status: "RESOLVED" })}>
          <Check aria-hidden className="size-3.5" /> {t("conversation.resolve")}
        </Button>
      </div>
      {updated !== null && (
        <p className="text-[11px]" role="status" data-testid="bulk-result">
          {t("inbox-plus.bulkDone", { count: updated })} {failed > 0 && <span className="font-medium text-destructive">{t("inbox-plus.bulkFailed", { count: failed })}</span>}
        </p>
      )}
    </div>
  );
}
