// The inbox's filters: what the server is asked for (ConversationFilter) and the same rule applied
// to live events, so a conversation that stops matching leaves the list and one that starts
// matching joins it. Saved views store the server's filter; viewToFilter reads one back.
import type { Conversation } from "../api/types";

export type Tab = "mine" | "unassigned" | "all";
export interface InboxFilter {
  tab: Tab;
  status: string; // "" for any
  platform: string; // "" for any
  priority: string; // "" for any
  unanswered: boolean;
  text: string; // the search box: full-text search over every message (the `search` query)
  assigneeId: string; // "" for any (the "mine" tab is the signed-in user)
  teamId: string; // "" for any
  channelId: string; // "" for any
  labels: string[]; // conversations carrying all of these
  since: string; // "YYYY-MM-DD" (local day, inclusive) or ""
  until: string; // "YYYY-MM-DD" (local day, inclusive) or ""
}

export const DEFAULT_FILTER: InboxFilter = {
  tab: "all", status: "OPEN", platform: "", priority: "", unanswered: false, text: "",
  assigneeId: "", teamId: "", channelId: "", labels: [], since: "", until: "",
};

/** A local day's start as an instant; `until` is inclusive, so its next day's start. */
export function dayStart(day: string, plusDays = 0): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

export function serverFilter(f: InboxFilter, meId: string): Record<string, unknown> {
  const assignee = f.tab === "mine" ? meId : f.tab === "all" ? f.assigneeId : "";
  return {
    ...(f.status ? { status: [f.status] } : {}),
    ...(f.platform ? { platform: f.platform } : {}),
    ...(f.priority ? { priority: [f.priority] } : {}),
    ...(f.unanswered ? { unanswered: true } : {}),
    ...(assignee ? { assigneeId: assignee } : {}),
    ...(f.tab === "unassigned" ? { unassigned: true } : {}),
    ...(f.teamId ? { teamId: f.teamId } : {}),
    ...(f.channelId ? { channelId: f.channelId } : {}),
    ...(f.labels.length ? { labels: f.labels } : {}),
    ...(f.since ? { since: dayStart(f.since) } : {}),
    ...(f.until ? { until: dayStart(f.until, 1) } : {}),
  };
}

/** Whether a conversation (as a live event shows it) belongs in the list the filter asked for. */
export function matches(c: Conversation, f: InboxFilter, meId: string): boolean {
  if (f.status && c.status !== f.status) return false;
  if (f.platform && c.platform !== f.platform) return false;
  if (f.priority && c.priority !== f.priority) return false;
  if (f.unanswered && c.lastMessage?.direction !== "INBOUND") return false;
  if (f.tab === "mine" && c.assignee?.id !== meId) return false;
  if (f.tab === "unassigned" && c.assignee !== null) return false;
  if (f.tab === "all" && f.assigneeId && c.assignee?.id !== f.assigneeId) return false;
  if (f.teamId && c.teamId !== f.teamId) return false;
  if (f.channelId && c.channel?.id !== f.channelId) return false;
  const have = new Set(c.labels.map((l) => l.toLowerCase()));
  if (f.labels.some((l) => !have.has(l.toLowerCase()))) return false;
  if (f.since && (c.lastMessageAt ?? "") < dayStart(f.since)) return false;
  if (f.until && (c.lastMessageAt ?? "") >= dayStart(f.until, 1)) return false;
  return true;
}

/** How many filters beyond the tab, status and platform are on (the Filters button's badge). */
export function activeCount(f: InboxFilter): number {
  return [f.priority, f.unanswered, f.tab === "all" && f.assigneeId, f.teamId, f.channelId, f.since || f.until].filter(Boolean).length + f.labels.length;
}

const gid = (type: string, pk: unknown) => btoa(`${type}:${String(pk)}`);
const localDay = (iso: string, minusDays = 0) => {
  const d = new Date(Date.parse(iso) - minusDays * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

/** A saved view's stored filter (the server's rule, snake_case with database ids) as the inbox's. */
export function viewToFilter(stored: Record<string, unknown>, query: string | null, meId: string): InboxFilter {
  const s = stored as {
    statuses?: string[]; assignee_id?: number; unassigned?: boolean; channel_id?: number; platform?: string; labels?: string[];
    priorities?: string[]; team_id?: number; since?: string; until?: string; unanswered?: boolean;
  };
  const assignee = s.assignee_id != null ? gid("User", s.assignee_id) : "";
  return {
    tab: s.unassigned ? "unassigned" : assignee && assignee === meId ? "mine" : "all",
    status: (s.statuses?.[0] ?? "").toUpperCase(),
    platform: (s.platform ?? "").toUpperCase(),
    priority: (s.priorities?.[0] ?? "").toUpperCase(),
    unanswered: !!s.unanswered,
    text: query ?? "",
    assigneeId: assignee && assignee !== meId ? assignee : "",
    teamId: s.team_id != null ? gid("Team", s.team_id) : "",
    channelId: s.channel_id != null ? gid("Channel", s.channel_id) : "",
    labels: s.labels ?? [],
    since: s.since ? localDay(s.since) : "",
    until: s.until ? localDay(s.until, 1) : "",
  };
}

/** Whether two filters ask for the same list (a saved view is "on" when the inbox shows it). */
export function sameFilter(a: InboxFilter, b: InboxFilter): boolean {
  return JSON.stringify({ ...a, labels: [...a.labels].sort() }) === JSON.stringify({ ...b, labels: [...b.labels].sort() });
}

/** The quick on-screen match (every word in the name, phone or last message), for lists already loaded. */
export function textMatches(c: Conversation, text: string): boolean {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = `${c.customer.name ?? ""} ${c.customer.phone ?? ""} ${c.lastMessage?.text ?? ""}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}
