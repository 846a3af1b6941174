// Every saved version, newest first, with its note; restoring one puts its graph on the canvas
// (an undo step; the autosave keeps it as a new version).
import { History, RotateCcw } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useClient, useQuery } from "urql";
import { FLOW, FLOW_VERSION } from "@/api/ops/flows";
import type { FlowQuery, FlowVersionQuery } from "@/api/graphql.generated";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";
import type { FlowMeta } from "./FlowEditor";
import { fromApi, toGraph, type Graph } from "./graph";

export function VersionsPanel({ flow, onRestore }: { flow: FlowMeta; onRestore: (graph: Graph) => void }) {
  const { t, i18n } = useTranslation();
  const client = useClient();
  const [{ data, fetching, error }, reload] = useQuery<FlowQuery>({ query: FLOW, variables: { id: flow.id }, requestPolicy: "cache-and-network" });
  const [restoring, setRestoring] = useState<number | null>(null);
  const [restoreError, setRestoreError] = useState<unknown>(null);
  const versions = data?.flow.versions ?? [];
  const latest = Math.max(flow.version, ...versions.map((v) => v.version));

  const restore = async (version: number) => {
    setRestoring(version);
    setRestoreError(null);
    const result = await client.query<FlowVersionQuery>(FLOW_VERSION, { id: flow.id, version }, { requestPolicy: "network-only" }).toPromise();
    setRestoring(null);
    if (result.error || !result.data) return setRestoreError(result.error);
    onRestore(toGraph(fromApi(result.data.flow.definition)));
  };

  if (error && !data) return <ErrorState error={error} onRetry={() => reload({ requestPolicy: "network-only" })} />;
  if (fetching && !data) return <div className="space-y-2 pt-2">{[0, 1, 2].map((i) => <Skeleton key={i} className="h-14" />)}</div>;
  if (!versions.length) return <EmptyState icon={<History />} title={t("flows.versions.empty")} />;
  const format = new Intl.DateTimeFormat(i18n.language, { dateStyle: "medium", timeStyle: "short" });
  return (
    <div className="pt-1">
      {restoreError != null && <ErrorState error={restoreError} compact />}
      <ol className="relative space-y-1 border-l border-border pl-4" aria-label={t("flows.tabs.versions")}>
        {versions.map((v) => (
          <li key={v.version} className="relative rounded-lg px-2 py-2 hover:bg-muted/50" data-version={v.version}>
            <span className="absolute -left-[21px] top-3.5 size-2.5 rounded-full border-2 border-background bg-muted-foreground/60" aria-hidden />
            <div className="flex items-center gap-2">
              <span className="font-mono text-sm font-semibold">v{v.version}</span>
              {v.version === flow.publishedVersion && <Badge variant="success">{t("flows.versions.live")}</Badge>}
              {v.version === latest && <Badge variant="outline">{t("flows.versions.latest")}</Badge>}
              <Button
                variant="ghost"
                size="sm"
                className="ml-auto"
                onClick={() => void restore(v.version)}
                disabled={restoring !== null}
                aria-label={t("flows.versions.restoreN", { version: v.version })}
              >
                <RotateCcw aria-hidden /> {t("flows.versions.restore")}
              </Button>
            </div>
            <p className="mt-0.5 text-xs text-muted-foreground">{format.format(new Date(v.createdAt))}</p>
            {v.note && <p className="mt-1 text-sm">{v.note}</p>}
          </li>
        ))}
      </ol>
    </div>
  );
}
