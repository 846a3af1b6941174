// The SLA badge of a conversation: its most urgent running timer (not met, not cancelled).
import type { SlaTimer } from "../api/types";

export type SlaLevel = "ok" | "warning" | "breached";
export interface SlaState { kind: string; level: SlaLevel; dueAt: string; msLeft: number }

export function slaState(timers: readonly SlaTimer[] | null | undefined, now: number): SlaState | null {
  const running = (timers ?? []).filter((t) => !t.metAt && !t.cancelledAt);
  if (running.length === 0) return null;
  const next = [...running].sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt))[0];
  const due = Date.parse(next.dueAt);
  const level: SlaLevel = next.breachedAt || now >= due ? "breached" : now >= Date.parse(next.warnAt) ? "warning" : "ok";
  return { kind: next.kind, level, dueAt: next.dueAt, msLeft: due - now };
}

/** "45s", "12m", "3h 5m", "2d 4h": short enough for a badge. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}
