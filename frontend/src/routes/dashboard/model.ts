// The dashboard's rules without React: its filters (kept in the URL), the range and bucket they ask
// for, the metrics rows shaped for the charts, and the inbox filter a chart's bar drills into.
import { DEFAULT_FILTER, type InboxFilter } from "@/state/filters";

export type RangeKey = "24h" | "7d" | "30d";
export const RANGES: RangeKey[] = ["24h", "7d", "30d"];
const HOURS: Record<RangeKey, number> = { "24h": 24, "7d": 24 * 7, "30d": 24 * 30 };

export const PLATFORMS = ["WHATSAPP", "MESSENGER", "INSTAGRAM", "TELEGRAM", "DISCORD", "SLACK", "WEBCHAT", "SMS", "EMAIL", "LINE", "VIBER", "WECHAT"] as const;

export interface DashboardFilter {
  range: RangeKey;
  platform: string; // "" for any
  team: string; // a Team id, "" for any
  agent: string; // a User id, "" for any
}

export const DEFAULT_DASHBOARD_FILTER: DashboardFilter = { range: "7d", platform: "", team: "", agent: "" };

export function parseFilter(params: URLSearchParams): DashboardFilter {
  const range = params.get("range") as RangeKey | null;
  const platform = params.get("platform") ?? "";
  return {
    range: range && RANGES.includes(range) ? range : DEFAULT_DASHBOARD_FILTER.range,
    platform: (PLATFORMS as readonly string[]).includes(platform) ? platform : "",
    team: params.get("team") ?? "",
    agent: params.get("agent") ?? "",
  };
}

export function filterParams(f: DashboardFilter): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.range !== DEFAULT_DASHBOARD_FILTER.range) out.range = f.range;
  if (f.platform) out.platform = f.platform;
  if (f.team) out.team = f.team;
  if (f.agent) out.agent = f.agent;
  return out;
}

/** Whole hours ending with the current one (metrics count the hours starting within [from, to)). */
export function rangeFor(key: RangeKey, now: number): { from: string; to: string } {
  const hour = 3_600_000;
  const to = Math.floor(now / hour) * hour + hour;
  return { from: new Date(to - HOURS[key] * hour).toISOString(), to: new Date(to).toISOString() };
}

export function bucketFor(key: RangeKey): "HOUR" | "DAY" {
  return key === "30d" ? "DAY" : "HOUR";
}

/** The MetricFilter the filters ask for; null when nothing narrows it. */
export function metricFilter(f: DashboardFilter): Record<string, string[]> | null {
  const out: Record<string, string[]> = {};
  if (f.platform) out.platforms = [f.platform];
  if (f.team) out.teamIds = [f.team];
  if (f.agent) out.agentIds = [f.agent];
  return Object.keys(out).length ? out : null;
}

export interface MetricRow {
  metric: string;
  bucket: string | null;
  count: number;
  avg: number | null;
  median: number | null;
  p90: number | null;
  p95: number | null;
  value: number | null;
  numerator: number | null;
  group: { platform: string | null; teamId: string | null; agentId: string | null; channelId?: string | null; label?: string | null };
}

export function byMetric(rows: readonly MetricRow[]): Record<string, MetricRow | undefined> {
  return Object.fromEntries(rows.map((r) => [r.metric, r]));
}

/** Counts are in `count`; durations in median/p90/p95; ratios in `value`. */
export const SUMMARY_METRICS = [
  "conversations_started", "messages_in", "messages_out", "first_response_time", "resolution_time",
  "resolutions", "resolution_rate", "csat_responses", "csat_average", "csat_satisfaction",
];
export const VOLUME_METRICS = ["messages_in", "messages_out"];
export const PLATFORM_METRICS = ["messages_in", "conversations_started", "send_availability", "outbound_accept_latency"];
/** Webhook numbers have no team or agent: only admins see them, and only unfiltered by either. */
export const WEBHOOK_METRICS = ["webhook_availability"];
export const AGENT_METRICS = ["assigned_now"];
/** Where conversations started (by channel) and what they are about (by label). */
export const SPREAD_METRICS = ["conversations_started"];

