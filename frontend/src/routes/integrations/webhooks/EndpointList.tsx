// The endpoints: where each sends, what, and how it is doing; edit, rotate the secret, open the
// delivery log, delete.
import { History, MoreHorizontal, Pencil, Plus, RotateCw, Trash2, Webhook } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useMutation } from "urql";
import type {
  AdminDeleteWebhookEndpointMutation,
  AdminDeleteWebhookEndpointMutationVariables,
  AdminRotateWebhookEndpointSecretMutation,
  AdminRotateWebhookEndpointSecretMutationVariables,
  AdminWebhookEndpointsQuery,
} from "@/api/graphql.generated";
import { ADMIN_DELETE_WEBHOOK_ENDPOINT, ADMIN_ROTATE_WEBHOOK_ENDPOINT_SECRET } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { ListScaffold, type QueryState } from "@/components/ListScaffold";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuSeparator, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { Label } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { Tooltip } from "@/components/ui/tooltip";
import { useActionError, useFormatDate } from "../common";
import { health, type Endpoint, type Health } from "./endpoint";
import { SecretDialog } from "./SecretDialog";

const HEALTH_VARIANT: Record<Health, "success" | "warning" | "danger" | "outline"> = { healthy: "success", failing: "warning", disabled: "danger", paused: "outline" };
const OVERLAPS = ["0", "3600", "86400", "604800"] as const;

