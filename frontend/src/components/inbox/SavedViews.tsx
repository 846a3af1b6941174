// Saved views: named filters (and search text), each with its count kept live by the server
// (savedViewCounts). A click shows the view; the current filter can be saved as a new one.
import { Bookmark, BookmarkPlus, Trash2 } from "lucide-react";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";
import { explain } from "@/api/errors";
import type { SavedViewsQuery, SaveViewMutation } from "@/api/graphql.generated";
import { DELETE_VIEW, SAVE_VIEW, SAVED_VIEWS, VIEW_COUNTS } from "@/api/ops/inbox-plus";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { cn } from "@/lib/utils";
import { useServices } from "@/services";
import { sameFilter, serverFilter, viewToFilter } from "@/state/filters";
import { useUi } from "@/state/ui";

type View = SavedViewsQuery["savedViews"][number];

function useLiveCounts(views: View[]): Record<string, number> {
  const { live } = useServices();
  const [counts, setCounts] = useState<Record<string, number>>({});
  const key = views.map((v) => v.id).join(",");
  useEffect(() => {
    if (!key) return;
    return live.subscribe<{ savedViewCounts: { viewId: string; count: number }[] }>(
      { query: VIEW_COUNTS },
      {
        next: (r) => r.data && setCounts(Object.fromEntries(r.data.savedViewCounts.map((c) => [c.viewId, c.count]))),
        error: () => undefined, // the link dot shows the connection; the last counts stay
        complete: () => undefined,
      },
    );
  }, [live, key]);
  return counts;
}

function SaveViewDialog({ open, onOpenChange, onSaved }: { open: boolean; onOpenChange: (o: boolean) => void; onSaved: () => void }) {
  const { t } = useTranslation();
  const { client, me } = useServices();
  const filter = useUi((s) => s.filter);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const save = async () => {
    const trimmed = name.trim();
    if (!trimmed) return setError(t("inbox-plus.viewNameRequired"));
    if (trimmed.length > 100) return setError(t("inbox-plus.viewNameLong"));
    setBusy(true);
    const r = await client.mutation<SaveViewMutation>(SAVE_VIEW, { name: trimmed, filter: serverFilter(filter, me.id), query: filter.text.trim() || null }).toPromise();
    setBusy(false);
    if (r.error) return setError(explain(r.error, t).code === "CONFLICT" ? t("inbox-plus.viewExists") : explain(r.error, t).message);
    setName("");
    setError(undefined);
    onOpenChange(false);
    onSaved();
  };
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent title={t("inbox-plus.saveView")} description={t("inbox-plus.saveViewHint")} closeLabel={t("shortcuts.close")}>
        <form className="space-y-4" onSubmit={(e) => { e.preventDefault(); void save(); }}>
          <Field label={t("inbox-plus.viewName")} error={error}>
            <Input value={name} onChange={(e) => { setName(e.target.value); setError(undefined); }} placeholder={t("inbox-plus.viewNamePlaceholder")} autoFocus />
          </Field>
          <div className="flex justify-end gap-2">
            <Button type="button" variant="outline" onClick={() => onOpenChange(false)}>{t("inbox-plus.cancel")}</Button>
            <Button type="submit" disabled={busy}>{t("inbox-plus.save")}</Button>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  );
}

export function SavedViews() {
  const { t } = useTranslation();
  const { client, me } = useServices();
  const filter = useUi((s) => s.filter);
  const setFilter = useUi((s) => s.setFilter);
  const showError = useUi((s) => s.showError);
  const [{ data, error }, reload] = useQuery<SavedViewsQuery>({ query: SAVED_VIEWS, requestPolicy: "cache-and-network" });
  const views = useMemo(() => data?.savedViews ?? [], [data]);
  const counts = useLiveCounts(views);
  const [saving, setSaving] = useState(false);
  const refresh = () => reload({ requestPolicy: "network-only" });
  const remove = async (v: View) => {
    const r = await client.mutation(DELETE_VIEW, { id: v.id }).toPromise();
    if (r.error) {
      const e = explain(r.error, t);
      return showError(e.message, e.code);
    }
    refresh();
  };

  return (
    <section aria-label={t("inbox-plus.views")} className="px-3 pb-2">
      <div className="flex items-center gap-1 overflow-x-auto pb-0.5" data-testid="saved-views">
        {error && views.length === 0 && <span className="text-[11px] text-destructive">{explain(error, t).message}</span>}
        {views.map((v) => {
          const on = sameFilter(filter, viewToFilter(v.filter, v.query, me.id));
          const count = counts[v.id] ?? v.count;
          return (
            <span key={v.id} className={cn("group inline-flex shrink-0 items-center rounded-full border text-[11px] font-medium transition-colors", on ? "border-primary bg-primary/10 text-primary" : "bg-background hover:bg-muted")}>
              <button type="button" aria-pressed={on} data-view={v.name} onClick={() => setFilter(viewToFilter(v.filter, v.query, me.id))}
                className="inline-flex items-center gap-1.5 rounded-full py-1 pl-2.5 pr-1.5 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
                <Bookmark className="size-3" aria-hidden /> {v.name}
                <span className="rounded-full bg-muted px-1.5 tabular-nums text-foreground" data-view-count={count}>{count}</span>
              </button>
              <button type="button" onClick={() => void remove(v)} aria-label={t("inbox-plus.deleteView", { name: v.name })}
                className="mr-0.5 rounded-full p-1 text-muted-foreground opacity-0 hover:text-destructive focus-visible:opacity-100 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring group-hover:opacity-100">
                <Trash2 className="size-3" aria-hidden />
              </button>
            </span>
          );
        })}
        <button type="button" onClick={() => setSaving(true)}
          className="inline-flex shrink-0 items-center gap-1 rounded-full border border-dashed px-2.5 py-1 text-[11px] text-muted-foreground hover:bg-muted hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
          <BookmarkPlus className="size-3" aria-hidden /> {t("inbox-plus.saveView")}
        </button>
      </div>
      <SaveViewDialog open={saving} onOpenChange={setSaving} onSaved={refresh} />
    </section>
  );
}
