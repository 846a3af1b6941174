// The customer's attributes as the panel edits them: the server's rules (resolvers/customers.py,
// set_customer_attribute: the names flows use, values up to 4096 characters) and the optimistic
// overlay, a change shown before the server has answered and dropped once it agrees.
import { z } from "zod";

export const MAX_VALUE = 4096;

export const attributeSchema = z.object({
  name: z.string().trim().regex(/^[a-z_][a-z0-9_]{0,39}$/, "attrErrors.name"),
  value: z.string().refine((v) => v.trim().length > 0, "attrErrors.empty").refine((v) => v.length <= MAX_VALUE, "attrErrors.long"),
});
export type AttributeDraft = z.infer<typeof attributeSchema>;

/** The first problem with a draft, as an i18n key under `inbox-plus.` (null: good to send). */
export function attributeProblem(draft: AttributeDraft): { field: "name" | "value"; key: string } | null {
  const r = attributeSchema.safeParse(draft);
  if (r.success) return null;
  const issue = r.error.issues[0];
  return { field: issue.path[0] === "name" ? "name" : "value", key: issue.message };
}

export interface Attribute { name: string; value: string; updatedAt: string }
/** Changes sent and not yet confirmed: a value, or null for a removal. */
export type Pending = Record<string, string | null>;

/** What the panel shows: the server's attributes with the pending changes over them, by name. */
export function withPending(attributes: readonly Attribute[], pending: Pending): (Attribute & { pending: boolean })[] {
  const byName = new Map(attributes.map((a) => [a.name, { ...a, pending: false }]));
  for (const [name, value] of Object.entries(pending)) {
    if (value === null) byName.delete(name);
    else byName.set(name, { name, value, updatedAt: byName.get(name)?.updatedAt ?? new Date().toISOString(), pending: true });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The pending changes the server's attributes do not show yet (the ones it now shows are done). */
export function unsettled(attributes: readonly Attribute[], pending: Pending): Pending {
  const server = new Map(attributes.map((a) => [a.name, a.value]));
  return Object.fromEntries(Object.entries(pending).filter(([name, value]) => (value === null ? server.has(name) : server.get(name) !== value)));
}
