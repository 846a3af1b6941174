// One endpoint's delivery log, newest first: status, attempts, the last HTTP status and duration,
// the next attempt; each opening to its attempts and the exact body; replay one, or a time range.
import { ArrowLeft, ChevronDown, ChevronRight, Inbox, RotateCcw } from "lucide-react";
import { Fragment, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useClient, useMutation } from "urql";
import type {
  AdminReplayWebhookDeliveriesMutation,
  AdminReplayWebhookDeliveriesMutationVariables,
  AdminWebhookDeliveriesQuery,
  AdminWebhookDeliveriesQueryVariables,
  WebhookDeliveryStatus,
} from "@/api/graphql.generated";
import { ADMIN_REPLAY_WEBHOOK_DELIVERIES, ADMIN_WEBHOOK_DELIVERIES } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { ListScaffold, ListSkeleton, useListQuery } from "@/components/ListScaffold";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { useActionError, useFormatDate } from "../common";
import type { Endpoint } from "./endpoint";
import { ReplayRangeDialog } from "./ReplayRangeDialog";

type Delivery = AdminWebhookDeliveriesQuery["webhookDeliveries"][number];
const STATUSES: (WebhookDeliveryStatus | null)[] = [null, "PENDING", "SUCCEEDED", "FAILED"];
const STATUS_VARIANT = { PENDING: "warning", SUCCEEDED: "success", FAILED: "danger" } as const;

