// /admin/routing: the routing rules in evaluation order (conditions → team), with create, edit,
// delete and moving a rule up or down.
import { ArrowDown, ArrowRight, ArrowUp, Globe, Hash, Languages, Pencil, Plus, Route, Tag, Trash2, Users } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { AdminRoutingRulesQuery } from "@/api/graphql.generated";
import {
  ADMIN_ADD_ROUTING_RULE,
  ADMIN_DELETE_ROUTING_RULE,
  ADMIN_REORDER_ROUTING_RULES,
  ADMIN_ROUTING_RULES,
  ADMIN_UPDATE_ROUTING_RULE,
} from "@/api/ops/admin-routing";
import { AdminFrame } from "@/components/AdminFrame";
import { ErrorState } from "@/components/ErrorState";
import { ListScaffold } from "@/components/ListScaffold";
import { PlatformIcon, platformLabel } from "@/components/PlatformIcon";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Dialog } from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/misc";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { IconAction } from "../IconAction";
import { Notice, useNotice } from "../Notice";
import { useAdminData, useMutate } from "../useAdminData";
import { RuleDialog } from "./RuleDialog";
import { moved, nextPosition, ruleInput, type Rule, type RuleForm } from "./rule";

const K = "admin-routing.routing";

export default function RoutingSection() {
  const { t } = useTranslation();
  const state = useAdminData<AdminRoutingRulesQuery>(ADMIN_ROUTING_RULES);
  const { data, reload } = state;
  const mutate = useMutate();
  const [notice, setNotice] = useNotice();
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const [deleting, setDeleting] = useState<{ rule: Rule; n: number } | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const rules = data?.routingRules ?? [];

  const save = async (values: RuleForm) => {
    if (editing === "new") {
      const { teamId, ...rest } = ruleInput(values, nextPosition(rules));
      await mutate(ADMIN_ADD_ROUTING_RULE, { team: teamId, position: rest.position, platform: rest.platform, channel: rest.channelId, language: rest.language, topic: rest.topic });
      setNotice(t(`${K}.created`));
    } else if (editing) {
      await mutate(ADMIN_UPDATE_ROUTING_RULE, { id: editing.id, input: ruleInput(values, editing.position) });
      setNotice(t(`${K}.updated`));
    }
    setEditing(null);
    await reload();
  };

  const act = async (run: () => Promise<unknown>, done: string) => {
    setFailure(null);
    setBusy(true);
    try {
      await run();
      setNotice(t(done));
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(false);
      await reload();
    }
  };
  const move = (index: number, by: -1 | 1) => {
    const ids = moved(rules.map((r) => r.id), index, by);
    if (ids) void act(() => mutate(ADMIN_REORDER_ROUTING_RULES, { ids }), `${K}.reordered`);
  };

  const add = (
    <Button onClick={() => setEditing("new")} disabled={!data}>
      <Plus aria-hidden /> {t(`${K}.new`)}
    </Button>
  );
  return (
    <AdminFrame title={t(`${K}.title`)} description={t(`${K}.description`)} actions={add}>
      {failure != null && <div className="mb-4 rounded-lg border border-red-200 bg-red-50/50"><ErrorState error={failure} compact /></div>}
      <ListScaffold
        state={state}
        isEmpty={(d) => d.routingRules.length === 0}
        empty={<EmptyState icon={<Route aria-hidden />} title={t(`${K}.emptyTitle`)} description={t(`${K}.emptyText`)} action={add} />}
        skeleton={<div className="space-y-2">{[0, 1, 2].map((i) => <Skeleton key={i} className="h-12 w-full" />)}</div>}
      >
        {(data) => (
          <Table aria-label={t(`${K}.title`)}>
            <THead>
              <tr>
                <Th className="w-16" numeric>{t(`${K}.columns.order`)}</Th>
                <Th>{t(`${K}.columns.when`)}</Th>
                <Th className="w-8"><span className="sr-only">→</span></Th>
                <Th>{t(`${K}.columns.team`)}</Th>
                <Th className="w-44 text-right"><span className="sr-only">{t("admin-routing.common.actions")}</span></Th>
              </tr>
            </THead>
            <TBody>
              {rules.map((rule, i) => (
                <RuleRow
                  key={rule.id}
                  rule={rule}
                  n={i + 1}
                  last={i === rules.length - 1}
                  data={data}
                  busy={busy}
                  onUp={() => move(i, -1)}
                  onDown={() => move(i, 1)}
                  onEdit={() => setEditing(rule)}
                  onDelete={() => setDeleting({ rule, n: i + 1 })}
                />
              ))}
            </TBody>
          </Table>
        )}
      </ListScaffold>
      <Dialog open={editing != null} onOpenChange={(open) => !open && setEditing(null)}>
        {editing != null && data && <RuleDialog rule={editing === "new" ? null : editing} data={data} onSave={save} />}
      </Dialog>
      <AlertDialog open={deleting != null} onOpenChange={(open) => !open && setDeleting(null)}>
        {deleting && (
          <AlertDialogContent
            title={t(`${K}.deleteTitle`, { n: deleting.n })}
            description={t(`${K}.deleteText`)}
            cancelLabel={t("admin-routing.common.cancel")}
            confirmLabel={t("admin-routing.common.delete")}
            onConfirm={() => void act(() => mutate(ADMIN_DELETE_ROUTING_RULE, { id: deleting.rule.id }), `${K}.deleted`)}
          />
        )}
      </AlertDialog>
      <Notice text={notice} />
    </AdminFrame>
  );
}

