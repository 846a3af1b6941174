// admin/audit: who did what, when and from where, newest first; filtered, paged 50 at a time,
// each entry opening to show what it changed.
import { ChevronDown, ChevronRight, KeyRound, ScrollText } from "lucide-react";
import { Fragment, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useClient, useQuery } from "urql";
import type { AdminAuditActorsQuery, AdminAuditLogQuery, AdminAuditLogQueryVariables, AuditLogFilter } from "@/api/graphql.generated";
import { ADMIN_AUDIT_ACTORS, ADMIN_AUDIT_LOG } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { ListScaffold, ListSkeleton, useListQuery } from "@/components/ListScaffold";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { useActionError, useFormatDate } from "../common";
import { AuditFilters, NO_FILTER, type AuditFilterValues } from "./AuditFilters";
import { changes, dayStart } from "./details";

type Edge = AdminAuditLogQuery["auditLog"]["edges"][number];

export function toFilter(v: AuditFilterValues): AuditLogFilter | null {
  const filter: AuditLogFilter = {};
  if (v.actor) filter.actor = v.actor;
  if (v.action) filter.action = v.action;
  if (v.targetType) filter.targetType = v.targetType;
  const from = dayStart(v.from);
  const to = dayStart(v.to, 1);
  if (from) filter.from = from;
  if (to) filter.to = to;
  return Object.keys(filter).length ? filter : null;
}

