// The flow's runs, newest first, refreshed every few seconds: status, where each stands, its
// conversation; an unfinished one can be cancelled.
import { Activity, ExternalLink, Square } from "lucide-react";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useMutation, useQuery } from "urql";
import { CANCEL_FLOW_EXECUTION, FLOW_EXECUTIONS } from "@/api/ops/flows";
import type { FlowExecutionsQuery } from "@/api/graphql.generated";
import { ErrorState } from "@/components/ErrorState";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";

export const UNFINISHED = ["running", "waiting", "paused"];
export const STATUS_VARIANT: Record<string, "success" | "warning" | "danger" | "info" | "outline" | "secondary"> = {
  running: "info", waiting: "warning", paused: "secondary", completed: "success", cancelled: "outline", failed: "danger",
};
const REFRESH_MS = 4000;

export function RunsPanel({ flowId }: { flowId: string }) {
  const { t, i18n } = useTranslation();
  const [{ data, fetching, error }, reload] = useQuery<FlowExecutionsQuery>({ query: FLOW_EXECUTIONS, variables: { flowId }, requestPolicy: "cache-and-network" });
  const [, cancel] = useMutation(CANCEL_FLOW_EXECUTION);
  const [cancelling, setCancelling] = useState<string | null>(null);
  const [cancelError, setCancelError] = useState<unknown>(null);
  useEffect(() => {
    const timer = setInterval(() => reload({ requestPolicy: "network-only" }), REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  if (error && !data) return <ErrorState error={error} onRetry={() => reload({ requestPolicy: "network-only" })} />;
  if (fetching && !data) return <div className="space-y-2 pt-2">{[0, 1, 2].map((i) => <Skeleton key={i} className="h-16" />)}</div>;
  const runs = data?.flowExecutions ?? [];
  if (!runs.length) return <EmptyState icon={<Activity />} title={t("flows.runs.empty")} description={t("flows.runs.emptyText")} />;
  const format = new Intl.DateTimeFormat(i18n.language, { dateStyle: "short", timeStyle: "medium" });
  const doCancel = async () => {
    if (!cancelling) return;
    const result = await cancel({ id: cancelling });
    setCancelling(null);
    setCancelError(result.error ?? null);
    reload({ requestPolicy: "network-only" });
  };
  return (
    <div className="space-y-2 pt-1">
      {cancelError != null && <ErrorState error={cancelError} compact />}
      <p className="flex items-center gap-1.5 text-xs text-muted-foreground">
        <span className="size-2 animate-pulse rounded-full bg-emerald-500" aria-hidden /> {t("flows.runs.live")}
      </p>
      <ul className="space-y-2" aria-label={t("flows.tabs.runs")}>
        {runs.map((run) => (
          <li key={run.id} className="rounded-lg border border-border p-3" data-run={run.status}>
            <div className="flex items-center gap-2">
              <Badge variant={STATUS_VARIANT[run.status] ?? "outline"}>{t(`flows.runs.status.${run.status}`, { defaultValue: run.status })}</Badge>
              <span className="font-mono text-xs text-muted-foreground">v{run.flowVersion}</span>
              <span className="ml-auto text-xs text-muted-foreground">{format.format(new Date(run.startedAt))}</span>
            </div>
            <dl className="mt-2 grid grid-cols-[6rem_1fr] gap-x-2 gap-y-0.5 text-xs">
              <dt className="text-muted-foreground">{t("flows.runs.node")}</dt>
              <dd className="truncate font-mono">{run.currentNode ?? "—"}</dd>
              <dt className="text-muted-foreground">{t("flows.runs.trigger")}</dt>
              <dd className="truncate">{run.trigger}</dd>
              {run.reason && (
                <>
                  <dt className="text-muted-foreground">{t("flows.runs.reason")}</dt>
                  <dd className="truncate">{run.reason}</dd>
                </>
              )}
            </dl>
            <div className="mt-2 flex items-center justify-between">
              <Link to={`/inbox/${run.conversationId}`} className="inline-flex items-center gap-1 text-xs font-medium text-primary hover:underline">
                <ExternalLink className="size-3" aria-hidden /> {t("flows.runs.conversation")}
              </Link>
              {UNFINISHED.includes(run.status) && (
                <Button variant="outline" size="sm" onClick={() => setCancelling(run.id)}>
                  <Square aria-hidden /> {t("flows.runs.cancel")}
                </Button>
              )}
            </div>
          </li>
        ))}
      </ul>
      <AlertDialog open={cancelling !== null} onOpenChange={(o) => !o && setCancelling(null)}>
        <AlertDialogContent
          title={t("flows.runs.cancelTitle")}
          description={t("flows.runs.cancelText")}
          cancelLabel={t("flows.common.keep")}
          confirmLabel={t("flows.runs.cancel")}
          onConfirm={() => void doCancel()}
        />
      </AlertDialog>
    </div>
  );
}
