// The account forms' rules, mirroring resolvers/users.py: a password is 10 to 1024 characters
// (_check_password), a name 1 to 120 once its runs of spaces are one (_check_name). Python counts
// code points, so lengths here do too. Messages are keys under account.errors.
import { z } from "zod";

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 1024;
export const NAME_MAX = 120;

/** The name as the server keeps it: " ".join(name.split()). */
export const collapseName = (name: string) => name.split(/\s+/).filter(Boolean).join(" ");
const length = (s: string) => [...s].length;

const password = z
  .string()
  .refine((s) => length(s) >= PASSWORD_MIN, "passwordShort")
  .refine((s) => length(s) <= PASSWORD_MAX, "passwordLong");

const name = z
  .string()
  .refine((s) => length(collapseName(s)) > 0, "nameRequired")
  .refine((s) => length(collapseName(s)) <= NAME_MAX, "nameLong");

const sameTwice = (v: { password: string; confirm: string }) => v.password === v.confirm;
const mismatch = { message: "mismatch", path: ["confirm"] };

export const profileSchema = z.object({ name });

export const newPasswordSchema = z.object({ password, confirm: z.string() }).refine(sameTwice, mismatch);

export const changePasswordSchema = z
  .object({ current: z.string().min(1, "currentRequired"), password, confirm: z.string() })
  .refine(sameTwice, mismatch);

export const invitationSchema = z
  .object({
    name: z.string().refine((s) => length(collapseName(s)) <= NAME_MAX, "nameLong"),
    password,
    confirm: z.string(),
  })
  .refine(sameTwice, mismatch);

export const forgotSchema = z.object({
  email: z.string().trim().regex(/^[^\s@]+@[^\s@]+$/, "emailInvalid").max(254, "emailInvalid"),
});