export interface VolumePoint { bucket: string; messagesIn: number; messagesOut: number }

/** Every bucket of the range, empty ones as zeros (the metrics answer only the buckets with data).
 * Hours step in UTC; days start at local midnight (the question's timeZone is the browser's). */
export function volumeSeries(rows: readonly MetricRow[], range: { from: string; to: string }, bucket: "HOUR" | "DAY"): VolumePoint[] {
  const points = new Map<number, VolumePoint>();
  const end = Date.parse(range.to);
  const start = new Date(range.from);
  if (bucket === "DAY") start.setHours(0, 0, 0, 0);
  for (const at = start; at.getTime() < end; bucket === "DAY" ? at.setDate(at.getDate() + 1) : at.setTime(at.getTime() + 3_600_000)) {
    points.set(at.getTime(), { bucket: at.toISOString(), messagesIn: 0, messagesOut: 0 });
  }
  for (const r of rows) {
    if (!r.bucket) continue;
    const key = Date.parse(r.bucket);
    const p = points.get(key) ?? { bucket: new Date(key).toISOString(), messagesIn: 0, messagesOut: 0 };
    if (r.metric === "messages_in") p.messagesIn += r.count;
    if (r.metric === "messages_out") p.messagesOut += r.count;
    points.set(key, p);
  }
  return [...points.values()].sort((a, b) => Date.parse(a.bucket) - Date.parse(b.bucket));
}

export interface PlatformPoint {
  platform: string;
  messagesIn: number;
  conversations: number;
  sendAvailability: number | null; // percent
  webhookAvailability: number | null; // percent
  latency: number | null; // seconds, p90
}

export function platformSeries(rows: readonly MetricRow[]): PlatformPoint[] {
  const points = new Map<string, PlatformPoint>();
  for (const r of rows) {
    const platform = r.group.platform?.toUpperCase(); // groups name it in lower case, filters take the enum
    if (!platform) continue;
    const p = points.get(platform) ?? { platform, messagesIn: 0, conversations: 0, sendAvailability: null, webhookAvailability: null, latency: null };
    if (r.metric === "messages_in") p.messagesIn += r.count;
    else if (r.metric === "conversations_started") p.conversations += r.count;
    else if (r.metric === "send_availability" && r.count > 0 && r.value !== null) p.sendAvailability = r.value * 100;
    else if (r.metric === "webhook_availability" && r.count > 0 && r.value !== null) p.webhookAvailability = r.value * 100;
    else if (r.metric === "outbound_accept_latency" && r.count > 0) p.latency = r.p90;
    points.set(platform, p);
  }
  return [...points.values()].sort((a, b) => b.messagesIn - a.messagesIn || a.platform.localeCompare(b.platform));
}

export interface TeamLoad { teamId: string | null; teamName: string | null; open: number; queued: number; assigned: number }

export function liveTotals(teams: readonly TeamLoad[]): { open: number; queued: number; assigned: number } {
  return teams.reduce((t, x) => ({ open: t.open + x.open, queued: t.queued + x.queued, assigned: t.assigned + x.assigned }), { open: 0, queued: 0, assigned: 0 });
}

/** Teams by load, biggest first; the team filter keeps only that team. */
export function teamSeries(teams: readonly TeamLoad[], team: string, noTeam: string) {
  return teams
    .filter((x) => !team || x.teamId === team)
    .map((x) => ({ teamId: x.teamId, name: x.teamName ?? noTeam, queued: x.queued, assigned: x.assigned, other: Math.max(0, x.open - x.queued - x.assigned) }))
    .sort((a, b) => b.queued + b.assigned - (a.queued + a.assigned));
}

export function agentSeries(rows: readonly MetricRow[], names: ReadonlyMap<string, string>, nobody: string) {
  return rows
    .filter((r) => r.metric === "assigned_now" && r.group.agentId && r.count > 0)
    .map((r) => ({ agentId: r.group.agentId!, name: names.get(r.group.agentId!) ?? nobody, assigned: r.count }))
    .sort((a, b) => b.assigned - a.assigned)
    .slice(0, 12);
}

