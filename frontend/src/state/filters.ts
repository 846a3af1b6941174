// The inbox's filters: what the server is asked for (ConversationFilter) and the same rule applied
// to live events, so a conversation that stops matching leaves the list and one that starts
// matching joins it.
import type { Conversation } from "../api/types";

export type Tab = "mine" | "unassigned" | "all";
export interface InboxFilter {
  tab: Tab;
  status: string; // "" for any
  platform: string; // "" for any
  priority: string; // "" for any
  unanswered: boolean;
  text: string; // matched on this side: customer name, phone, last message
}

export const DEFAULT_FILTER: InboxFilter = { tab: "all", status: "OPEN", platform: "", priority: "", unanswered: false, text: "" };

export function serverFilter(f: InboxFilter, meId: string): Record<string, unknown> {
  return {
    ...(f.status ? { status: [f.status] } : {}),
    ...(f.platform ? { platform: f.platform } : {}),
    ...(f.priority ? { priority: [f.priority] } : {}),
    ...(f.unanswered ? { unanswered: true } : {}),
    ...(f.tab === "mine" ? { assigneeId: meId } : {}),
    ...(f.tab === "unassigned" ? { unassigned: true } : {}),
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
  return true;
}

/** The on-screen text filter (the `/` key): every word must appear in the name, phone or last message. */
export function textMatches(c: Conversation, text: string): boolean {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = `${c.customer.name ?? ""} ${c.customer.phone ?? ""} ${c.lastMessage?.text ?? ""}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}
