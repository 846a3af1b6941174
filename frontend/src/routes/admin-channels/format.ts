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
