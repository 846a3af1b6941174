// Open and acknowledged alerts, live (alertEvents), each with Acknowledge for the supervisor on it.
import { BellRing, Check, CheckCircle2, Loader2 } from "lucide-react";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import { follow } from "@/api/live";
import { ACKNOWLEDGE_ALERT, DASHBOARD_ALERT_EVENTS, DASHBOARD_ALERTS } from "@/api/ops/dashboard";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardHeader } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";
import { useNow } from "@/hooks/useNow";
import { listTime } from "@/lib/time";
import { useServices } from "@/services";
import { useUi } from "@/state/ui";
import { applyAlert, mergeLoaded, type Alert } from "./alerts";

const SEVERITY = { critical: "danger", warning: "warning", info: "info" } as const;

export function AlertsPanel() {
  const { t } = useTranslation();
  const { client, live } = useServices();
  const showError = useUi((s) => s.showError);
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    // live first, then the list: nothing that changes in between is missed
    const stop = follow<{ cursor: string; type: string; alert: Alert }>(
      live,
      DASHBOARD_ALERT_EVENTS,
      {},
      (event) => setAlerts((list) => applyAlert(list ?? [], event.alert)),
      () => undefined,
      "alertEvents",
    );
    let current = true;
    void client
      .query<{ alerts: Alert[] }>(DASHBOARD_ALERTS, { states: ["open", "acknowledged"] }, { requestPolicy: "network-only" })
      .toPromise()
      .then((r) => {
        if (!current) return;
        if (r.error) setError(r.error);
        else {
          setError(null);
          setAlerts((list) => mergeLoaded(list ?? [], r.data?.alerts ?? []));
        }
      });
    return () => {
      current = false;
      stop();
    };
  }, [client, live, attempt]);

  const acknowledge = async (id: string) => {
    setBusy(id);
    const r = await client.mutation<{ acknowledgeAlert: Alert }>(ACKNOWLEDGE_ALERT, { id }).toPromise();
    setBusy(null);
    if (r.error) {
      const e = explain(r.error, t);
      showError(e.message, e.code);
    } else if (r.data) setAlerts((list) => applyAlert(list ?? [], r.data!.acknowledgeAlert));
  };

  const open = alerts?.filter((a) => a.state === "open").length ?? 0;
  return (
    <Card className="flex min-w-0 flex-col" data-testid="alerts-panel">
      <CardHeader
        title={
          <span className="flex items-center gap-2">
            {t("dashboard.alerts.title")}
            {open > 0 && <Badge variant="danger">{open}</Badge>}
          </span>
        }
        description={t("dashboard.alerts.hint")}
      />
      <div className="max-h-[22rem] flex-1 overflow-y-auto">
        {error && !alerts ? (
          <ErrorState error={error} onRetry={() => setAttempt((n) => n + 1)} compact />
        ) : !alerts ? (
          <div className="space-y-2 p-4" aria-busy>
            {Array.from({ length: 3 }, (_, i) => <Skeleton key={i} className="h-14 w-full" />)}
          </div>
        ) : alerts.length === 0 ? (
          <div className="flex flex-col items-center justify-center gap-2 px-6 py-10 text-center">
            <span className="flex size-10 items-center justify-center rounded-full bg-success-soft text-success-strong" aria-hidden>
              <CheckCircle2 className="size-5" />
            </span>
            <p className="text-sm font-medium">{t("dashboard.alerts.none")}</p>
            <p className="max-w-xs text-xs text-muted-foreground">{t("dashboard.alerts.noneHint")}</p>
          </div>
        ) : (
          <ul className="divide-y divide-border">
            {alerts.map((a) => (
              <AlertRow key={a.id} alert={a} busy={busy === a.id} onAcknowledge={() => void acknowledge(a.id)} />
            ))}
          </ul>
        )}
      </div>
    </Card>
  );
}

function AlertRow({ alert, busy, onAcknowledge }: { alert: Alert; busy: boolean; onAcknowledge: () => void }) {
  const { t, i18n } = useTranslation();
  const now = useNow(30_000);
  const fmt = (v: number | null) => (v === null ? "—" : new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 2 }).format(v));
  const severity = SEVERITY[alert.severity as keyof typeof SEVERITY] ?? "outline";
  return (
    <li className="flex items-start gap-3 px-4 py-3" data-alert={alert.ruleName} data-state={alert.state}>
      <span
        className={alert.state === "open" ? "mt-0.5 flex size-8 shrink-0 items-center justify-center rounded-full bg-danger-soft text-danger-strong" : "mt-0.5 flex size-8 shrink-0 items-center justify-center rounded-full bg-muted text-muted-foreground"}
        aria-hidden
      >
        <BellRing className="size-4" />
      </span>
      <div className="min-w-0 flex-1">
        <div className="flex flex-wrap items-center gap-1.5">
          <span className="truncate text-sm font-medium">{alert.ruleName}</span>
          <Badge variant={severity}>{t(`dashboard.alerts.severity.${alert.severity}`, { defaultValue: alert.severity })}</Badge>
          {alert.state === "acknowledged" && <Badge variant="secondary"><Check aria-hidden /> {t("dashboard.alerts.acknowledged")}</Badge>}
        </div>
        <p className="mt-0.5 text-xs text-muted-foreground">
          <span className="font-mono">{alert.kind}</span> · {t("dashboard.alerts.value", { value: fmt(alert.value), threshold: fmt(alert.threshold) })}
        </p>
        <p className="text-xs text-muted-foreground">{t("dashboard.alerts.opened", { time: listTime(alert.openedAt, now, i18n.language, t("time.now")) })}</p>
      </div>
      {alert.state === "open" && (
        <Button size="sm" variant="outline" onClick={onAcknowledge} disabled={busy} aria-label={`${t("dashboard.alerts.acknowledge")}: ${alert.ruleName}`}>
          {busy ? <Loader2 className="animate-spin" aria-hidden /> : <Check aria-hidden />}
          {t("dashboard.alerts.acknowledge")}
        </Button>
      )}
    </li>
  );
}
