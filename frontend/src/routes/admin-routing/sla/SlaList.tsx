// The SLA policies in matching order: who each applies to, its targets and its business hours.
import { CalendarOff, Clock, Globe2, Pencil, Plus, Timer, Trash2 } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate } from "react-router";
import { ADMIN_DELETE_SLA_POLICY, ADMIN_SLA_POLICIES } from "@/api/ops/admin-routing";
import type { AdminSlaPoliciesQuery } from "@/api/graphql.generated";
import { AdminFrame } from "@/components/AdminFrame";
import { ErrorState } from "@/components/ErrorState";
import { ListScaffold } from "@/components/ListScaffold";
import { platformLabel } from "@/components/PlatformIcon";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { shortDuration } from "../duration";
import { isAlwaysOpen, summarizeWeek, weekFromJson, type Day } from "../hours";
import { IconAction } from "../IconAction";
import { Notice, useNotice } from "../Notice";
import { useAdminData, useMutate } from "../useAdminData";
import type { Policy } from "./types";

const K = "admin-routing.sla";

export function SlaList() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const state = useAdminData<AdminSlaPoliciesQuery>(ADMIN_SLA_POLICIES);
  const { data, reload } = state;
  const mutate = useMutate();
  const [notice, setNotice] = useNotice();
  const [shown] = useState(() => (location.state as { notice?: string } | null)?.notice ?? null);
  const [deleting, setDeleting] = useState<Policy | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const teams = new Map((data?.teams ?? []).map((team) => [team.id, team.name]));

  const remove = async (policy: Policy) => {
    setFailure(null);
    try {
      await mutate(ADMIN_DELETE_SLA_POLICY, { id: policy.id });
      setNotice(t(`${K}.deleted`));
      await reload();
    } catch (e) {
      setFailure(e);
    }
  };

  const actions = (
    <Button asChild>
      <Link to="new">
        <Plus aria-hidden /> {t(`${K}.new`)}
      </Link>
    </Button>
  );
  return (
    <AdminFrame title={t(`${K}.title`)} description={t(`${K}.description`)} actions={actions}>
      {failure != null && <div className="mb-4 rounded-lg border border-red-200 bg-red-50/50"><ErrorState error={failure} compact /></div>}
      <ListScaffold
        state={state}
        isEmpty={(d) => d.slaPolicies.length === 0}
        empty={<EmptyState icon={<Timer aria-hidden />} title={t(`${K}.emptyTitle`)} description={t(`${K}.emptyText`)} action={actions} />}
        skeleton={<div className="space-y-2">{[0, 1, 2].map((i) => <Skeleton key={i} className="h-14 w-full" />)}</div>}
      >
        {(data) => (
          <Table aria-label={t(`${K}.title`)}>
            <THead>
              <tr>
                <Th className="w-14" numeric>{t(`${K}.columns.order`)}</Th>
                <Th>{t(`${K}.columns.name`)}</Th>
                <Th>{t(`${K}.columns.targets`)}</Th>
                <Th>{t(`${K}.columns.hours`)}</Th>
                <Th className="w-24 text-right"><span className="sr-only">{t("admin-routing.common.actions")}</span></Th>
              </tr>
            </THead>
            <TBody>
              {data.slaPolicies.map((policy) => (
                <PolicyRow
                  key={policy.id}
                  policy={policy}
                  teamName={policy.teamId ? (teams.get(policy.teamId) ?? "—") : null}
                  onEdit={() => navigate(`edit?id=${encodeURIComponent(policy.id)}`)}
                  onDelete={() => setDeleting(policy)}
                />
              ))}
            </TBody>
          </Table>
        )}
      </ListScaffold>
      <AlertDialog open={deleting != null} onOpenChange={(open) => !open && setDeleting(null)}>
        {deleting && (
          <AlertDialogContent
            title={t(`${K}.deleteTitle`, { name: deleting.name })}
            description={t(`${K}.deleteText`)}
            cancelLabel={t("admin-routing.common.cancel")}
            confirmLabel={t("admin-routing.common.delete")}
            onConfirm={() => void remove(deleting)}
          />
        )}
      </AlertDialog>
      <Notice text={notice ?? shown} />
    </AdminFrame>
  );
}

function PolicyRow({ policy, teamName, onEdit, onDelete }: { policy: Policy; teamName: string | null; onEdit: () => void; onDelete: () => void }) {
  const { t } = useTranslation();
  const week = weekFromJson(policy.businessHours);
  const scope = [
    teamName != null && { key: "team", label: `${t(`${K}.team`)}: ${teamName}` },
    policy.priority && { key: "priority", label: `${t(`${K}.priority`)}: ${t(`${K}.priorities.${policy.priority}`)}` },
    policy.platform && { key: "platform", label: platformLabel(policy.platform) },
  ].filter(Boolean) as { key: string; label: string }[];
  const targets = [
    ["first", policy.firstResponseSeconds],
    ["next", policy.nextResponseSeconds],
    ["resolution", policy.resolutionSeconds],
  ].filter(([, s]) => s != null) as [string, number][];
  const holidays = (policy.holidays as string[]).length;
  return (
    <Tr data-policy={policy.name}>
      <Td numeric className="align-top text-muted-foreground">{policy.position}</Td>
      <Td className="align-top">
        <p className="font-medium">{policy.name}</p>
        <div className="mt-1 flex flex-wrap gap-1">
          {scope.length === 0 ? (
            <Badge variant="outline">{t(`${K}.everyone`)}</Badge>
          ) : (
            scope.map((s) => <Badge key={s.key} variant="secondary">{s.label}</Badge>)
          )}
        </div>
      </Td>
      <Td className="align-top">
        <dl className="grid grid-cols-[auto_auto] gap-x-3 gap-y-0.5 text-xs">
          {targets.map(([kind, seconds]) => (
            <div key={kind} className="contents">
              <dt className="text-muted-foreground">{t(`${K}.${kind}`)}</dt>
              <dd className="font-medium tabular-nums">{shortDuration(seconds)}</dd>
            </div>
          ))}
        </dl>
      </Td>
      <Td className="align-top text-xs">
        <p className="flex items-center gap-1.5">
          <Clock className="size-3.5 text-muted-foreground" aria-hidden />
          {isAlwaysOpen(week) ? t(`${K}.alwaysOpen`) : summarizeWeek(week, (d: Day) => t(`${K}.days.${d}`))}
        </p>
        <p className="mt-1 flex items-center gap-3 text-muted-foreground">
          <span className="flex items-center gap-1"><Globe2 className="size-3.5" aria-hidden />{policy.timezone}</span>
          {holidays > 0 && (
            <span className="flex items-center gap-1"><CalendarOff className="size-3.5" aria-hidden />{t(`${K}.holidays`, { count: holidays })}</span>
          )}
        </p>
      </Td>
      <Td className="align-top text-right">
        <div className="flex justify-end gap-1">
          <IconAction label={`${t("admin-routing.common.edit")} ${policy.name}`} onClick={onEdit}><Pencil aria-hidden /></IconAction>
          <IconAction label={`${t("admin-routing.common.delete")} ${policy.name}`} onClick={onDelete}><Trash2 aria-hidden /></IconAction>
        </div>
      </Td>
    </Tr>
  );
}
