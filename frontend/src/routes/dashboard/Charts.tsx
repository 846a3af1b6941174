// The dashboard's charts (Recharts, only in this lazily loaded screen). Each drillable bar also has
// a button below its chart, so the drill-down works from the keyboard too.
import { ArrowUpRight } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Area, AreaChart, Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { AXIS, COLORS } from "./ChartCard";
import { platformName } from "./FilterBar";
import { formatCompact, formatDuration, type PlatformPoint, type VolumePoint } from "./model";

const grid = <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />;
// legend labels in the text colour (Recharts paints them in the series colour: too pale for some)
const legendText = (value: unknown) => <span style={{ color: "#334155" }}>{String(value)}</span>;
const tooltipStyle = { contentStyle: { borderRadius: 8, border: "1px solid #e2e8f0", fontSize: 12, boxShadow: "0 4px 12px rgb(0 0 0 / 0.08)" } };

export function VolumeChart({ points, bucket }: { points: VolumePoint[]; bucket: "HOUR" | "DAY" }) {
  const { t, i18n } = useTranslation();
  const label = (iso: string) =>
    new Date(iso).toLocaleString(i18n.language, bucket === "HOUR" ? { day: "numeric", month: "short", hour: "2-digit" } : { day: "numeric", month: "short" });
  return (
    <ResponsiveContainer width="100%" height="100%">
      <AreaChart data={points} margin={{ top: 4, right: 8, left: -12, bottom: 0 }}>
        <defs>
          <linearGradient id="dash-in" x1="0" y1="0" x2="0" y2="1">
            <stop offset="0%" stopColor={COLORS.primary} stopOpacity={0.3} />
            <stop offset="100%" stopColor={COLORS.primary} stopOpacity={0} />
          </linearGradient>
          <linearGradient id="dash-out" x1="0" y1="0" x2="0" y2="1">
            <stop offset="0%" stopColor={COLORS.secondary} stopOpacity={0.25} />
            <stop offset="100%" stopColor={COLORS.secondary} stopOpacity={0} />
          </linearGradient>
        </defs>
        {grid}
        <XAxis dataKey="bucket" tickFormatter={label} tick={AXIS} tickLine={false} axisLine={false} minTickGap={24} />
        <YAxis allowDecimals={false} tickFormatter={(v) => formatCompact(Number(v), i18n.language)} tick={AXIS} tickLine={false} axisLine={false} width={44} />
        <Tooltip labelFormatter={(v) => label(String(v))} {...tooltipStyle} />
        <Legend iconType="circle" wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
        <Area type="monotone" dataKey="messagesIn" name={t("dashboard.charts.messagesIn")} stroke={COLORS.primary} fill="url(#dash-in)" strokeWidth={2} isAnimationActive={false} />
        <Area type="monotone" dataKey="messagesOut" name={t("dashboard.charts.messagesOut")} stroke={COLORS.secondary} fill="url(#dash-out)" strokeWidth={2} isAnimationActive={false} />
      </AreaChart>
    </ResponsiveContainer>
  );
}

export function PlatformVolumeChart({ points, onDrill }: { points: PlatformPoint[]; onDrill: (platform: string) => void }) {
  const { t, i18n } = useTranslation();
  const data = points.map((p) => ({ ...p, name: platformName(p.platform) }));
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={data} margin={{ top: 4, right: 8, left: -12, bottom: 0 }} barGap={2}>
        {grid}
        <XAxis dataKey="name" tick={AXIS} tickLine={false} axisLine={false} />
        <YAxis allowDecimals={false} tickFormatter={(v) => formatCompact(Number(v), i18n.language)} tick={AXIS} tickLine={false} axisLine={false} width={44} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} {...tooltipStyle} />
        <Legend iconType="circle" wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
        <Bar dataKey="messagesIn" name={t("dashboard.charts.messagesIn")} fill={COLORS.primary} radius={[4, 4, 0, 0]} cursor="pointer" onClick={(e) => onDrill((e.payload as PlatformPoint).platform)} maxBarSize={48} isAnimationActive={false} />
        <Bar dataKey="conversations" name={t("dashboard.charts.conversations")} fill={COLORS.secondary} radius={[4, 4, 0, 0]} cursor="pointer" onClick={(e) => onDrill((e.payload as PlatformPoint).platform)} maxBarSize={48} isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

