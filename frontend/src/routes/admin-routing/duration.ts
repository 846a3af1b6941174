// SLA targets travel in seconds; people think in minutes, hours and days.
export const UNITS = { minutes: 60, hours: 3600, days: 86_400 } as const;
export type Unit = keyof typeof UNITS;

/** The largest unit that expresses the seconds exactly (minutes at least). */
export function splitSeconds(seconds: number): { value: number; unit: Unit } {
  if (seconds > 0 && seconds % UNITS.days === 0) return { value: seconds / UNITS.days, unit: "days" };
  if (seconds > 0 && seconds % UNITS.hours === 0) return { value: seconds / UNITS.hours, unit: "hours" };
  return { value: Math.round((seconds / UNITS.minutes) * 100) / 100, unit: "minutes" };
}

export const toSeconds = (value: number, unit: Unit) => Math.round(value * UNITS[unit]);

/** "1d 4h", "2h 30m", "45m", "30s". */
export function shortDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean).join(" ");
}