function Condition({ icon, children }: { icon: React.ReactNode; children: React.ReactNode }) {
  return (
    <span className="inline-flex items-center gap-1.5 rounded-md border border-border bg-muted/40 px-2 py-0.5 text-xs [&_svg]:size-3.5 [&_svg]:text-muted-foreground">
      {icon}
      {children}
    </span>
  );
}

function RuleRow(props: { rule: Rule; n: number; last: boolean; data: AdminRoutingRulesQuery; busy: boolean; onUp: () => void; onDown: () => void; onEdit: () => void; onDelete: () => void }) {
  const { rule, n, last, data, busy } = props;
  const { t } = useTranslation();
  const team = data.teams.find((x) => x.id === rule.teamId)?.name;
  const channel = rule.channelId ? (data.channels.find((c) => c.id === rule.channelId) ?? null) : null;
  const conditions = [
    rule.platform && (
      <Condition key="p" icon={<Globe aria-hidden />}>
        <PlatformIcon platform={rule.platform} className="ring-0" />
        {platformLabel(rule.platform)}
      </Condition>
    ),
    rule.channelId && (
      <Condition key="c" icon={<Hash aria-hidden />}>
        {t(`${K}.channel`)}: {channel?.name ?? t(`${K}.unknownChannel`)}
      </Condition>
    ),
    rule.language && (
      <Condition key="l" icon={<Languages aria-hidden />}>
        {t(`${K}.language`)}: {rule.language}
      </Condition>
    ),
    rule.topic && (
      <Condition key="t" icon={<Tag aria-hidden />}>
        {t(`${K}.labelled`, { topic: rule.topic })}
      </Condition>
    ),
  ].filter(Boolean);
  return (
    <Tr data-rule={n}>
      <Td numeric>
        <span className="inline-flex size-6 items-center justify-center rounded-full bg-muted text-xs font-semibold text-muted-foreground">{n}</span>
      </Td>
      <Td>
        <div className="flex flex-wrap gap-1.5">
          {conditions.length ? conditions : <span className="text-sm text-muted-foreground">{t(`${K}.anyConversation`)}</span>}
        </div>
      </Td>
      <Td className="text-muted-foreground"><ArrowRight className="size-4" aria-hidden /></Td>
      <Td>
        <Badge variant={team ? "info" : "danger"} className="text-xs">
          <Users aria-hidden /> {team ?? t(`${K}.unknownTeam`)}
        </Badge>
      </Td>
      <Td className="text-right">
        <div className="flex justify-end gap-0.5">
          <IconAction label={t(`${K}.moveUp`, { n })} onClick={props.onUp} disabled={busy || n === 1}><ArrowUp aria-hidden /></IconAction>
          <IconAction label={t(`${K}.moveDown`, { n })} onClick={props.onDown} disabled={busy || last}><ArrowDown aria-hidden /></IconAction>
          <IconAction label={t(`${K}.editRule`, { n })} onClick={props.onEdit}><Pencil aria-hidden /></IconAction>
          <IconAction label={t(`${K}.deleteRule`, { n })} onClick={props.onDelete}><Trash2 aria-hidden /></IconAction>
        </div>
      </Td>
    </Tr>
  );
}