export function DrillButtons({ items, onDrill }: { items: { key: string; label: string; value: string }[]; onDrill: (key: string) => void }) {
  const { t } = useTranslation();
  return (
    <ul className="flex flex-wrap gap-1.5">
      {items.map((item) => (
        <li key={item.key}>
          <button
            type="button"
            onClick={() => onDrill(item.key)}
            title={t("dashboard.charts.drill", { what: item.label })}
            data-drill={item.key}
            className="inline-flex items-center gap-1 rounded-full border border-border px-2.5 py-1 text-xs hover:border-primary/40 hover:bg-primary/5 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
          >
            <span className="font-medium">{item.label}</span>
            <span className="tabular-nums text-muted-foreground">{item.value}</span>
            <ArrowUpRight className="size-3 text-muted-foreground" aria-hidden />
            <span className="sr-only">{t("dashboard.charts.drill", { what: item.label })}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

export interface DurationRow { name: string; median: number | null; p90: number | null; p95: number | null }

export function TimesChart({ rows }: { rows: DurationRow[] }) {
  const { t, i18n } = useTranslation();
  const fmt = (v: unknown) => formatDuration(Number(v), i18n.language);
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, left: 8, bottom: 0 }} barGap={2}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" horizontal={false} />
        <XAxis type="number" tickFormatter={fmt} tick={AXIS} tickLine={false} axisLine={false} />
        <YAxis type="category" dataKey="name" tick={AXIS} tickLine={false} axisLine={false} width={96} />
        <Tooltip formatter={fmt} cursor={{ fill: "#f1f5f9" }} {...tooltipStyle} />
        <Legend iconType="circle" wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
        <Bar dataKey="median" name={t("dashboard.charts.median")} fill={COLORS.primary} radius={[0, 4, 4, 0]} maxBarSize={18} isAnimationActive={false} />
        <Bar dataKey="p90" name={t("dashboard.charts.p90")} fill={COLORS.secondary} radius={[0, 4, 4, 0]} maxBarSize={18} isAnimationActive={false} />
        <Bar dataKey="p95" name={t("dashboard.charts.p95")} fill={COLORS.tertiary} radius={[0, 4, 4, 0]} maxBarSize={18} isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

export interface TeamPoint { teamId: string | null; name: string; queued: number; assigned: number; other: number }

/** A segment drills into its kind of conversation in the bar's team (the "no team" bar: any team). */
export function TeamLoadChart({ points, onDrill }: { points: TeamPoint[]; onDrill: (kind: "queued" | "assigned" | "unassigned", teamId: string | null) => void }) {
  const { t, i18n } = useTranslation();
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={points} margin={{ top: 4, right: 8, left: -12, bottom: 0 }}>
        {grid}
        <XAxis dataKey="name" tick={AXIS} tickLine={false} axisLine={false} />
        <YAxis allowDecimals={false} tickFormatter={(v) => formatCompact(Number(v), i18n.language)} tick={AXIS} tickLine={false} axisLine={false} width={44} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} {...tooltipStyle} />
        <Legend iconType="circle" wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
        <Bar dataKey="queued" stackId="load" name={t("dashboard.charts.queued")} fill={COLORS.tertiary} cursor="pointer" onClick={(e) => onDrill("queued", (e.payload as TeamPoint).teamId)} maxBarSize={48} isAnimationActive={false} />
        <Bar dataKey="assigned" stackId="load" name={t("dashboard.charts.assigned")} fill={COLORS.primary} cursor="pointer" onClick={(e) => onDrill("assigned", (e.payload as TeamPoint).teamId)} maxBarSize={48} isAnimationActive={false} />
        <Bar dataKey="other" stackId="load" name={t("dashboard.charts.unassigned")} fill="#94a3b8" radius={[4, 4, 0, 0]} cursor="pointer" onClick={(e) => onDrill("unassigned", (e.payload as TeamPoint).teamId)} maxBarSize={48} isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

export function AgentLoadChart({ points, onDrill }: { points: { agentId: string; name: string; assigned: number }[]; onDrill: (agentId: string) => void }) {
  const { t, i18n } = useTranslation();
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={points} layout="vertical" margin={{ top: 4, right: 16, left: 8, bottom: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" horizontal={false} />
        <XAxis type="number" allowDecimals={false} tickFormatter={(v) => formatCompact(Number(v), i18n.language)} tick={AXIS} tickLine={false} axisLine={false} />
        <YAxis type="category" dataKey="name" tick={AXIS} tickLine={false} axisLine={false} width={96} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} {...tooltipStyle} />
        <Bar dataKey="assigned" name={t("dashboard.charts.assigned")} fill={COLORS.primary} radius={[0, 4, 4, 0]} barSize={14} cursor="pointer" onClick={(e) => onDrill((e.payload as { agentId: string }).agentId)} isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

/** Conversations started per channel or per label, most first; a bar drills into its key. */
export function SpreadChart({ points, onDrill }: { points: { key: string; name: string; count: number }[]; onDrill: (key: string) => void }) {
  const { t, i18n } = useTranslation();
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={points} layout="vertical" margin={{ top: 4, right: 16, left: 8, bottom: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" horizontal={false} />
        <XAxis type="number" allowDecimals={false} tickFormatter={(v) => formatCompact(Number(v), i18n.language)} tick={AXIS} tickLine={false} axisLine={false} />
        <YAxis type="category" dataKey="name" tick={AXIS} tickLine={false} axisLine={false} width={96} />
        <Tooltip cursor={{ fill: "#f1f5f9" }} {...tooltipStyle} />
        <Bar dataKey="count" name={t("dashboard.charts.conversations")} fill={COLORS.secondary} radius={[0, 4, 4, 0]} barSize={14} cursor="pointer" onClick={(e) => onDrill((e.payload as { key: string }).key)} isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

export function HealthChart({ points }: { points: PlatformPoint[] }) {
  const { t, i18n } = useTranslation();
  const data = points.map((p) => ({ ...p, name: platformName(p.platform) }));
  const hasWebhooks = points.some((p) => p.webhookAvailability !== null);
  const pct = (v: unknown) => `${Number(v).toFixed(0)}%`;
  return (
    <ResponsiveContainer width="100%" height="100%">
      <ComposedChart data={data} margin={{ top: 4, right: 0, left: -12, bottom: 0 }} barGap={2}>
        {grid}
        <XAxis dataKey="name" tick={AXIS} tickLine={false} axisLine={false} />
        <YAxis yAxisId="pct" domain={[0, 100]} tickFormatter={pct} tick={AXIS} tickLine={false} axisLine={false} width={48} />
        <YAxis yAxisId="s" orientation="right" tickFormatter={(v) => formatDuration(Number(v), i18n.language)} tick={AXIS} tickLine={false} axisLine={false} width={52} />
        <Tooltip
          formatter={(v, name) => (name === t("dashboard.charts.latency") ? formatDuration(Number(v), i18n.language) : pct(v))}
          cursor={{ fill: "#f1f5f9" }}
          {...tooltipStyle}
        />
        <Legend iconType="circle" wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
        <Bar yAxisId="pct" dataKey="sendAvailability" name={t("dashboard.charts.sendAvailability")} fill={COLORS.success} radius={[4, 4, 0, 0]} maxBarSize={48} isAnimationActive={false} />
        {hasWebhooks && <Bar yAxisId="pct" dataKey="webhookAvailability" name={t("dashboard.charts.webhookAvailability")} fill={COLORS.secondary} radius={[4, 4, 0, 0]} maxBarSize={48} isAnimationActive={false} />}
        <Line yAxisId="s" type="monotone" dataKey="latency" name={t("dashboard.charts.latency")} stroke={COLORS.danger} strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
      </ComposedChart>
    </ResponsiveContainer>
  );
}
