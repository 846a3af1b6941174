// The reporting settings' forms, with the server's checks (resolvers/csat.py, resolvers/roi.py).
import { z } from "zod";

const num = z.union([z.number(), z.nan()]);
const DECIMAL = /^\d{1,8}(\.\d{1,6})?$/;
export const CURRENCY = /^[A-Z]{3}$/;
const KIND = /^[a-z][a-z_]{0,31}$/;

export const csatSchema = z
  .object({ enabled: z.boolean(), question: z.string(), delayMinutes: num, windowHours: num, commentMinutes: num })
  .superRefine((v, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (!(v.delayMinutes >= 0 && v.delayMinutes * 60 <= 7 * 86_400)) issue("delayMinutes", "delay");
    if (!(v.windowHours * 3600 >= 60 && v.windowHours <= 720)) issue("windowHours", "window");
    if (!(v.commentMinutes >= 0 && v.commentMinutes * 60 <= v.windowHours * 3600)) issue("commentMinutes", "comment");
    const q = v.question.trim();
    if (q.length < 1 || q.length > 1000) issue("question", "question");
  });
export type CsatForm = z.infer<typeof csatSchema>;

export const pricesSchema = z
  .object({
    currency: z.string(),
    rows: z.array(z.object({ platform: z.string(), kind: z.string(), unit: z.enum(["message", "conversation"]), price: z.string() })),
  })
  .superRefine((v, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    if (!CURRENCY.test(v.currency.trim().toUpperCase())) issue(["currency"], "currency");
    const seen = new Set<string>();
    v.rows.forEach((row, i) => {
      if (!KIND.test(row.kind.trim())) issue(["rows", i, "kind"], "kind");
      if (!DECIMAL.test(row.price.trim())) issue(["rows", i, "price"], "price");
      const key = `${row.platform}/${row.kind.trim()}`;
      if (seen.has(key)) issue(["rows", i, "kind"], "duplicate");
      seen.add(key);
    });
  });
export type PricesForm = z.infer<typeof pricesSchema>;

export const labelsSchema = z
  .object({ rows: z.array(z.object({ label: z.string(), value: z.string(), currency: z.string() })) })
  .superRefine((v, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const seen = new Set<string>();
    v.rows.forEach((row, i) => {
      const label = row.label.trim().toLowerCase();
      if (label.length < 1 || label.length > 50) issue(["rows", i, "label"], "label");
      else if (seen.has(label)) issue(["rows", i, "label"], "duplicate");
      seen.add(label);
      if (!/^\d{1,8}(\.\d{1,2})?$/.test(row.value.trim())) issue(["rows", i, "value"], "value");
      if (!CURRENCY.test(row.currency.trim().toUpperCase())) issue(["rows", i, "currency"], "currency");
    });
  });
export type LabelsForm = z.infer<typeof labelsSchema>;