export default function AuditPage() {
  const { t } = useTranslation();
  const date = useFormatDate();
  const client = useClient();
  const [values, setValues] = useState<AuditFilterValues>(NO_FILTER);
  const filter = useMemo(() => toFilter(values), [values]);
  const state = useListQuery<AdminAuditLogQuery, AdminAuditLogQueryVariables>({
    query: ADMIN_AUDIT_LOG,
    variables: { filter, after: null },
    requestPolicy: "network-only",
  });
  const { data } = state;
  const [{ data: actors }] = useQuery<AdminAuditActorsQuery>({ query: ADMIN_AUDIT_ACTORS });
  const [more, setMore] = useState<{ edges: Edge[]; end: string | null; hasNext: boolean } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const { setError, toast } = useActionError();
  useEffect(() => setMore(null), [data]);

  const keyNames = useMemo(() => new Map((actors?.apiKeys ?? []).map((k) => [k.id, k.name])), [actors]);
  const edges = [...(data?.auditLog.edges ?? []), ...(more?.edges ?? [])];
  const hasNext = more ? more.hasNext : (data?.auditLog.pageInfo.hasNextPage ?? false);
  const end = more ? more.end : (data?.auditLog.pageInfo.endCursor ?? null);

  const loadMore = async () => {
    setLoadingMore(true);
    const r = await client.query<AdminAuditLogQuery, AdminAuditLogQueryVariables>(ADMIN_AUDIT_LOG, { filter, after: end }, { requestPolicy: "network-only" }).toPromise();
    setLoadingMore(false);
    if (r.error || !r.data) return setError(r.error);
    const page = r.data.auditLog;
    setMore((m) => ({ edges: [...(m?.edges ?? []), ...page.edges], end: page.pageInfo.endCursor, hasNext: page.pageInfo.hasNextPage }));
  };
  const toggle = (id: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <AdminFrame title={t("integrations.audit.title")} description={t("integrations.audit.description")}>
      <AuditFilters actors={actors} value={values} onApply={setValues} />
      <ListScaffold
        state={state}
        isEmpty={() => edges.length === 0}
        empty={<EmptyState icon={<ScrollText />} title={t("integrations.audit.emptyTitle")} description={t(filter ? "integrations.audit.emptyFiltered" : "integrations.audit.emptyText")} />}
        skeleton={<ListSkeleton rows={8} />}
      >
        {() => (
          <>
            <Table aria-label={t("integrations.audit.title")}>
              <THead>
                <Tr>
                  <Th className="w-8">
                    <span className="sr-only">{t("integrations.audit.details")}</span>
                  </Th>
                  <Th>{t("integrations.audit.when")}</Th>
                  <Th>{t("integrations.audit.actor")}</Th>
                  <Th>{t("integrations.audit.action")}</Th>
                  <Th>{t("integrations.audit.target")}</Th>
                  <Th>{t("integrations.audit.ip")}</Th>
                </Tr>
              </THead>
              <TBody>
                {edges.map(({ node: entry }) => {
                  const expanded = open.has(entry.id);
                  const rows = expanded ? changes(entry.details) : [];
                  return (
                    <Fragment key={entry.id}>
                      <Tr data-audit-action={entry.action}>
                        <Td className="pr-0">
                          <Button
                            variant="ghost"
                            size="icon"
                            className="size-7"
                            aria-expanded={expanded}
                            aria-label={t(expanded ? "integrations.audit.hide" : "integrations.audit.show", { action: entry.action })}
                            onClick={() => toggle(entry.id)}
                          >
                            {expanded ? <ChevronDown aria-hidden /> : <ChevronRight aria-hidden />}
                          </Button>
                        </Td>
                        <Td className="whitespace-nowrap tabular-nums">{date(entry.createdAt)}</Td>
                        <Td>
                          <div className="flex flex-wrap items-center gap-1.5">
                            <span>{entry.actor?.name ?? (entry.actorId ? "—" : t("integrations.audit.system"))}</span>
                            {entry.apiKeyId && (
                              <Badge variant="info">
                                <KeyRound aria-hidden /> {keyNames.get(entry.apiKeyId) ?? t("integrations.audit.apiKey")}
                              </Badge>
                            )}
                          </div>
                        </Td>
                        <Td>
                          <code className="rounded bg-muted px-1.5 py-0.5 font-mono text-xs">{entry.action}</code>
                        </Td>
                        <Td>
                          <span className="text-muted-foreground">{entry.targetType}</span>
                          {entry.targetId && <span className="ml-1 font-mono text-xs">{entry.targetId}</span>}
                        </Td>
                        <Td className="font-mono text-xs text-muted-foreground">{entry.ip ?? "—"}</Td>
                      </Tr>
                      {expanded && (
                        <tr className="bg-muted/20">
                          <td />
                          <td colSpan={5} className="max-w-0 px-3 pb-4 pt-1">
                            {rows.length === 0 ? (
                              <p className="text-sm text-muted-foreground">{t("integrations.audit.noDetails")}</p>
                            ) : (
                              <dl className="grid grid-cols-[minmax(8rem,max-content)_1fr] gap-x-6 gap-y-1.5 text-sm" data-audit-details>
                                {rows.map((row) => (
                                  <Fragment key={row.field}>
                                    <dt className="font-mono text-xs text-muted-foreground">{row.field}</dt>
                                    <dd className="min-w-0 break-all font-mono text-xs">
                                      {row.value !== undefined ? (
                                        row.value
                                      ) : (
                                        <>
                                          <span className="text-danger-strong line-through decoration-1">{row.before ?? t("integrations.audit.unset")}</span>
                                          <span className="mx-2 text-muted-foreground">→</span>
                                          <span className="text-success-strong">{row.after ?? t("integrations.audit.unset")}</span>
                                        </>
                                      )}
                                    </dd>
                                  </Fragment>
                                ))}
                              </dl>
                            )}
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </TBody>
            </Table>
            <div className="mt-4 flex items-center justify-between text-sm text-muted-foreground">
              <span>{t("integrations.audit.shown", { count: edges.length })}</span>
              {hasNext && (
                <Button variant="outline" onClick={() => void loadMore()} disabled={loadingMore}>
                  {loadingMore ? t("integrations.common.loading") : t("integrations.audit.more")}
                </Button>
              )}
            </div>
          </>
        )}
      </ListScaffold>
      {toast}
    </AdminFrame>
  );
}
