// The bell's list: loaded once, then fed by notificationEvents; the same rule for both, so a
// notification that arrives twice (a replay after a reconnect, the list overlapping the stream)
// is listed once.
export interface Notification {
  id: string;
  kind: string; // assignment, mention, customer_reply, alert
  title: string;
  body: string;
  data: Record<string, unknown> | null;
  createdAt: string;
  readAt: string | null;
}

export const LIMIT = 30;

export function addNotifications(list: Notification[], incoming: Notification[]): Notification[] {
  const byId = new Map(list.map((n) => [n.id, n]));
  for (const n of incoming) {
    const current = byId.get(n.id);
    // read stays read: a stale copy from before our markNotificationsRead does not undo it
    byId.set(n.id, current?.readAt && !n.readAt ? { ...n, readAt: current.readAt } : n);
  }
  return [...byId.values()].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || Number(b.id) - Number(a.id)).slice(0, LIMIT);
}

export function unread(list: Notification[]): number {
  return list.filter((n) => !n.readAt).length;
}

/** ids: those marked read; null: all. */
export function markRead(list: Notification[], ids: string[] | null, at: string): Notification[] {
  const set = ids ? new Set(ids) : null;
  return list.map((n) => (!n.readAt && (!set || set.has(n.id)) ? { ...n, readAt: at } : n));
}

/** Where a notification leads: its conversation in the inbox (the API's ids are database ids);
 * an alert, the dashboard's alerts (only supervisors and admins are told about alerts). */
export function targetOf(n: Notification): string | null {
  if (n.kind === "alert") return "/dashboard";
  const id = n.data?.conversation_id;
  if (typeof id !== "number" && typeof id !== "string") return null;
  return `/inbox/${btoa(`Conversation:${id}`)}`;
}
