// /flows: every flow with its published version, status and runs; a new one opens the editor.
import { ChevronRight, Plus, Workflow } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useQuery } from "urql";
import { FLOW_RUN_COUNT, FLOWS } from "@/api/ops/flows";
import type { FlowRunCountQuery, FlowsQuery } from "@/api/graphql.generated";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { UNFINISHED } from "./RunsPanel";

const CAP = 100;

function RunCount({ flowId }: { flowId: string }) {
  const { t } = useTranslation();
  const [{ data }] = useQuery<FlowRunCountQuery>({ query: FLOW_RUN_COUNT, variables: { flowId }, requestPolicy: "cache-and-network" });
  if (!data) return <Skeleton className="ml-auto h-4 w-10" />;
  const runs = data.flowExecutions;
  const active = runs.filter((r) => UNFINISHED.includes(r.status)).length;
  return (
    <span className="inline-flex items-center gap-2">
      {active > 0 && <Badge variant="info">{t("flows.list.active", { count: active })}</Badge>}
      <span>{runs.length >= CAP ? `${CAP}+` : runs.length}</span>
    </span>
  );
}

export function FlowList() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const [{ data, fetching, error }, reload] = useQuery<FlowsQuery>({ query: FLOWS, requestPolicy: "cache-and-network" });
  const format = new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium", timeStyle: "short" });
  const flows = data?.flows ?? [];
  return (
    <main className="flex-1 overflow-y-auto bg-muted/30">
      <div className="mx-auto max-w-5xl px-8 py-8">
        <div className="flex items-end justify-between gap-4">
          <div>
            <h1 className="text-2xl font-semibold tracking-tight">{t("flows.title")}</h1>
            <p className="mt-1 text-sm text-muted-foreground">{t("flows.subtitle")}</p>
          </div>
          <Button onClick={() => void navigate("/flows/new")}>
            <Plus aria-hidden /> {t("flows.list.new")}
          </Button>
        </div>
        <div className="mt-6">
          {error && !data ? (
            <ErrorState error={error} onRetry={() => reload({ requestPolicy: "network-only" })} />
          ) : fetching && !data ? (
            <div className="space-y-2">{[0, 1, 2, 3].map((i) => <Skeleton key={i} className="h-12" />)}</div>
          ) : flows.length === 0 ? (
            <EmptyState
              icon={<Workflow />}
              title={t("flows.list.emptyTitle")}
              description={t("flows.list.emptyText")}
              action={<Button onClick={() => void navigate("/flows/new")}><Plus aria-hidden /> {t("flows.list.new")}</Button>}
            />
          ) : (
            <Table aria-label={t("flows.title")}>
              <THead>
                <tr>
                  <Th>{t("flows.list.name")}</Th>
                  <Th>{t("flows.list.status")}</Th>
                  <Th numeric>{t("flows.list.published")}</Th>
                  <Th numeric>{t("flows.list.latest")}</Th>
                  <Th numeric>{t("flows.list.runs")}</Th>
                  <Th>{t("flows.list.updated")}</Th>
                  <Th><span className="sr-only">{t("flows.list.open")}</span></Th>
                </tr>
              </THead>
              <TBody>
                {flows.map((flow) => (
                  <Tr key={flow.id} data-flow-row={flow.name}>
                    <Td className="font-medium">
                      <Link to={`/flows/${flow.id}`} className="hover:underline focus-visible:underline focus-visible:outline-none">{flow.name}</Link>
                    </Td>
                    <Td>
                      {flow.publishedVersion != null ? <Badge variant="success">{t("flows.list.live")}</Badge> : <Badge variant="outline">{t("flows.list.draft")}</Badge>}
                    </Td>
                    <Td numeric>{flow.publishedVersion != null ? `v${flow.publishedVersion}` : "—"}</Td>
                    <Td numeric>v{flow.version}</Td>
                    <Td numeric><RunCount flowId={flow.id} /></Td>
                    <Td className="text-muted-foreground">{format.format(new Date(flow.updatedAt))}</Td>
                    <Td className="w-10">
                      <Link to={`/flows/${flow.id}`} aria-label={t("flows.list.openNamed", { name: flow.name })} className="flex text-muted-foreground hover:text-foreground">
                        <ChevronRight className="size-4" aria-hidden />
                      </Link>
                    </Td>
                  </Tr>
                ))}
              </TBody>
            </Table>
          )}
        </div>
      </div>
    </main>
  );
}
