// The people screens' rules that can break: a user's status, the list's search and filter, the
// forms' validation (mirroring resolvers/users.py and resolvers/teams.py) and what a refusal means.
import type { TFunction } from "i18next";
import { z } from "zod";
import { errorCode, explain } from "@/api/errors";
import type { PeopleUsersQuery } from "@/api/graphql.generated";

export type PersonRow = PeopleUsersQuery["users"][number];
export type UserStatus = "active" | "deactivated" | "invited" | "expired";
export const STATUSES: UserStatus[] = ["active", "invited", "expired", "deactivated"];
export const ROLES = ["AGENT", "SUPERVISOR", "ADMIN"] as const;
export const STRATEGIES = ["LEAST_LOADED", "ROUND_ROBIN", "MANUAL"] as const;
export const MAX_SKILLS = 30;

/** Deactivated wins; then an invitation nobody accepted (expired once its link's time passed). */
export function userStatus(u: Pick<PersonRow, "isActive" | "invitedUntil">, now: number): UserStatus {
  if (!u.isActive) return "deactivated";
  if (u.invitedUntil) return Date.parse(u.invitedUntil) > now ? "invited" : "expired";
  return "active";
}

const fold = (s: string) => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

export function filterUsers<T extends Pick<PersonRow, "name" | "email" | "isActive" | "invitedUntil">>(
  users: readonly T[],
  query: string,
  status: UserStatus | "all",
  now: number,
): T[] {
  const q = fold(query.trim());
  return users.filter(
    (u) => (status === "all" || userStatus(u, now) === status) && (!q || fold(`${u.name} ${u.email ?? ""}`).includes(q)),
  );
}

/** A skill as the server stores it: trimmed, lower case; empty is none. */
export function normaliseSkill(raw: string): string {
  return raw.trim().toLowerCase();
}

export function addSkill(skills: readonly string[], raw: string): string[] {
  const skill = normaliseSkill(raw);
  if (!skill || skills.includes(skill) || skills.length >= MAX_SKILLS) return [...skills];
  return [...skills, skill];
}

/** Known skills not yet chosen that start with (first) or contain what is typed. */
export function suggestSkills(known: readonly string[], chosen: readonly string[], typed: string, limit = 8): string[] {
  const q = normaliseSkill(typed);
  const open = known.filter((k) => !chosen.includes(k) && (!q || k.includes(q)));
  return [...open.filter((k) => k.startsWith(q)), ...open.filter((k) => !k.startsWith(q))].slice(0, limit);
}

const name = z.string().trim().min(1, "errors.name").max(120, "errors.name");

export const inviteSchema = z.object({
  name,
  email: z.string().trim().toLowerCase().max(254, "errors.email").regex(/^[^\s@]+@[^\s@]+$/, "errors.email"),
  role: z.enum(ROLES),
  teamIds: z.array(z.string()),
});
export type InviteForm = z.infer<typeof inviteSchema>;

export const accessSchema = z.object({
  role: z.enum(ROLES),
  teamIds: z.array(z.string()),
  seesAllConversations: z.boolean(),
});
export type AccessForm = z.infer<typeof accessSchema>;

/** The platforms an agent may have a capacity of their own on (the API's Platform enum). */
export const PLATFORMS = ["WHATSAPP", "TELEGRAM", "INSTAGRAM", "MESSENGER", "WEBCHAT", "EMAIL", "SMS", "DISCORD", "SLACK", "LINE", "VIBER", "WECHAT"] as const;

// A platform's box: blank (the overall capacity only) or a whole number from 0 to 1000.
const platformCap = z.string().trim().regex(/^\d{0,4}$/, "errors.capacity").refine((v) => v === "" || Number(v) <= 1000, "errors.capacity");

export const workloadSchema = z.object({
  capacity: z.number({ error: "errors.capacity" }).int("errors.capacity").min(0, "errors.capacity").max(1000, "errors.capacity"),
  platformCapacity: z.object(Object.fromEntries(PLATFORMS.map((p) => [p, platformCap])) as Record<(typeof PLATFORMS)[number], typeof platformCap>),
  skills: z.array(z.string()).max(MAX_SKILLS, "workload.tooMany"),
});
export type WorkloadForm = z.infer<typeof workloadSchema>;

/** The server's map ({"whatsapp": 3}, platforms in lower case) as the form's boxes (blank: none). */
export function platformCapacityForm(stored: unknown): WorkloadForm["platformCapacity"] {
  const map = stored && typeof stored === "object" ? (stored as Record<string, unknown>) : {};
  return Object.fromEntries(
    PLATFORMS.map((p) => [p, typeof map[p.toLowerCase()] === "number" ? String(map[p.toLowerCase()]) : ""]),
  ) as WorkloadForm["platformCapacity"];
}

/** The form's boxes as updateAgent's platformCapacity: only the platforms given a number. */
export function platformCapacityInput(form: WorkloadForm["platformCapacity"]): Record<string, number> {
  return Object.fromEntries(
    Object.entries(form).filter(([, v]) => v.trim() !== "").map(([p, v]) => [p.toLowerCase(), Number(v.trim())]),
  );
}

/** "WhatsApp 3 · SMS 0" for the users table (labels from the caller). */
export function platformCapacitySummary(stored: unknown, label: (platform: string) => string): string {
  const map = platformCapacityInput(platformCapacityForm(stored));
  return Object.entries(map).map(([p, n]) => `${label(p.toUpperCase())} ${n}`).join(" · ");
}

export const teamSchema = z.object({
  name,
  strategy: z.enum(STRATEGIES),
  sticky: z.boolean(),
  graceMinutes: z.number({ error: "errors.grace" }).int("errors.grace").min(0, "errors.grace").max(1440, "errors.grace"),
  memberIds: z.array(z.string()),
});
export type TeamForm = z.infer<typeof teamSchema>;

/** What still points at a team the server refused to delete (CONFLICT, reason TEAM_IN_USE). */
export function teamUses(error: unknown): Record<string, number> | null {
  const e = error as { graphQLErrors?: { extensions?: { reason?: unknown; uses?: unknown } }[] } | null;
  const ext = e?.graphQLErrors?.find((g) => g.extensions?.reason === "TEAM_IN_USE")?.extensions;
  return ext && ext.uses && typeof ext.uses === "object" ? (ext.uses as Record<string, number>) : null;
}

function field(error: unknown): string | null {
  const e = error as { graphQLErrors?: { extensions?: { field?: unknown } }[] } | null;
  const f = e?.graphQLErrors?.find((g) => typeof g.extensions?.field === "string")?.extensions?.field;
  return typeof f === "string" ? f : null;
}

/** A refusal in the people screens' words where the generic one would mislead (CONFLICT is not
 * always "someone changed this"), else the app's explanation by code. */
export function peopleError(error: unknown, t: TFunction, context: "invite" | "team" | "other"): string {
  const code = errorCode(error);
  if (code === "CONFLICT" && context === "invite" && field(error) === "email") {
    const raw = (error as { graphQLErrors?: { message: string }[] }).graphQLErrors?.[0]?.message ?? "";
    return /exists/.test(raw) ? t("people.invite.emailTaken") : t("people.invite.mailFailed");
  }
  if (code === "CONFLICT" && context === "team" && field(error) === "name") return t("people.team.nameTaken");
  if (code === "FORBIDDEN" && context === "other") {
    const e = explain(error, t);
    return e.detail ?? e.message;
  }
  const e = explain(error, t);
  return e.detail && code === "BAD_USER_INPUT" ? e.detail : e.message;
}