/** The conversations started per channel or per label, most first (a label's conversations
 * count once per label they carry). */
export function spreadSeries(rows: readonly MetricRow[], by: "channel" | "label", names: ReadonlyMap<string, string>, limit = 8) {
  return rows
    .filter((r) => r.metric === "conversations_started" && r.count > 0)
    .map((r) => ({ key: (by === "channel" ? r.group.channelId : r.group.label) ?? "", count: r.count }))
    .filter((p) => p.key)
    .map((p) => ({ ...p, name: by === "channel" ? names.get(p.key) ?? p.key : p.key }))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name))
    .slice(0, limit);
}

/** What the inbox shows when a bar is clicked: the filter the inbox understands (state/filters.ts).
 * A load segment may name its team (null: the "no team" bar, which the inbox cannot ask for). */
export type Segment = "queued" | "unassigned" | "assigned" | "open";
export type Drill =
  | { kind: "platform"; platform: string }
  | { kind: Segment; teamId?: string | null }
  | { kind: "agent"; agentId: string }
  | { kind: "channel"; channelId: string }
  | { kind: "label"; label: string };

/** The dashboard's own filters that narrowed the chart clicked; the drilled list keeps them. */
export interface DrillScope { platform?: string; teamId?: string; agentId?: string }

/** The scope of the charts drawn from `metrics` (every dashboard filter narrows them). The live
 * team load knows only teams: its scope is `{ teamId }`. */
export function metricScope(f: DashboardFilter): DrillScope {
  return { platform: f.platform, teamId: f.team, agentId: f.agent };
}

export function drillFilter(drill: Drill, scope: DrillScope = {}): Partial<InboxFilter> {
  // From the inbox's defaults, so a label, assignee or date filter left on there does not narrow
  // the drilled list; then the dashboard's filters the chart was drawn with.
  const base: InboxFilter = {
    ...DEFAULT_FILTER, tab: "all", status: "",
    platform: scope.platform ?? "", teamId: scope.teamId ?? "", assigneeId: scope.agentId ?? "",
  };
  switch (drill.kind) {
    case "platform":
      return { ...base, platform: drill.platform };
    case "channel":
      return { ...base, channelId: drill.channelId };
    case "label":
      return { ...base, labels: [drill.label] };
    case "agent": // "assigned now": their open conversations
      return { ...base, status: "OPEN", assigneeId: drill.agentId };
    case "queued": // the inbox tells no queued from unassigned: both are "Unassigned"
    case "unassigned":
      return { ...base, tab: "unassigned", status: "OPEN", assigneeId: "", teamId: drill.teamId || base.teamId };
    case "assigned":
    case "open":
      return { ...base, status: "OPEN", teamId: drill.teamId || base.teamId };
  }
}

/** "45 s", "12 min", "3.5 h", "2.1 d"; null: "—". */
export function formatDuration(seconds: number | null | undefined, lng: string): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const n = (v: number, digits: number) => new Intl.NumberFormat(lng, { maximumFractionDigits: digits }).format(v);
  if (seconds < 10) return `${n(seconds, 1)} s`;
  if (seconds < 60) return `${n(Math.round(seconds), 0)} s`;
  if (seconds < 3600) return `${n(seconds / 60, seconds < 600 ? 1 : 0)} min`;
  if (seconds < 86_400) return `${n(seconds / 3600, 1)} h`;
  return `${n(seconds / 86_400, 1)} d`;
}

export function formatPercent(ratio: number | null | undefined, lng: string): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  return new Intl.NumberFormat(lng, { style: "percent", maximumFractionDigits: 1 }).format(ratio);
}

export function formatCount(n: number, lng: string): string {
  return new Intl.NumberFormat(lng).format(n);
}

/** Axis ticks: "950", "10K", "1.2M". */
export function formatCompact(n: number, lng: string): string {
  return new Intl.NumberFormat(lng, { notation: "compact", maximumFractionDigits: 1 }).format(n);
}
