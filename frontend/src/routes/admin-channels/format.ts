// Times on the channels screens: "5 minutes ago" in the table, the full date on hover.
export function ago(iso: string | null | undefined, now: number, lng: string): string | null {
  if (!iso) return null;
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lng, { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86_400), "day");
}

export function fullTime(iso: string | null | undefined, lng: string): string {
  return iso ? new Date(iso).toLocaleString(lng, { dateStyle: "medium", timeStyle: "medium" }) : "";
}

/** A moment something started: its time today ("21:42"), else day and time ("3 Dec, 21:42"). */
export function since(iso: string, now: number, lng: string): string {
  const at = new Date(iso);
  const today = new Date(now).toDateString() === at.toDateString();
  return at.toLocaleString(lng, today ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}
