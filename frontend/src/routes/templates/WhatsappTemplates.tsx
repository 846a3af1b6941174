// /templates/whatsapp: a WhatsApp channel's approved-template catalogue (synced from Meta hourly, or
// now with syncWhatsappTemplates), each template's review status and the parameters a send gives.
import { MessageCircle, RefreshCw } from "lucide-react";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useClient, useQuery } from "urql";
import { explain } from "@/api/errors";
import type { TplChannelsQuery, TplWhatsappQuery, TplWhatsappQueryVariables, TplWhatsappSyncMutation } from "@/api/graphql.generated";
import { TPL_CHANNELS, TPL_WHATSAPP, TPL_WHATSAPP_SYNC } from "@/api/ops/templates";
import { ErrorState } from "@/components/ErrorState";
import { waPreview } from "@/components/templates/logic";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { useUi } from "@/state/ui";
import { formatDate, PageFrame, useCanEdit } from "./common";

const STATUS_VARIANT: Record<string, "success" | "warning" | "danger" | "secondary" | "info"> = {
  APPROVED: "success",
  PENDING: "warning",
  IN_APPEAL: "warning",
  REJECTED: "danger",
  PAUSED: "danger",
  DISABLED: "danger",
  LIMIT_EXCEEDED: "danger",
  PENDING_DELETION: "secondary",
  DELETED: "secondary",
  ARCHIVED: "secondary",
  UNKNOWN: "secondary",
};

export function WaStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return <Badge variant={STATUS_VARIANT[status] ?? "secondary"} data-wa-status={status}>{t(`templates.whatsapp.status.${status}`, { defaultValue: status })}</Badge>;
}

export function WhatsappTemplates() {
  const { t, i18n } = useTranslation();
  const client = useClient();
  const editor = useCanEdit();
  const showError = useUi((s) => s.showError);
  const [channels] = useQuery<TplChannelsQuery>({ query: TPL_CHANNELS });
  const whatsapp = (channels.data?.channels ?? []).filter((c) => c.platform === "WHATSAPP");
  const [channel, setChannel] = useState<string | null>(null);
  const [status, setStatus] = useState("ALL");
  useEffect(() => {
    if (!channel && whatsapp.length) setChannel(whatsapp[0].id);
  }, [channel, whatsapp]);
  const [{ data, error, fetching }, refetch] = useQuery<TplWhatsappQuery, TplWhatsappQueryVariables>({
    query: TPL_WHATSAPP,
    variables: { channelId: channel ?? "", status: status === "ALL" ? null : (status as TplWhatsappQueryVariables["status"]) },
    pause: !channel,
  });
  const [syncing, setSyncing] = useState(false);
  const [synced, setSynced] = useState<TplWhatsappSyncMutation["syncWhatsappTemplates"] | null>(null);
  const sync = async () => {
    if (!channel) return;
    setSyncing(true);
    const r = await client.mutation<TplWhatsappSyncMutation>(TPL_WHATSAPP_SYNC, { channelId: channel }).toPromise();
    setSyncing(false);
    if (r.error || !r.data) {
      const e = explain(r.error, t);
      return showError(e.detail ?? e.message, e.code);
    }
    setSynced(r.data.syncWhatsappTemplates);
    refetch({ requestPolicy: "network-only" });
  };
  const rows = data?.whatsappTemplates ?? [];

  return (
    <PageFrame
      title={t("templates.title")}
      subtitle={t("templates.subtitle")}
      actions={
        editor && channel && rows.length > 0 && (
          <Button variant="outline" onClick={() => void sync()} disabled={syncing}>
            <RefreshCw className={syncing ? "animate-spin" : undefined} aria-hidden /> {t("templates.whatsapp.sync")}
          </Button>
        )
      }
    >
      <div className="mb-4 flex flex-wrap items-center gap-3">
        <Select value={channel ?? undefined} onValueChange={setChannel} disabled={!whatsapp.length}>
          <SelectTrigger className="w-64" aria-label={t("templates.whatsapp.channel")}>
            <SelectValue placeholder={t("templates.whatsapp.channel")} />
          </SelectTrigger>
          <SelectContent>
            {whatsapp.map((c) => <SelectItem key={c.id} value={c.id}>{c.name}</SelectItem>)}
          </SelectContent>
        </Select>
        <Select value={status} onValueChange={setStatus}>
          <SelectTrigger className="w-48" aria-label={t("templates.whatsapp.statusFilter")}>
            <SelectValue />
          </SelectTrigger>
          <SelectContent>
            <SelectItem value="ALL">{t("templates.whatsapp.anyStatus")}</SelectItem>
            {Object.keys(STATUS_VARIANT).map((s) => <SelectItem key={s} value={s}>{t(`templates.whatsapp.status.${s}`)}</SelectItem>)}
          </SelectContent>
        </Select>
        {synced && (
          <span className="text-sm text-muted-foreground" role="status">
            {t("templates.whatsapp.synced", { count: synced.count, removed: synced.removed })}
          </span>
        )}
      </div>
      {channels.error ? (
        <ErrorState error={channels.error} />
      ) : !channels.data ? (
        <Skeleton className="h-40 w-full" />
      ) : whatsapp.length === 0 ? (
        <EmptyState icon={<MessageCircle />} title={t("templates.whatsapp.noChannel")} description={t("templates.whatsapp.noChannelHint")} />
      ) : error ? (
        <ErrorState error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} />
      ) : fetching && !data ? (
        <div className="space-y-2" aria-busy="true">{[0, 1, 2].map((i) => <Skeleton key={i} className="h-12 w-full" />)}</div>
      ) : rows.length === 0 ? (
        <EmptyState
          icon={<MessageCircle />}
          title={t("templates.whatsapp.empty")}
          description={t(editor ? "templates.whatsapp.emptyHint" : "templates.whatsapp.emptyHintAgent")}
          action={editor ? <Button onClick={() => void sync()} disabled={syncing}><RefreshCw aria-hidden /> {t("templates.whatsapp.sync")}</Button> : undefined}
        />
      ) : (
        <Table aria-label={t("templates.whatsapp.title")}>
          <THead>
            <tr>
              <Th>{t("templates.whatsapp.name")}</Th>
              <Th>{t("templates.whatsapp.language")}</Th>
              <Th>{t("templates.whatsapp.category")}</Th>
              <Th>{t("templates.whatsapp.statusCol")}</Th>
              <Th numeric>{t("templates.whatsapp.parameters")}</Th>
              <Th>{t("templates.whatsapp.syncedAt")}</Th>
            </tr>
          </THead>
          <TBody>
            {rows.map((w) => (
              <Tr key={`${w.name}-${w.language}`} data-wa-template={w.name}>
                <Td className="max-w-0 w-[42%]">
                  <span className="font-mono text-[13px] font-medium">{w.name}</span>
                  <p className="mt-0.5 line-clamp-2 whitespace-pre-line text-xs text-muted-foreground">{waPreview(w.components, {})}</p>
                </Td>
                <Td><Badge variant="outline">{w.language}</Badge></Td>
                <Td className="text-xs capitalize">{w.category?.toLowerCase() ?? "—"}</Td>
                <Td>
                  <WaStatusBadge status={w.status} />
                  {w.statusReason && <p className="mt-0.5 text-[11px] text-muted-foreground">{w.statusReason}</p>}
                </Td>
                <Td numeric>{w.parameters.length}</Td>
                <Td className="whitespace-nowrap text-xs text-muted-foreground">{formatDate(w.syncedAt, i18n.language)}</Td>
              </Tr>
            ))}
          </TBody>
        </Table>
      )}
    </PageFrame>
  );
}
