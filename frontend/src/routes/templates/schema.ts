// The editor's form and its validation, mirroring saveTemplate's (resolvers/templates.py).
import { z } from "zod";
import type { Platform, SaveTemplateInput, TplDetailQuery } from "@/api/graphql.generated";
import { measure, PROMPT_NAME, promptsIn, SHORTCUT, SLUG } from "@/components/templates/logic";

export const variantSchema = z.object({ platform: z.string(), body: z.string(), subject: z.string() });

export const templateSchema = z
  .object({
    name: z.string().trim().min(1, "templates.v.name").max(120, "templates.v.name"),
    shortcut: z.string().trim().refine((s) => s === "" || SHORTCUT.test(s), "templates.v.shortcut"),
    category: z.string().trim().refine((s) => s === "" || SLUG.test(s), "templates.v.category"),
    tags: z
      .string()
      .refine((s) => splitTags(s).length <= 20 && splitTags(s).every((x) => SLUG.test(x)), "templates.v.tags"),
    body: z.string().refine((s) => s.trim().length > 0, "templates.v.body").refine((s) => s.length <= 10_000, "templates.v.bodyLong"),
    variants: z.array(variantSchema),
    prompts: z.record(z.string(), z.string()),
    note: z.string().max(500),
  })
  .superRefine((value, ctx) => {
    for (const name of promptsIn([value.body, ...value.variants.map((v) => v.body)])) {
      if (!PROMPT_NAME.test(name)) ctx.addIssue({ code: "custom", path: ["body"], message: `templates.v.promptName|${name}` });
    }
    value.variants.forEach((v, i) => {
      if (!v.body.trim() && !v.subject.trim()) ctx.addIssue({ code: "custom", path: ["variants", i, "body"], message: "templates.v.variantEmpty" });
      if (v.body && measure(v.body, v.platform).over) ctx.addIssue({ code: "custom", path: ["variants", i, "body"], message: "templates.v.variantLong" });
      if (v.platform === "EMAIL" && v.subject.length > 200) ctx.addIssue({ code: "custom", path: ["variants", i, "subject"], message: "templates.v.subject" });
    });
  });

export type TemplateForm = z.infer<typeof templateSchema>;
export type TemplateContent = TplDetailQuery["template"]["content"];

export function splitTags(s: string): string[] {
  return s.split(",").map((x) => x.trim().toLowerCase()).filter(Boolean);
}

export function toForm(content: TemplateContent | null): TemplateForm {
  return {
    name: content?.name ?? "",
    shortcut: content?.shortcut ?? "",
    category: content?.category ?? "",
    tags: content?.tags.join(", ") ?? "",
    body: content?.body ?? "",
    variants: (content?.variants ?? []).map((v) => ({ platform: v.platform, body: v.body ?? "", subject: v.subject ?? "" })),
    prompts: Object.fromEntries((content?.prompts ?? []).map((p) => [p.name, p.label])),
    note: "",
  };
}

const button = (b: { id: string; title: string; url: string | null }) => ({ id: b.id, title: b.title, url: b.url });

/** saveTemplate's input: the form, with what the form does not edit (teams, locale, time zone,
 * buttons) kept from the current version. */
export function toInput(form: TemplateForm, id: string | null, current: TemplateContent | null): SaveTemplateInput {
  const promptNames = promptsIn([form.body, ...form.variants.map((v) => v.body)]);
  return {
    id,
    name: form.name.trim(),
    body: form.body,
    shortcut: form.shortcut.trim() || null,
    category: form.category.trim().toLowerCase() || null,
    tags: splitTags(form.tags),
    teamIds: current?.teamIds ?? null,
    locale: current?.locale ?? null,
    timeZone: current?.timeZone ?? null,
    buttons: current?.buttons.map(button) ?? null,
    variants: form.variants.map((v) => {
      const kept = current?.variants.find((x) => x.platform === v.platform)?.buttons;
      return {
        platform: v.platform as Platform,
        body: v.body.trim() ? v.body : null,
        subject: v.platform === "EMAIL" && v.subject.trim() ? v.subject.trim() : null,
        buttons: kept ? kept.map(button) : null,
      };
    }),
    prompts: promptNames.map((name) => ({ name, label: form.prompts[name]?.trim() || null })),
    note: form.note.trim() || null,
  };
}
