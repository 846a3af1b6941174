const formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  let f = formats.get(key) as T | undefined;
  if (!f) formats.set(key, (f = make()));
  return f;
}

/** A list's time stamp: "now", "5 min", "14:05" today, "3 Dec" before. */
export function listTime(iso: string | null | undefined, now: number, lng: string, nowLabel: string): string {
  if (!iso) return "";
  const at = Date.parse(iso);
  const diff = now - at;
  if (diff < 60_000) return nowLabel;
  if (diff < 3_600_000) return cached(`m:${lng}`, () => new Intl.NumberFormat(lng, { style: "unit", unit: "minute", unitDisplay: "short" })).format(Math.floor(diff / 60_000));
  const d = new Date(at);
  if (new Date(now).toDateString() === d.toDateString()) return cached(`t:${lng}`, () => new Intl.DateTimeFormat(lng, { hour: "2-digit", minute: "2-digit" })).format(d);
  return cached(`d:${lng}`, () => new Intl.DateTimeFormat(lng, { day: "numeric", month: "short" })).format(d);
}

export function clockTime(iso: string, lng: string): string {
  return cached(`t:${lng}`, () => new Intl.DateTimeFormat(lng, { hour: "2-digit", minute: "2-digit" })).format(new Date(iso));
}

export function dayLabel(iso: string, lng: string): string {
  return new Date(iso).toLocaleDateString(lng, { weekday: "long", day: "numeric", month: "long" });
}
