// The active alerts list, kept by the same rule whether the change came from the first load, a
// live alertEvents event or our own acknowledgement: resolved alerts leave it, newest first.
export interface Alert {
  id: string;
  ruleId: string;
  ruleName: string;
  kind: string;
  state: string; // open, acknowledged, resolved
  severity: string; // info, warning, critical
  value: number | null;
  threshold: number;
  openedAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  acknowledgedById: string | null;
  resolvedAt: string | null;
}

const RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** Open before acknowledged, then by severity, then newest first. */
export function sortAlerts(list: Alert[]): Alert[] {
  return [...list].sort(
    (a, b) =>
      Number(a.state !== "open") - Number(b.state !== "open") ||
      (RANK[a.severity] ?? 3) - (RANK[b.severity] ?? 3) ||
      Date.parse(b.openedAt) - Date.parse(a.openedAt),
  );
}

export function applyAlert(list: Alert[], alert: Alert): Alert[] {
  const others = list.filter((a) => a.id !== alert.id);
  if (alert.state === "resolved") return others;
  const current = list.find((a) => a.id === alert.id);
  // a late copy (e.g. the list loaded before our acknowledgement landed) never undoes a newer state
  if (current && current.state === "acknowledged" && alert.state === "open" && Date.parse(alert.lastSeenAt) <= Date.parse(current.lastSeenAt)) return list;
  return sortAlerts([...others, alert]);
}

export function mergeLoaded(list: Alert[], loaded: Alert[]): Alert[] {
  return loaded.reduce(applyAlert, list);
}
