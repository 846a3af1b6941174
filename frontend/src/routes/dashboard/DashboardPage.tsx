// /dashboard (supervisors and admins): live numbers, charts over the chosen range and filters,
// alerts. The live feed (dashboardUpdates) moves the "right now" cards itself and makes every
// chart ask its metrics again, so nothing needs a reload; a bar opens the inbox filtered to it.
import { Radio } from "lucide-react";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router";
import { DASHBOARD_DIRECTORY, DASHBOARD_GROUPED, DASHBOARD_METRICS, DASHBOARD_SERIES } from "@/api/ops/dashboard";
import { useNow } from "@/hooks/useNow";
import { clockTime } from "@/lib/time";
import { useServices } from "@/services";
import { useUi } from "@/state/ui";
import { AlertsPanel } from "./AlertsPanel";
import { KpiGrid, NowStrip } from "./Cards";
import { ChartCard } from "./ChartCard";
import { AgentLoadChart, DrillButtons, HealthChart, PlatformVolumeChart, SpreadChart, TeamLoadChart, TimesChart, VolumeChart } from "./Charts";
import { FilterBar, platformName, type Choice } from "./FilterBar";
import { useDashboardUpdates } from "./live";
import {
  AGENT_METRICS, PLATFORM_METRICS, SPREAD_METRICS, SUMMARY_METRICS, VOLUME_METRICS, WEBHOOK_METRICS,
  agentSeries, bucketFor, byMetric, drillFilter, filterParams, formatCount, metricFilter, metricScope, parseFilter, platformSeries,
  rangeFor, spreadSeries, teamSeries, volumeSeries, type DashboardFilter, type Drill, type DrillScope,
} from "./model";
import { useMetrics } from "./useMetrics";

const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function useDirectory() {
  const { client } = useServices();
  const [directory, setDirectory] = useState<{ teams: Choice[]; agents: Choice[]; channels: Choice[] }>({ teams: [], agents: [], channels: [] });
  useEffect(() => {
    let current = true;
    void client
      .query<{ teams: Choice[]; users: (Choice & { isActive: boolean })[]; channels: Choice[] }>(DASHBOARD_DIRECTORY, {})
      .toPromise()
      .then((r) => {
        // the filters work without names (an unnamed choice is simply not offered)
        if (current && r.data) setDirectory({ teams: r.data.teams, agents: r.data.users.filter((u) => u.isActive), channels: r.data.channels });
      });
    return () => {
      current = false;
    };
  }, [client]);
  return directory;
}