/** The body as sent, indented when it is JSON (it always is; the exact bytes stay in the API). */
function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const { t } = useTranslation();
  const date = useFormatDate();
  const client = useClient();
  const [status, setStatus] = useState<WebhookDeliveryStatus | null>(null);
  const state = useListQuery<AdminWebhookDeliveriesQuery, AdminWebhookDeliveriesQueryVariables>({
    query: ADMIN_WEBHOOK_DELIVERIES,
    variables: { endpointId: endpoint.id, status, before: null },
    requestPolicy: "network-only",
  });
  const { data, retry: refresh } = state;
  const [older, setOlder] = useState<Delivery[]>([]);
  const [exhausted, setExhausted] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const [rangeOpen, setRangeOpen] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [, replay] = useMutation<AdminReplayWebhookDeliveriesMutation, AdminReplayWebhookDeliveriesMutationVariables>(ADMIN_REPLAY_WEBHOOK_DELIVERIES);
  const { setError, toast } = useActionError();
  useEffect(() => {
    setOlder([]);
    setExhausted(false);
  }, [data]);

  const rows = [...(data?.webhookDeliveries ?? []), ...older];
  const canLoadMore = !exhausted && rows.length > 0 && rows.length % 50 === 0;
  const loadOlder = async () => {
    const r = await client
      .query<AdminWebhookDeliveriesQuery, AdminWebhookDeliveriesQueryVariables>(ADMIN_WEBHOOK_DELIVERIES, { endpointId: endpoint.id, status, before: rows[rows.length - 1].cursor }, { requestPolicy: "network-only" })
      .toPromise();
    if (r.error || !r.data) return setError(r.error);
    setOlder((o) => [...o, ...r.data!.webhookDeliveries]);
    if (r.data.webhookDeliveries.length < 50) setExhausted(true);
  };
  const replayed = (count: number) => {
    setNotice(t("integrations.webhooks.replayed", { count }));
    refresh();
  };
  const replayOne = async (d: Delivery) => {
    const r = await replay({ deliveryId: d.id });
    if (r.error) return setError(r.error);
    replayed(r.data?.replayWebhookDeliveries ?? 0);
  };

  const actions = (
    <>
      <Button variant="ghost" asChild>
        <Link to="/admin/webhooks">
          <ArrowLeft aria-hidden /> {t("integrations.webhooks.back")}
        </Link>
      </Button>
      <Button variant="outline" onClick={() => setRangeOpen(true)}>
        <RotateCcw aria-hidden /> {t("integrations.webhooks.replayRange")}
      </Button>
    </>
  );
  return (
    <AdminFrame title={t("integrations.webhooks.logTitle")} description={endpoint.url} actions={actions}>
      <div className="mb-4 flex items-center justify-between gap-4">
        <div role="group" aria-label={t("integrations.webhooks.statusFilter")} className="inline-flex rounded-lg bg-muted p-1">
          {STATUSES.map((s) => (
            <button
              key={s ?? "ALL"}
              type="button"
              aria-pressed={status === s}
              onClick={() => setStatus(s)}
              className="rounded-md px-3 py-1 text-sm font-medium text-muted-foreground transition focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring aria-pressed:bg-background aria-pressed:text-foreground aria-pressed:shadow-sm"
            >
              {t(`integrations.webhooks.status.${s ?? "ALL"}`)}
            </button>
          ))}
        </div>
        {notice && (
          <p role="status" className="text-sm text-success-strong">
            {notice}
          </p>
        )}
      </div>
      <ListScaffold
        state={state}
        isEmpty={() => rows.length === 0}
        empty={<EmptyState icon={<Inbox />} title={t("integrations.webhooks.noDeliveries")} description={t(status ? "integrations.webhooks.noDeliveriesFiltered" : "integrations.webhooks.noDeliveriesText")} />}
        skeleton={<ListSkeleton rows={6} />}
      >
        {() => (
          <>
            <Table aria-label={t("integrations.webhooks.logTitle")}>
              <THead>
                <Tr>
                  <Th className="w-8">
                    <span className="sr-only">{t("integrations.audit.details")}</span>
                  </Th>
                  <Th>{t("integrations.webhooks.event")}</Th>
                  <Th>{t("integrations.webhooks.createdAt")}</Th>
                  <Th>{t("integrations.common.status")}</Th>
                  <Th numeric>{t("integrations.webhooks.attempts")}</Th>
                  <Th numeric>{t("integrations.webhooks.httpStatus")}</Th>
                  <Th numeric>{t("integrations.webhooks.duration")}</Th>
                  <Th>{t("integrations.webhooks.nextAttempt")}</Th>
                  <Th>
                    <span className="sr-only">{t("integrations.common.actions")}</span>
                  </Th>
                </Tr>
              </THead>
              <TBody>
                {rows.map((d) => {
                  const last = d.attemptLog[d.attemptLog.length - 1];
                  const expanded = open === d.id;
                  return (
                    <Fragment key={d.id}>
                      <Tr data-delivery={d.eventType}>
                        <Td className="pr-0">
                          <Button variant="ghost" size="icon" className="size-7" aria-expanded={expanded} aria-label={t("integrations.webhooks.showAttempts", { event: d.eventType })} onClick={() => setOpen(expanded ? null : d.id)}>
                            {expanded ? <ChevronDown aria-hidden /> : <ChevronRight aria-hidden />}
                          </Button>
                        </Td>
                        <Td>
                          <code className="font-mono text-xs">{d.eventType}</code>
                          {d.replayOf && <Badge variant="outline" className="ml-1.5">{t("integrations.webhooks.replay")}</Badge>}
                        </Td>
                        <Td className="whitespace-nowrap">{date(d.createdAt)}</Td>
                        <Td>
                          <Badge variant={STATUS_VARIANT[d.status]}>{t(`integrations.webhooks.status.${d.status}`)}</Badge>
                        </Td>
                        <Td numeric>{d.attempts}</Td>
                        <Td numeric className="font-mono text-xs">{d.lastStatusCode ?? "—"}</Td>
                        <Td numeric>{last ? t("integrations.webhooks.ms", { ms: last.durationMs }) : "—"}</Td>
                        <Td className="whitespace-nowrap text-muted-foreground">{d.status === "PENDING" ? date(d.nextAttemptAt) : "—"}</Td>
                        <Td className="text-right">
                          <Button variant="outline" size="sm" onClick={() => void replayOne(d)} aria-label={t("integrations.webhooks.replayOne", { event: d.eventType })}>
                            <RotateCcw aria-hidden /> {t("integrations.webhooks.replayShort")}
                          </Button>
                        </Td>
                      </Tr>
                      {expanded && (
                        <tr className="bg-muted/20">
                          <td />
                          <td colSpan={8} className="max-w-0 space-y-3 px-3 pb-4 pt-1">
                            {d.lastError && <p className="text-sm text-danger-strong">{d.lastError}</p>}
                            <ol className="space-y-1 text-xs">
                              {d.attemptLog.map((a, i) => (
                                <li key={a.startedAt + i} className="flex gap-4 font-mono">
                                  <span className="w-44 text-muted-foreground">{date(a.startedAt)}</span>
                                  <span className={a.succeeded ? "text-success-strong" : "text-danger-strong"}>{a.statusCode ?? t("integrations.webhooks.noAnswer")}</span>
                                  <span>{t("integrations.webhooks.ms", { ms: a.durationMs })}</span>
                                  {a.error && <span className="min-w-0 truncate text-muted-foreground">{a.error}</span>}
                                </li>
                              ))}
                            </ol>
                            <pre tabIndex={0} aria-label={t("integrations.webhooks.body")} className="max-h-56 overflow-auto whitespace-pre-wrap break-all rounded-md border border-border bg-background p-3 font-mono text-xs">{pretty(d.body)}</pre>
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </TBody>
            </Table>
            {canLoadMore && (
              <div className="mt-4 flex justify-end">
                <Button variant="outline" onClick={() => void loadOlder()}>
                  {t("integrations.webhooks.older")}
                </Button>
              </div>
            )}
          </>
        )}
      </ListScaffold>
      <ReplayRangeDialog endpointId={endpoint.id} open={rangeOpen} onOpenChange={setRangeOpen} onReplayed={replayed} />
      {toast}
    </AdminFrame>
  );
}
