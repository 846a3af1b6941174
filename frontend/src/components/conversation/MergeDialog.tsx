// Merge another customer into this one (their identities and conversations move here; splitIdentity
// undoes it): find them by name, phone, e-mail or handle, pick, confirm.
import { Search } from "lucide-react";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import type { FindCustomersQuery } from "@/api/graphql.generated";
import { FIND_CUSTOMERS, MERGE_CUSTOMERS } from "@/api/ops/inbox-plus";
import { PlatformIcon } from "@/components/PlatformIcon";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Avatar, Skeleton } from "@/components/ui/misc";
import { useServices } from "@/services";
import { useUi } from "@/state/ui";

type Found = FindCustomersQuery["search"]["edges"][number]["node"]["customer"];

/** The distinct customers behind search hits, this one left out. */
export function candidates(edges: FindCustomersQuery["search"]["edges"], exclude: string): Found[] {
  const seen = new Map<string, Found>();
  for (const e of edges) if (e.node.customer.id !== exclude && !seen.has(e.node.customer.id)) seen.set(e.node.customer.id, e.node.customer);
  return [...seen.values()];
}

export function MergeDialog({ customer, open, onOpenChange, onMerged }: { customer: { id: string; name: string | null; phone: string | null }; open: boolean; onOpenChange: (o: boolean) => void; onMerged: () => void }) {
  const { t } = useTranslation();
  const { client } = useServices();
  const showError = useUi((s) => s.showError);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<FindCustomersQuery["search"]["edges"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<Found | null>(null);
  useEffect(() => {
    const text = query.trim();
    if (text.length < 2) return setFound(null);
    let live = true;
    const timer = setTimeout(async () => {
      const r = await client.query<FindCustomersQuery>(FIND_CUSTOMERS, { query: text }, { requestPolicy: "network-only" }).toPromise();
      if (!live) return;
      if (r.error) return setError(explain(r.error, t).message);
      setError(null);
      setFound(r.data?.search.edges ?? []);
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [query, client, t]);
  const list = useMemo(() => (found ? candidates(found, customer.id) : []), [found, customer.id]);
  const thisName = customer.name || customer.phone || "—";
  const merge = async () => {
    if (!picked) return;
    const r = await client.mutation(MERGE_CUSTOMERS, { sourceId: picked.id, targetId: customer.id }).toPromise();
    setPicked(null);
    if (r.error) {
      const e = explain(r.error, t);
      return showError(e.message, e.code);
    }
    setQuery("");
    onOpenChange(false);
    onMerged();
  };

  return (
    <>
      <Dialog open={open} onOpenChange={onOpenChange}>
        <DialogContent title={t("inbox-plus.mergeTitle", { name: thisName })} description={t("inbox-plus.mergeHint")} closeLabel={t("shortcuts.close")}>
          <div className="relative">
            <Search className="pointer-events-none absolute left-2.5 top-1/2 size-4 -translate-y-1/2 text-muted-foreground" aria-hidden />
            <Input value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t("inbox-plus.mergeSearch")} aria-label={t("inbox-plus.mergeSearch")} className="pl-8" autoFocus />
          </div>
          <div className="mt-3 max-h-72 min-h-24 overflow-y-auto">
            {error ? (
              <p role="alert" className="text-sm text-destructive">{error}</p>
            ) : query.trim().length < 2 ? (
              <p className="py-6 text-center text-sm text-muted-foreground">{t("inbox-plus.mergeType")}</p>
            ) : found === null ? (
              <Skeleton className="h-12 w-full" />
            ) : list.length === 0 ? (
              <p className="py-6 text-center text-sm text-muted-foreground">{t("inbox-plus.mergeNone")}</p>
            ) : (
              <ul className="divide-y rounded-md border" aria-label={t("inbox-plus.mergeCandidates")}>
                {list.map((f) => (
                  <li key={f.id}>
                    <button type="button" onClick={() => setPicked(f)} data-candidate={f.name ?? f.phone ?? f.id}
                      className="flex w-full items-center gap-3 px-3 py-2 text-left hover:bg-muted focus-visible:bg-muted focus-visible:outline-none">
                      <Avatar name={f.name ?? f.phone} className="size-8" />
                      <span className="min-w-0 flex-1">
                        <span className="block truncate text-sm font-medium">{f.name || f.phone || "—"}</span>
                        <span className="block truncate text-xs text-muted-foreground">{[f.phone, f.email].filter(Boolean).join(" · ")}</span>
                      </span>
                      <span className="flex gap-1">{f.identities.map((i) => <PlatformIcon key={i.id} platform={i.platform} className="ring-0" />)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </DialogContent>
      </Dialog>
      <AlertDialog open={picked !== null} onOpenChange={(o) => !o && setPicked(null)}>
        <AlertDialogContent
          title={t("inbox-plus.mergeConfirmTitle")}
          description={t("inbox-plus.mergeConfirm", { source: picked?.name || picked?.phone || "—", target: thisName })}
          cancelLabel={t("inbox-plus.cancel")}
          confirmLabel={t("inbox-plus.merge")}
          destructive={false}
          onConfirm={() => void merge()}
        />
      </AlertDialog>
    </>
  );
}