export default function DashboardPage() {
  const { t, i18n } = useTranslation();
  const { client, live, me } = useServices();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => parseFilter(params), [params]);
  const change = (patch: Partial<DashboardFilter>) => setParams(filterParams({ ...filter, ...patch }));
  const directory = useDirectory();
  const names = useMemo(() => new Map(directory.agents.map((a) => [a.id, a.name])), [directory.agents]);
  const channelNames = useMemo(() => new Map(directory.channels.map((c) => [c.id, c.name])), [directory.channels]);

  const feed = useDashboardUpdates(live);
  const hour = Math.floor(useNow(60_000) / 3_600_000);
  const base = useMemo(
    () => ({ range: rangeFor(filter.range, hour * 3_600_000), filter: metricFilter(filter), timeZone: TIME_ZONE }),
    [filter, hour],
  );
  const bucket = bucketFor(filter.range);
  const v = Math.max(0, feed.version - 1); // the first update is the state the first answers already show
  const summary = useMetrics(client, DASHBOARD_METRICS, { ...base, names: SUMMARY_METRICS }, v);
  const volume = useMetrics(client, DASHBOARD_SERIES, { ...base, names: VOLUME_METRICS, bucket }, v);
  const platforms = useMetrics(client, DASHBOARD_GROUPED, { ...base, names: PLATFORM_METRICS, groupBy: ["PLATFORM"] }, v);
  const webhooks = useMetrics(
    client,
    DASHBOARD_GROUPED,
    me.role === "ADMIN" && !filter.team && !filter.agent ? { ...base, names: WEBHOOK_METRICS, groupBy: ["PLATFORM"] } : null,
    v,
  );
  const agents = useMetrics(client, DASHBOARD_GROUPED, { ...base, names: AGENT_METRICS, groupBy: ["AGENT"] }, v);
  const byChannel = useMetrics(client, DASHBOARD_GROUPED, { ...base, names: SPREAD_METRICS, groupBy: ["CHANNEL"] }, v);
  const byLabel = useMetrics(client, DASHBOARD_GROUPED, { ...base, names: SPREAD_METRICS, groupBy: ["LABEL"] }, v);

  // Charts from `metrics` were drawn with every dashboard filter; the live team load knows teams only.
  const drill = (d: Drill, scope: DrillScope = metricScope(filter)) => {
    useUi.getState().setFilter(drillFilter(d, scope));
    navigate("/inbox");
  };
  const liveScope: DrillScope = { teamId: filter.team };

  const volumePoints = volume.rows ? volumeSeries(volume.rows, base.range, bucket) : [];
  const platformPoints = platforms.rows ? platformSeries([...platforms.rows, ...(webhooks.rows ?? [])]) : [];
  const m = summary.rows ? byMetric(summary.rows) : {};
  const times = [
    { name: t("dashboard.charts.frt"), ...pick(m.first_response_time) },
    { name: t("dashboard.charts.resolution"), ...pick(m.resolution_time) },
  ];
  const teamPoints = feed.update ? teamSeries(feed.update.teams, filter.team, t("dashboard.charts.noTeam")) : [];
  const agentPoints = agents.rows ? agentSeries(agents.rows, names, t("dashboard.charts.nobody")) : [];
  const channelPoints = byChannel.rows ? spreadSeries(byChannel.rows, "channel", channelNames) : [];
  const labelPoints = byLabel.rows ? spreadSeries(byLabel.rows, "label", new Map()) : [];
  const n = (x: number) => formatCount(x, i18n.language);

  return (
    <main className="flex-1 overflow-y-auto bg-muted/30">
      <div className="mx-auto max-w-7xl space-y-5 px-6 py-6">
        <header className="flex flex-wrap items-end justify-between gap-4">
          <div>
            <h1 className="text-2xl font-semibold tracking-tight">{t("dashboard.title")}</h1>
            <p className="mt-1 flex items-center gap-2 text-sm text-muted-foreground">
              {t("dashboard.subtitle")}
              <span className="inline-flex items-center gap-1 rounded-full bg-success-soft px-2 py-0.5 text-[11px] font-medium text-success-strong" role="status" data-testid="dashboard-updated">
                <Radio className="size-3" aria-hidden />
                {feed.update ? t("dashboard.updated", { time: clockTime(feed.update.at, i18n.language) }) : t("dashboard.waiting")}
              </span>
            </p>
          </div>
          <FilterBar filter={filter} onChange={change} teams={directory.teams} agents={directory.agents} />
        </header>

        <NowStrip update={feed.update} team={filter.team} onDrill={(kind) => drill({ kind }, liveScope)} />
        {summary.error && !summary.rows ? (
          <ChartCard title={t("dashboard.kpi.label")} loading error={summary.error} onRetry={summary.retry}>{null}</ChartCard>
        ) : (
          <KpiGrid rows={summary.rows} />
        )}

        <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
          <ChartCard
            className="lg:col-span-2"
            title={t("dashboard.charts.volume")}
            hint={t("dashboard.charts.volumeHint")}
            loading={!volume.rows}
            error={volume.error}
            onRetry={volume.retry}
            empty={volumePoints.every((p) => p.messagesIn === 0 && p.messagesOut === 0)}
            testId="chart-volume"
          >
            <VolumeChart points={volumePoints} bucket={bucket} />
          </ChartCard>
          <AlertsPanel />
        </div>

        <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
          <ChartCard
            title={t("dashboard.charts.byPlatform")}
            hint={t("dashboard.charts.byPlatformHint")}
            loading={!platforms.rows}
            error={platforms.error}
            onRetry={platforms.retry}
            empty={platformPoints.every((p) => p.messagesIn === 0 && p.conversations === 0)}
            testId="chart-platforms"
            footer={
              <DrillButtons
                items={platformPoints.filter((p) => p.messagesIn > 0).map((p) => ({ key: p.platform, label: platformName(p.platform), value: n(p.messagesIn) }))}
                onDrill={(platform) => drill({ kind: "platform", platform })}
              />
            }
          >
            <PlatformVolumeChart points={platformPoints} onDrill={(platform) => drill({ kind: "platform", platform })} />
          </ChartCard>
          <ChartCard
            title={t("dashboard.charts.teams")}
            hint={t("dashboard.charts.teamsHint")}
            loading={!feed.update}
            empty={teamPoints.length === 0}
            testId="chart-teams"
            footer={
              <DrillButtons
                items={(["queued", "assigned", "unassigned"] as const).map((kind) => ({
                  key: kind,
                  label: t(`dashboard.charts.${kind}`),
                  value: n(teamPoints.reduce((s, p) => s + (kind === "unassigned" ? p.other : p[kind]), 0)),
                }))}
                onDrill={(kind) => drill({ kind: kind as "queued" | "assigned" | "unassigned" }, liveScope)}
              />
            }
          >
            <TeamLoadChart points={teamPoints} onDrill={(kind, teamId) => drill({ kind, teamId }, liveScope)} />
          </ChartCard>
          <ChartCard
            title={t("dashboard.charts.times")}
            hint={t("dashboard.charts.timesHint")}
            loading={!summary.rows}
            error={summary.error}
            onRetry={summary.retry}
            empty={times.every((x) => x.median === null)}
            testId="chart-times"
          >
            <TimesChart rows={times} />
          </ChartCard>
        </div>

        <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
          <ChartCard
            title={t("dashboard.charts.agents")}
            hint={t("dashboard.charts.agentsHint")}
            loading={!agents.rows}
            error={agents.error}
            onRetry={agents.retry}
            empty={agentPoints.length === 0}
            testId="chart-agents"
            footer={
              <DrillButtons
                items={agentPoints.map((p) => ({ key: p.agentId, label: p.name, value: n(p.assigned) }))}
                onDrill={(agentId) => drill({ kind: "agent", agentId })}
              />
            }
          >
            <AgentLoadChart points={agentPoints} onDrill={(agentId) => drill({ kind: "agent", agentId })} />
          </ChartCard>
          <ChartCard
            className="lg:col-span-2"
            title={t("dashboard.charts.health")}
            hint={t("dashboard.charts.healthHint")}
            loading={!platforms.rows}
            error={platforms.error}
            onRetry={platforms.retry}
            empty={platformPoints.every((p) => p.sendAvailability === null && p.webhookAvailability === null && p.latency === null)}
            testId="chart-health"
          >
            <HealthChart points={platformPoints} />
          </ChartCard>
        </div>

        <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
          <ChartCard
            title={t("dashboard.charts.byChannel")}
            hint={t("dashboard.charts.byChannelHint")}
            loading={!byChannel.rows}
            error={byChannel.error}
            onRetry={byChannel.retry}
            empty={channelPoints.length === 0}
            testId="chart-channels"
            footer={
              <DrillButtons
                items={channelPoints.map((p) => ({ key: p.key, label: p.name, value: n(p.count) }))}
                onDrill={(channelId) => drill({ kind: "channel", channelId })}
              />
            }
          >
            <SpreadChart points={channelPoints} onDrill={(channelId) => drill({ kind: "channel", channelId })} />
          </ChartCard>
          <ChartCard
            title={t("dashboard.charts.byLabel")}
            hint={t("dashboard.charts.byLabelHint")}
            loading={!byLabel.rows}
            error={byLabel.error}
            onRetry={byLabel.retry}
            empty={labelPoints.length === 0}
            testId="chart-labels"
            footer={
              <DrillButtons
                items={labelPoints.map((p) => ({ key: p.key, label: `#${p.name}`, value: n(p.count) }))}
                onDrill={(label) => drill({ kind: "label", label })}
              />
            }
          >
            <SpreadChart points={labelPoints} onDrill={(label) => drill({ kind: "label", label })} />
          </ChartCard>
        </div>
      </div>
    </main>
  );
}

function pick(row: { count: number; median: number | null; p90: number | null; p95: number | null } | undefined) {
  return row && row.count > 0 ? { median: row.median, p90: row.p90, p95: row.p95 } : { median: null, p90: null, p95: null };
}
