// An audit entry's details as rows a person can read: a {before, after} pair becomes the fields
// that changed (nested keys joined with "."), anything else each of its fields with its value.
export interface Change {
  field: string;
  before?: string;
  after?: string;
  value?: string;
}

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

export function show(value: Json): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

function flatten(value: Json, prefix: string, out: Map<string, Json>) {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
}

export function changes(details: Record<string, Json> | null | undefined): Change[] {
  if (!details || !isObject(details)) return [];
  if ("before" in details || "after" in details) {
    const before = new Map<string, Json>();
    const after = new Map<string, Json>();
    if (isObject(details.before)) flatten(details.before, "", before);
    if (isObject(details.after)) flatten(details.after, "", after);
    const fields = [...new Set([...before.keys(), ...after.keys()])].sort();
    const rows: Change[] = fields
      .filter((f) => show(before.get(f)) !== show(after.get(f)))
      .map((f) => ({ field: f, before: before.has(f) ? show(before.get(f)) : undefined, after: after.has(f) ? show(after.get(f)) : undefined }));
    const rest = Object.entries(details).filter(([k]) => k !== "before" && k !== "after");
    return [...rows, ...rest.map(([field, v]) => ({ field, value: show(v) }))];
  }
  const flat = new Map<string, Json>();
  flatten(details, "", flat);
  return [...flat.entries()].filter(([field]) => field !== "").map(([field, v]) => ({ field, value: show(v) }));
}

/** A date input's day (local) as the instant it starts, and the day after `to` for an inclusive end. */
export function dayStart(day: string, plusDays = 0): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}
