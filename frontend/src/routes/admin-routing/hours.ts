// Business hours as the SLA editor holds them (a list of time ranges per weekday) and as the API
// takes them ({"mon": [["09:00", "18:00"]], ...}; {} = around the clock), plus the checks the
// server makes (resolvers/sla.py validate_hours) and one it does not: ranges of a day must not overlap.
export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Day = (typeof DAYS)[number];
export interface Range { start: string; end: string }
export type Week = Record<Day, Range[]>;

export const emptyWeek = (): Week => ({ mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] });

/** Monday to Friday, 09:00 to 18:00: what a new policy starts with. */
export const officeWeek = (): Week => ({
  ...emptyWeek(),
  ...Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, [{ start: "09:00", end: "18:00" }]])),
});

export function weekFromJson(json: Record<string, unknown> | null | undefined): Week {
  const week = emptyWeek();
  for (const day of DAYS) {
    const ranges = json?.[day];
    if (Array.isArray(ranges)) {
      week[day] = ranges
        .filter((r): r is [string, string] => Array.isArray(r) && r.length === 2)
        .map(([start, end]) => ({ start: start.slice(0, 5), end: end.slice(0, 5) }));
    }
  }
  return week;
}

/** The API's shape: days without hours left out; an empty object means around the clock. */
export function weekToJson(week: Week): Record<string, [string, string][]> {
  return Object.fromEntries(
    DAYS.filter((d) => week[d].length > 0).map((d) => [d, week[d].map((r) => [r.start, r.end] as [string, string])]),
  );
}

export const isAlwaysOpen = (week: Week) => DAYS.every((d) => week[d].length === 0);

const minutes = (hhmm: string) => {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
};

/** What is wrong with a day's ranges, as an i18n key below admin-routing.sla.errors, or null. */
export function dayProblem(ranges: Range[]): "time" | "order" | "overlap" | null {
  const spans = ranges.map((r) => [minutes(r.start), minutes(r.end)] as const);
  if (spans.some(([a, b]) => Number.isNaN(a) || Number.isNaN(b))) return "time";
  if (spans.some(([a, b]) => a >= b)) return "order";
  const sorted = [...spans].sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < sorted.length; i++) if (sorted[i][0] < sorted[i - 1][1]) return "overlap";
  return null;
}

/** "Mon–Fri 09:00–18:00 · Sat 10:00–14:00": consecutive days with the same hours grouped. */
export function summarizeWeek(week: Week, dayName: (d: Day) => string): string {
  const key = (d: Day) => week[d].map((r) => `${r.start}–${r.end}`).join(", ");
  const groups: { from: Day; to: Day; hours: string }[] = [];
  for (const day of DAYS) {
    const hours = key(day);
    const last = groups[groups.length - 1];
    if (last && last.hours === hours && DAYS.indexOf(last.to) === DAYS.indexOf(day) - 1) last.to = day;
    else groups.push({ from: day, to: day, hours });
  }
  return groups
    .filter((g) => g.hours)
    .map((g) => `${dayName(g.from)}${g.from === g.to ? "" : `–${dayName(g.to)}`} ${g.hours}`)
    .join(" · ");
}

/** Whether the browser knows the IANA time zone (the server checks it the same way, with zoneinfo). */
export function isTimeZone(zone: string): boolean {
  if (!zone.trim()) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    return ["UTC", ...(intl.supportedValuesOf?.("timeZone") ?? [])];
  } catch {
    return ["UTC"];
  }
}
