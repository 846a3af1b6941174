// The numbers at the top: what is happening right now (live, from dashboardUpdates) and the key
// numbers over the chosen range and filters (from metrics, asked again on every live change).
import { BellRing, CheckCircle2, Clock, Inbox, MessageSquare, ShieldAlert, Smile, Timer, UserCheck, Users } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Skeleton } from "@/components/ui/misc";
import { cn } from "@/lib/utils";
import { byMetric, formatCount, formatDuration, formatPercent, liveTotals, type MetricRow } from "./model";
import type { DashboardUpdate } from "./live";

export function StatCard({ label, value, detail, icon, tone = "default", testId, onClick, actionLabel }: {
  label: string;
  value: ReactNode;
  detail?: ReactNode;
  icon: ReactNode;
  tone?: "default" | "warning" | "danger" | "success";
  testId?: string;
  onClick?: () => void;
  actionLabel?: string;
}) {
  const body = (
    <>
      <div className="flex items-center justify-between gap-2">
        <span className="text-xs font-medium text-muted-foreground">{label}</span>
        <span
          className={cn(
            "flex size-7 items-center justify-center rounded-md [&_svg]:size-4",
            tone === "default" && "bg-primary/10 text-primary",
            tone === "warning" && "bg-warning-soft text-warning-strong",
            tone === "danger" && "bg-danger-soft text-danger-strong",
            tone === "success" && "bg-success-soft text-success-strong",
          )}
          aria-hidden
        >
          {icon}
        </span>
      </div>
      <div className="mt-2 text-2xl font-semibold tabular-nums tracking-tight" data-testid={testId}>{value}</div>
      {detail && <div className="mt-0.5 truncate text-xs text-muted-foreground">{detail}</div>}
      {onClick && actionLabel && <span className="sr-only">{actionLabel}</span>}
    </>
  );
  const frame = "rounded-xl border border-border bg-background p-4 shadow-sm text-left";
  return onClick ? (
    <button type="button" onClick={onClick} title={actionLabel} className={cn(frame, "transition hover:border-primary/40 hover:shadow focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring")}>
      {body}
    </button>
  ) : (
    <div className={frame}>{body}</div>
  );
}

export function NowStrip({ update, team, onDrill }: { update: DashboardUpdate | null; team: string; onDrill: (kind: "open" | "queued" | "assigned") => void }) {
  const { t, i18n } = useTranslation();
  if (!update) {
    return (
      <div className="grid grid-cols-2 gap-3 md:grid-cols-5" aria-busy>
        {Array.from({ length: 5 }, (_, i) => <Skeleton key={i} className="h-[104px] rounded-xl" />)}
      </div>
    );
  }
  const totals = liveTotals(team ? update.teams.filter((x) => x.teamId === team) : update.teams);
  const n = (v: number) => formatCount(v, i18n.language);
  return (
    <section aria-label={t("dashboard.now.label")} className="grid grid-cols-2 gap-3 md:grid-cols-5">
      <StatCard label={t("dashboard.now.open")} value={n(totals.open)} icon={<Inbox />} testId="now-open" onClick={() => onDrill("open")} actionLabel={t("dashboard.charts.drill", { what: t("dashboard.now.open") })} />
      <StatCard label={t("dashboard.now.queued")} value={n(totals.queued)} icon={<Users />} tone={totals.queued > 0 ? "warning" : "default"} testId="now-queued" onClick={() => onDrill("queued")} actionLabel={t("dashboard.charts.drill", { what: t("dashboard.now.queued") })} />
      <StatCard label={t("dashboard.now.assigned")} value={n(totals.assigned)} icon={<UserCheck />} testId="now-assigned" onClick={() => onDrill("assigned")} actionLabel={t("dashboard.charts.drill", { what: t("dashboard.now.assigned") })} />
      <StatCard label={t("dashboard.now.breaches")} value={n(update.slaBreaches)} icon={<ShieldAlert />} tone={update.slaBreaches > 0 ? "danger" : "success"} testId="now-breaches" />
      <StatCard label={t("dashboard.now.alerts")} value={update.alertsOpen === null ? "—" : n(update.alertsOpen)} icon={<BellRing />} tone={(update.alertsOpen ?? 0) > 0 ? "danger" : "success"} testId="now-alerts" />
    </section>
  );
}

export function KpiGrid({ rows }: { rows: MetricRow[] | null }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  if (!rows) {
    return (
      <div className="grid grid-cols-2 gap-3 md:grid-cols-5" aria-busy>
        {Array.from({ length: 5 }, (_, i) => <Skeleton key={i} className="h-[104px] rounded-xl" />)}
      </div>
    );
  }
  const m = byMetric(rows);
  const count = (name: string) => m[name]?.count ?? 0;
  const frt = m.first_response_time;
  const res = m.resolution_time;
  const csat = m.csat_average;
  return (
    <section aria-label={t("dashboard.kpi.label")} className="grid grid-cols-2 gap-3 md:grid-cols-5">
      <StatCard label={t("dashboard.kpi.conversations")} value={formatCount(count("conversations_started"), lng)} icon={<MessageSquare />} testId="kpi-conversations" />
      <StatCard
        label={t("dashboard.kpi.messagesIn")}
        value={formatCount(count("messages_in"), lng)}
        detail={t("dashboard.kpi.messagesOut", { count: count("messages_out") })}
        icon={<Inbox />}
        testId="kpi-messages-in"
      />
      <StatCard
        label={t("dashboard.kpi.frt")}
        value={formatDuration(frt?.count ? frt.median : null, lng)}
        detail={frt?.count ? t("dashboard.kpi.frtP90", { value: formatDuration(frt.p90, lng) }) : undefined}
        icon={<Timer />}
        testId="kpi-frt"
      />
      <StatCard
        label={t("dashboard.kpi.resolution")}
        value={formatDuration(res?.count ? res.median : null, lng)}
        detail={`${t("dashboard.kpi.resolutions", { count: count("resolutions") })} · ${formatPercent(m.resolution_rate?.count ? m.resolution_rate.value : null, lng)}`}
        icon={<CheckCircle2 />}
        tone="success"
        testId="kpi-resolution"
      />
      <StatCard
        label={t("dashboard.kpi.csat")}
        value={csat?.count && csat.value !== null ? `${csat.value.toFixed(2)} / 5` : "—"}
        detail={
          csat?.count
            ? t("dashboard.kpi.csatDetail", { share: formatPercent(m.csat_satisfaction?.value ?? null, lng), count: csat.count })
            : t("dashboard.kpi.csatNone")
        }
        icon={csat?.count ? <Smile /> : <Clock />}
        testId="kpi-csat"
      />
    </section>
  );
}
