import { describe, expect, it } from "vitest";
import { changePasswordSchema, collapseName, forgotSchema, invitationSchema, newPasswordSchema, profileSchema } from "./schemas";

const messages = (r: { success: boolean; error?: { issues: { message: string; path: PropertyKey[] }[] } }) =>
  r.success ? [] : r.error!.issues.map((i) => `${i.path.join(".")}:${i.message}`);

describe("account forms mirror resolvers/users.py", () => {
  it("collapses a name like the server does", () => {
    expect(collapseName("  Ana \t  Souza \n")).toBe("Ana Souza");
  });
  it("needs a name of 1 to 120 characters once collapsed", () => {
    expect(messages(profileSchema.safeParse({ name: "   " }))).toEqual(["name:nameRequired"]);
    expect(messages(profileSchema.safeParse({ name: "a".repeat(121) }))).toEqual(["name:nameLong"]);
    expect(messages(profileSchema.safeParse({ name: ` ${"a".repeat(60)}    ${"b".repeat(59)} ` }))).toEqual([]);
  });
  it("counts a password in code points, 10 to 1024, and wants it twice the same", () => {
    expect(messages(newPasswordSchema.safeParse({ password: "short", confirm: "short" }))).toEqual(["password:passwordShort"]);
    expect(messages(newPasswordSchema.safeParse({ password: "🔒".repeat(10), confirm: "🔒".repeat(10) }))).toEqual([]);
    expect(messages(newPasswordSchema.safeParse({ password: "x".repeat(1025), confirm: "x".repeat(1025) }))).toEqual(["password:passwordLong"]);
    expect(messages(newPasswordSchema.safeParse({ password: "long enough!", confirm: "long enough?" }))).toEqual(["confirm:mismatch"]);
  });
  it("asks for the current password when changing it", () => {
    expect(messages(changePasswordSchema.safeParse({ current: "", password: "long enough!", confirm: "long enough!" }))).toEqual(["current:currentRequired"]);
  });
  it("lets an invitation keep the admin's name", () => {
    expect(messages(invitationSchema.safeParse({ name: "", password: "long enough!", confirm: "long enough!" }))).toEqual([]);
  });
  it("wants an e-mail address to send a reset link to", () => {
    expect(messages(forgotSchema.safeParse({ email: "nobody" }))).toEqual(["email:emailInvalid"]);
    expect(messages(forgotSchema.safeParse({ email: " ana@example.com " }))).toEqual([]);
  });
});
