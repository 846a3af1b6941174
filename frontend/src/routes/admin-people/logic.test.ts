import { describe, expect, it } from "vitest";
import i18n from "@/i18n";
import {
  addSkill, filterUsers, inviteSchema, peopleError, platformCapacityForm, platformCapacityInput, platformCapacitySummary, suggestSkills, teamSchema,
  teamUses, userStatus, workloadSchema,
} from "./logic";

const now = Date.parse("2026-12-05T12:00:00Z");
const user = (over: Partial<{ name: string; email: string | null; isActive: boolean; invitedUntil: string | null }> = {}) => ({
  name: "Maria Silva",
  email: "maria@example.com",
  isActive: true,
  invitedUntil: null,
  ...over,
});
const gqlError = (extensions: Record<string, unknown>, message = "refused") => ({ graphQLErrors: [{ message, extensions }] });

describe("people logic", () => {
  it("tells active, invited, expired and deactivated apart", () => {
    expect(userStatus(user(), now)).toBe("active");
    expect(userStatus(user({ invitedUntil: "2026-12-10T00:00:00Z" }), now)).toBe("invited");
    expect(userStatus(user({ invitedUntil: "2026-12-01T00:00:00Z" }), now)).toBe("expired");
    expect(userStatus(user({ isActive: false, invitedUntil: "2026-12-10T00:00:00Z" }), now)).toBe("deactivated");
  });

  it("searches names and e-mails without accents and filters by status", () => {
    const people = [user({ name: "João Souza", email: "joao@x.com" }), user({ name: "Bea", email: "bea@x.com", isActive: false })];
    expect(filterUsers(people, "joao", "all", now).map((u) => u.name)).toEqual(["João Souza"]);
    expect(filterUsers(people, "X.COM", "deactivated", now).map((u) => u.name)).toEqual(["Bea"]);
    expect(filterUsers(people, "", "invited", now)).toEqual([]);
  });

  it("adds skills as the server stores them, once, at most 30", () => {
    expect(addSkill(["pt"], "  Billing ")).toEqual(["pt", "billing"]);
    expect(addSkill(["pt"], "PT")).toEqual(["pt"]);
    expect(addSkill(["pt"], "   ")).toEqual(["pt"]);
    const full = Array.from({ length: 30 }, (_, i) => `s${i}`);
    expect(addSkill(full, "more")).toHaveLength(30);
  });

  it("suggests known skills not chosen, prefix matches first", () => {
    expect(suggestSkills(["billing", "en", "rebill", "pt"], ["pt"], "bil")).toEqual(["billing", "rebill"]);
    expect(suggestSkills(["billing", "en", "pt"], ["pt"], "")).toEqual(["billing", "en"]);
  });

  it("validates the forms like the server", () => {
    expect(inviteSchema.safeParse({ name: " ", email: "a@b", role: "AGENT", teamIds: [] }).success).toBe(false);
    expect(inviteSchema.safeParse({ name: "Ana", email: "not-an-email", role: "AGENT", teamIds: [] }).success).toBe(false);
    const ok = inviteSchema.parse({ name: " Ana ", email: " Ana@Example.com ", role: "AGENT", teamIds: [] });
    expect(ok).toMatchObject({ name: "Ana", email: "ana@example.com" });
    const none = platformCapacityForm(null);
    expect(workloadSchema.safeParse({ capacity: 1001, platformCapacity: none, skills: [] }).success).toBe(false);
    expect(workloadSchema.safeParse({ capacity: Number.NaN, platformCapacity: none, skills: [] }).success).toBe(false);
    expect(workloadSchema.safeParse({ capacity: 0, platformCapacity: none, skills: [] }).success).toBe(true);
    for (const bad of ["1001", "-1", "2.5", "three", "10000"]) {
      expect(workloadSchema.safeParse({ capacity: 5, platformCapacity: { ...none, SMS: bad }, skills: [] }).success).toBe(false);
    }
    expect(workloadSchema.safeParse({ capacity: 5, platformCapacity: { ...none, SMS: " 0 ", WHATSAPP: "1000" }, skills: [] }).success).toBe(true);
    expect(teamSchema.safeParse({ name: "Billing", strategy: "MANUAL", sticky: true, graceMinutes: 1441, memberIds: [] }).success).toBe(false);
    expect(teamSchema.safeParse({ name: "Billing", strategy: "MANUAL", sticky: true, graceMinutes: 1440, memberIds: [] }).success).toBe(true);
  });

  it("maps per-platform capacity between the server's map and the form's boxes", () => {
    const form = platformCapacityForm({ whatsapp: 3, sms: 0, fax: 9 });
    expect(form.WHATSAPP).toBe("3");
    expect(form.SMS).toBe("0");
    expect(form.TELEGRAM).toBe("");
    expect(Object.keys(form)).toHaveLength(12); // the API's platforms, nothing else
    expect(platformCapacityInput({ ...form, TELEGRAM: " 7 ", WHATSAPP: "" })).toEqual({ sms: 0, telegram: 7 });
    expect(platformCapacityInput(platformCapacityForm({}))).toEqual({});
    expect(platformCapacitySummary({ whatsapp: 3, sms: 0 }, (p) => p)).toBe("WHATSAPP 3 · SMS 0");
  });

  it("reads what still points at a team from a TEAM_IN_USE refusal", () => {
    expect(teamUses(gqlError({ code: "CONFLICT", reason: "TEAM_IN_USE", uses: { routing_rules: 2 } }))).toEqual({ routing_rules: 2 });
    expect(teamUses(gqlError({ code: "CONFLICT", field: "name" }))).toBeNull();
    expect(teamUses(null)).toBeNull();
  });

  it("explains refusals in the screen's words", () => {
    const t = i18n.t.bind(i18n);
    expect(peopleError(gqlError({ code: "CONFLICT", field: "email" }, "a user with this e-mail exists"), t, "invite")).toBe("A user with this e-mail already exists.");
    expect(peopleError(gqlError({ code: "CONFLICT", field: "email" }, "550 no such user; try again"), t, "invite")).toMatch(/could not be sent/);
    expect(peopleError(gqlError({ code: "CONFLICT", field: "name" }), t, "team")).toBe("A team with this name already exists.");
    expect(peopleError(gqlError({ code: "BAD_USER_INPUT", field: "capacity" }, "capacity must be between 0 and 1000"), t, "other")).toBe("capacity must be between 0 and 1000");
    expect(peopleError(gqlError({ code: "FORBIDDEN" }, "you cannot deactivate yourself"), t, "other")).toBe("you cannot deactivate yourself");
  });
});
