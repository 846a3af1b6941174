// admin/alerts (supervisors and admins): every alert rule — what it watches, its threshold,
// window, severity and cooldown; create, edit (admin/alerts/:id), delete.
import { BellRing, Pencil, Plus, Trash2 } from "lucide-react";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, Route, Routes, useParams } from "react-router";
import { useMutation } from "urql";
import type { AdminAlertRulesQuery, AdminDeleteAlertRuleMutation, AdminDeleteAlertRuleMutationVariables } from "@/api/graphql.generated";
import { ADMIN_ALERT_RULES, ADMIN_DELETE_ALERT_RULE } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { ListScaffold, type QueryState, useListQuery } from "@/components/ListScaffold";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { useActionError } from "../common";
import { duration, KINDS, type Kind, type Rule } from "./rule";
import { RuleForm } from "./RuleForm";

const SEVERITY_VARIANT: Record<string, "info" | "warning" | "danger"> = { info: "info", warning: "warning", critical: "danger" };

export default function AlertRulesPage() {
  const state = useListQuery<AdminAlertRulesQuery>({ query: ADMIN_ALERT_RULES });
  const { data, retry: refresh } = state;
  // Until the rules are loaded every route shows the list page (its skeleton, or the error).
  const list = <RuleList state={state} />;
  return (
    <Routes>
      <Route index element={list} />
      <Route path="new" element={data ? <RuleForm data={data} onSaved={refresh} /> : list} />
      <Route path=":id" element={data ? <EditRule data={data} onSaved={refresh} /> : list} />
    </Routes>
  );
}

function EditRule({ data, onSaved }: { data: AdminAlertRulesQuery; onSaved: () => void }) {
  const { id } = useParams();
  const rule = data.alertRules.find((r) => r.id === id);
  if (!rule) return <Navigate to="/admin/alerts" replace />;
  return <RuleForm key={rule.id} rule={rule} data={data} onSaved={onSaved} />;
}

function RuleList({ state }: { state: QueryState<AdminAlertRulesQuery> }) {
  const { t } = useTranslation();
  const { data, retry: onChanged } = state;
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [, remove] = useMutation<AdminDeleteAlertRuleMutation, AdminDeleteAlertRuleMutationVariables>(ADMIN_DELETE_ALERT_RULE);
  const { setError, toast } = useActionError();
  const names = useMemo(
    () => new Map<string, string>([...(data?.channels ?? []), ...(data?.teams ?? []), ...(data?.users ?? [])].map((x) => [x.id, x.name])),
    [data],
  );
  const scopeText = (r: Rule) => {
    if (!r.scope) return t("integrations.alerts.scopes.all");
    const value = r.scope === "platform" ? t(`integrations.platforms.${(r.scopeValue ?? "").toUpperCase()}`, { defaultValue: r.scopeValue ?? "" }) : (names.get(r.scopeValue ?? "") ?? r.scopeValue);
    return `${t(`integrations.alerts.scopes.${r.scope}`)}: ${value}`;
  };
  const confirmDelete = async () => {
    if (!deleting) return;
    const r = await remove({ id: deleting.id });
    setDeleting(null);
    if (r.error) setError(r.error);
    onChanged();
  };
  const add = (
    <Button asChild>
      <Link to="/admin/alerts/new">
        <Plus aria-hidden /> {t("integrations.alerts.new")}
      </Link>
    </Button>
  );
  return (
    <AdminFrame title={t("integrations.alerts.title")} description={t("integrations.alerts.description")} actions={add}>
      <ListScaffold
        state={state}
        isEmpty={(d) => d.alertRules.length === 0}
        empty={<EmptyState icon={<BellRing />} title={t("integrations.alerts.emptyTitle")} description={t("integrations.alerts.emptyText")} action={add} />}
      >
        {(data) => (
          <Table aria-label={t("integrations.alerts.title")}>
            <THead>
              <Tr>
                <Th>{t("integrations.alerts.name")}</Th>
                <Th>{t("integrations.alerts.fires")}</Th>
                <Th>{t("integrations.alerts.scope")}</Th>
                <Th>{t("integrations.alerts.severity")}</Th>
                <Th>{t("integrations.alerts.cooldown")}</Th>
                <Th>{t("integrations.common.status")}</Th>
                <Th>
                  <span className="sr-only">{t("integrations.common.actions")}</span>
                </Th>
              </Tr>
            </THead>
            <TBody>
              {data.alertRules.map((r) => {
                const spec = KINDS[r.kind as Kind];
                return (
                  <Tr key={r.id} data-alert-rule={r.name}>
                    <Td>
                      <Link to={`/admin/alerts/${r.id}`} className="font-medium hover:underline">
                        {r.name}
                      </Link>
                      <div className="text-xs text-muted-foreground">{t(`integrations.alerts.kinds.${r.kind}.name`, { defaultValue: r.kind })}</div>
                    </Td>
                    <Td className="text-sm">
                      {t("integrations.alerts.firesWhen", {
                        condition: t(`integrations.alerts.conditions.${r.condition}`),
                        threshold: r.threshold,
                        unit: spec ? t(`integrations.alerts.units.${spec.unit}`) : "",
                        window: duration(r.windowSeconds),
                      })}
                    </Td>
                    <Td className="text-sm">{scopeText(r)}</Td>
                    <Td>
                      <Badge variant={SEVERITY_VARIANT[r.severity] ?? "outline"}>{t(`integrations.alerts.severities.${r.severity}`, { defaultValue: r.severity })}</Badge>
                    </Td>
                    <Td className="text-sm text-muted-foreground">{r.cooldownSeconds ? duration(r.cooldownSeconds) : t("integrations.alerts.none")}</Td>
                    <Td>
                      <Badge variant={r.enabled ? "success" : "outline"}>{t(r.enabled ? "integrations.alerts.on" : "integrations.alerts.off")}</Badge>
                    </Td>
                    <Td className="text-right">
                      <div className="flex justify-end gap-1">
                        <Button variant="ghost" size="icon" asChild>
                          <Link to={`/admin/alerts/${r.id}`} aria-label={t("integrations.alerts.editNamed", { name: r.name })}>
                            <Pencil aria-hidden />
                          </Link>
                        </Button>
                        <Button variant="ghost" size="icon" onClick={() => setDeleting(r)} aria-label={t("integrations.alerts.deleteNamed", { name: r.name })}>
                          <Trash2 aria-hidden />
                        </Button>
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
          title={t("integrations.alerts.deleteTitle", { name: deleting?.name ?? "" })}
          description={t("integrations.alerts.deleteText")}
          cancelLabel={t("integrations.common.cancel")}
          confirmLabel={t("integrations.common.delete")}
          onConfirm={() => void confirmDelete()}
        />
      </AlertDialog>
      {toast}
    </AdminFrame>
  );
}
