/** A list's time stamp: "now", "5 min", "14:05" today, "3 Dec" before. */
export function listTime(iso: string | null | undefined, now: number, lng: string, nowLabel: string): string {
  if (!iso) return "";
  const at = Date.parse(iso);
  const diff = now - at;
  if (diff < 60_000) return nowLabel;
  if (diff < 3_600_000) return new Intl.NumberFormat(lng, { style: "unit", unit: "minute", unitDisplay: "short" }).format(Math.floor(diff / 60_000));
  const d = new Date(at);
  if (new Date(now).toDateString() === d.toDateString()) return d.toLocaleTimeString(lng, { hour: "2-digit", minute: "2-digit" });
  return d.toLocaleDateString(lng, { day: "numeric", month: "short" });
}

export function clockTime(iso: string, lng: string): string {
  return new Date(iso).toLocaleTimeString(lng, { hour: "2-digit", minute: "2-digit" });
}

export function dayLabel(iso: string, lng: string): string {
  return new Date(iso).toLocaleDateString(lng, { weekday: "long", day: "numeric", month: "long" });
}