export function EndpointList({ state }: { state: QueryState<AdminWebhookEndpointsQuery> }) {
  const { t } = useTranslation();
  const onChanged = state.retry;
  const date = useFormatDate();
  const navigate = useNavigate();
  const [deleting, setDeleting] = useState<Endpoint | null>(null);
  const [rotating, setRotating] = useState<Endpoint | null>(null);
  const [overlap, setOverlap] = useState<string>("86400");
  const [secret, setSecret] = useState<string | null>(null);
  const [, remove] = useMutation<AdminDeleteWebhookEndpointMutation, AdminDeleteWebhookEndpointMutationVariables>(ADMIN_DELETE_WEBHOOK_ENDPOINT);
  const [, rotate] = useMutation<AdminRotateWebhookEndpointSecretMutation, AdminRotateWebhookEndpointSecretMutationVariables>(ADMIN_ROTATE_WEBHOOK_ENDPOINT_SECRET);
  const { setError, toast } = useActionError();

  const confirmDelete = async () => {
    if (!deleting) return;
    const r = await remove({ id: deleting.id });
    setDeleting(null);
    if (r.error) setError(r.error);
    onChanged();
  };
  const confirmRotate = async () => {
    if (!rotating) return;
    const r = await rotate({ id: rotating.id, previousValidSeconds: Number(overlap) });
    setRotating(null);
    if (r.error) return setError(r.error);
    if (r.data?.rotateWebhookEndpointSecret.secret) setSecret(r.data.rotateWebhookEndpointSecret.secret);
    onChanged();
  };
  const add = (
    <Button asChild>
      <Link to="/admin/webhooks/new">
        <Plus aria-hidden /> {t("integrations.webhooks.new")}
      </Link>
    </Button>
  );

  return (
    <AdminFrame title={t("integrations.webhooks.title")} description={t("integrations.webhooks.description")} actions={add}>
      <ListScaffold
        state={state}
        isEmpty={(d) => d.webhookEndpoints.length === 0}
        empty={<EmptyState icon={<Webhook />} title={t("integrations.webhooks.emptyTitle")} description={t("integrations.webhooks.emptyText")} action={add} />}
      >
        {({ webhookEndpoints: endpoints }) => (
          <Table aria-label={t("integrations.webhooks.title")}>
            <THead>
              <Tr>
                <Th>{t("integrations.webhooks.url")}</Th>
                <Th>{t("integrations.webhooks.events")}</Th>
                <Th>{t("integrations.webhooks.health")}</Th>
                <Th>{t("integrations.webhooks.created")}</Th>
                <Th>
                  <span className="sr-only">{t("integrations.common.actions")}</span>
                </Th>
              </Tr>
            </THead>
            <TBody>
              {endpoints.map((e) => {
                const h = health(e);
                const events = e.events.includes("*") ? t("integrations.webhooks.allEvents") : t("integrations.webhooks.eventCount", { count: e.events.length });
                return (
                  <Tr key={e.id} data-endpoint={e.url}>
                    <Td className="max-w-sm">
                      <Link to={`/admin/webhooks/${e.id}`} className="block truncate font-mono text-xs font-medium text-foreground hover:underline">
                        {e.url}
                      </Link>
                      {e.description && <div className="truncate text-xs text-muted-foreground">{e.description}</div>}
                    </Td>
                    <Td>
                      <Tooltip content={e.events.includes("*") ? t("integrations.webhooks.allEventsHint") : e.events.join(", ")}>
                        <Badge variant="secondary" tabIndex={0}>
                          {events}
                        </Badge>
                      </Tooltip>
                      {(e.platforms.length > 0 || e.channelIds.length > 0) && (
                        <span className="ml-1.5 text-xs text-muted-foreground">{t("integrations.webhooks.narrowed")}</span>
                      )}
                    </Td>
                    <Td>
                      <Badge variant={HEALTH_VARIANT[h]} data-health={h}>
                        {t(`integrations.webhooks.healthState.${h}`)}
                      </Badge>
                      {h === "failing" && <div className="mt-0.5 text-xs text-muted-foreground">{t("integrations.webhooks.failingSince", { when: date(e.failingSince) })}</div>}
                      {h === "disabled" && <div className="mt-0.5 max-w-56 truncate text-xs text-muted-foreground">{e.disabledReason}</div>}
                      {e.previousSecretValidUntil && (
                        <div className="mt-0.5 text-xs text-muted-foreground">{t("integrations.webhooks.oldSecretUntil", { when: date(e.previousSecretValidUntil) })}</div>
                      )}
                    </Td>
                    <Td className="whitespace-nowrap text-muted-foreground">{date(e.createdAt, false)}</Td>
                    <Td className="text-right">
                      <div className="flex items-center justify-end gap-1">
                        <Button variant="outline" size="sm" asChild>
                          <Link to={`/admin/webhooks/${e.id}`}>
                            <History aria-hidden /> {t("integrations.webhooks.deliveries")}
                          </Link>
                        </Button>
                        <DropdownMenu>
                          <DropdownMenuTrigger asChild>
                            <Button variant="ghost" size="icon" aria-label={t("integrations.webhooks.moreFor", { url: e.url })}>
                              <MoreHorizontal aria-hidden />
                            </Button>
                          </DropdownMenuTrigger>
                          <DropdownMenuContent align="end">
                            <DropdownMenuItem onSelect={() => void navigate(`/admin/webhooks/${e.id}/edit`)}>
                              <Pencil aria-hidden /> {t("integrations.common.edit")}
                            </DropdownMenuItem>
                            <DropdownMenuItem onSelect={() => setRotating(e)}>
                              <RotateCw aria-hidden /> {t("integrations.webhooks.rotate")}
                            </DropdownMenuItem>
                            <DropdownMenuSeparator />
                            <DropdownMenuItem onSelect={() => setDeleting(e)} className="text-destructive">
                              <Trash2 aria-hidden /> {t("integrations.common.delete")}
                            </DropdownMenuItem>
                          </DropdownMenuContent>
                        </DropdownMenu>
                      </div>
                    </Td>
                  </Tr>
                );
              })}
            </TBody>
          </Table>
        )}
      </ListScaffold>
      <AlertDialog open={deleting !== null} onOpenChange={(open) => !open && setDeleting(null)}>
        <AlertDialogContent
          title={t("integrations.webhooks.deleteTitle")}
          description={t("integrations.webhooks.deleteText", { url: deleting?.url ?? "" })}
          cancelLabel={t("integrations.common.cancel")}
          confirmLabel={t("integrations.common.delete")}
          onConfirm={() => void confirmDelete()}
        />
      </AlertDialog>
      <AlertDialog open={rotating !== null} onOpenChange={(open) => !open && setRotating(null)}>
        <AlertDialogContent
          title={t("integrations.webhooks.rotateTitle")}
          description={t("integrations.webhooks.rotateText")}
          cancelLabel={t("integrations.common.cancel")}
          confirmLabel={t("integrations.webhooks.rotate")}
          destructive={false}
          onConfirm={() => void confirmRotate()}
        >
          <div className="space-y-1.5">
            <Label htmlFor="rotate-overlap">{t("integrations.webhooks.overlap")}</Label>
            <Select value={overlap} onValueChange={setOverlap}>
              <SelectTrigger id="rotate-overlap" className="h-9 text-sm">
                <SelectValue />
              </SelectTrigger>
              <SelectContent>
                {OVERLAPS.map((o) => (
                  <SelectItem key={o} value={o}>
                    {t(`integrations.webhooks.overlaps.s${o}`)}
                  </SelectItem>
                ))}
              </SelectContent>
            </Select>
          </div>
        </AlertDialogContent>
      </AlertDialog>
      <SecretDialog secret={secret} onClose={() => setSecret(null)} />
      {toast}
    </AdminFrame>
  );
}
