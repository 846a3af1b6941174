// The node types the server knows (resolvers/flow_validation.py NODE_TYPES), their ports and a Zod
// schema per type that mirrors the server's config checks, so a problem shows on the node before
// a save is even tried. The server stays the judge: its own problems land on the same nodes.
import { z } from "zod";
import { moduleIssues, moduleKind } from "./moduleKinds";

export const KINDS = [
  "trigger", "send_message", "ask", "buttons", "condition", "set",
  "http_request", "wait", "transfer", "escalate", "close", "end",
] as const;
export type Kind = (typeof KINDS)[number];
export type Config = Record<string, unknown>;

export const isKind = (value: string): value is Kind => (KINDS as readonly string[]).includes(value);
/** A built-in type or one an enabled module adds (moduleKinds.ts). */
export const isKnownKind = (value: string): boolean => isKind(value) || moduleKind(value) !== undefined;

const MAX_TEXT = 4096;
const MAX_WAIT_SECONDS = 30 * 24 * 3600;
export const NAME = /^[a-z_][a-z0-9_]{0,39}$/;
const nameMessage = "a name of lower-case letters, digits and _ (e.g. pedido)";
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const VALIDATIONS = ["text", "number", "email", "phone", "date", "one_of", "regex"] as const;
export const TRIGGER_EVENTS = ["conversation_created", "no_agent_reply", "label_added", "conversation_resolved", "csat_received"] as const;

const text = (label: string) => z.string({ error: `${label} is required` }).trim().min(1, `${label} is required`).max(MAX_TEXT, `${label} is at most ${MAX_TEXT} characters`);
const optionalText = z.string().max(MAX_TEXT).nullish();
const name = (label: string) => z.string({ error: `${label} is required` }).regex(NAME, `${label}: ${nameMessage}`);
const whole = (label: string, low: number, high: number) =>
  z.number({ error: `${label} is a whole number` }).int(`${label} is a whole number`).min(low, `${label} is from ${low} to ${high}`).max(high, `${label} is from ${low} to ${high}`);
const pattern = (label: string) =>
  z.string().min(1, `${label} is required`).max(200, `${label} is at most 200 characters`).refine((p) => {
    try {
      new RegExp(p);
      return true;
    } catch {
      return false;
    }
  }, `${label} is not a regular expression`);

const trigger = z.object({
  keywords: z.array(z.string().trim().min(1)).optional(),
  regex: z.string().optional(),
  event: z.string().optional(),
  minutes: z.number().optional(),
  label: z.string().optional(),
  schedule: z.unknown().optional(),
}).superRefine((c, ctx) => {
  const kinds = (["keywords", "regex", "schedule", "event"] as const).filter((k) => {
    const v = c[k];
    return Array.isArray(v) ? v.length > 0 : Boolean(v);
  });
  if (kinds.length !== 1) {
    ctx.addIssue({ code: "custom", path: ["keywords"], message: "a trigger has keywords, a regex or an event (one of them)" });
    return;
  }
  if (kinds[0] === "schedule") {
    const schedule = (c.schedule ?? {}) as { cron?: unknown; label?: unknown };
    if (typeof schedule.cron !== "string" || schedule.cron.trim().split(/\s+/).length < 5)
      ctx.addIssue({ code: "custom", path: ["schedule", "cron"], message: "cron is a cron expression (e.g. 0 9 * * 1-5)" });
    if (typeof schedule.label !== "string" || !NAME.test(schedule.label)) ctx.addIssue({ code: "custom", path: ["schedule", "label"], message: `label: ${nameMessage}` });
  }
  if (kinds[0] === "regex" && !pattern("regex").safeParse(c.regex).success) ctx.addIssue({ code: "custom", path: ["regex"], message: "regex is not a regular expression" });
  if (kinds[0] === "event") {
    if (!(TRIGGER_EVENTS as readonly string[]).includes(String(c.event))) ctx.addIssue({ code: "custom", path: ["event"], message: "pick an event" });
    if (c.event === "no_agent_reply" && !whole("minutes", 1, 7 * 24 * 60).safeParse(c.minutes).success)
      ctx.addIssue({ code: "custom", path: ["minutes"], message: "minutes is a whole number from 1 to 10080" });
    if (c.event === "label_added" && c.label && !NAME.test(c.label)) ctx.addIssue({ code: "custom", path: ["label"], message: `label: ${nameMessage}` });
  }
});

const sendMessage = z.union([
  z.object({ text: text("text"), template: z.undefined().optional() }),
  z.object({
    text: z.undefined().optional(),
    template: z.object({
      id: z.string({ error: "pick a template" }).min(1, "pick a template").max(100),
      variables: z.record(z.string(), z.string(), { error: "variables are {name: text}" }).optional(),
    }),
  }),
], { error: "send_message has a text or a template (one of them)" });

const ask = z.object({
  text: text("text"),
  variable: name("variable"),
  validation: z.object({
    kind: z.enum(VALIDATIONS, { error: "pick what the answer must be" }),
    options: z.array(z.string().min(1)).optional(),
    pattern: z.string().optional(),
  }).superRefine((v, ctx) => {
    if (v.kind === "one_of" && !(v.options && v.options.length)) ctx.addIssue({ code: "custom", path: ["options"], message: "list the accepted answers" });
    if (v.kind === "regex" && !pattern("pattern").safeParse(v.pattern ?? "").success) ctx.addIssue({ code: "custom", path: ["pattern"], message: "pattern is not a regular expression" });
  }),
  retry_text: optionalText,
  max_attempts: whole("max attempts", 1, 10),
});

const buttons = z.object({
  text: text("text"),
  buttons: z.array(z.object({
    id: z.string().regex(NAME, "a button id is a port name (lower-case letters, digits, _)"),
    title: z.string().trim().min(1, "a button title is 1 to 40 characters").max(40, "a button title is 1 to 40 characters"),
  })).min(1, "1 to 10 buttons").max(10, "1 to 10 buttons")
    .refine((list) => new Set(list.map((b) => b.id)).size === list.length && !list.some((b) => b.id === "invalid"), "button ids are distinct and not 'invalid'"),
  variable: z.union([name("variable"), z.literal(""), z.null()]).optional(),
  retry_text: optionalText,
  max_attempts: whole("max attempts", 1, 10),
});

export const PLATFORM_NAMES = ["whatsapp", "messenger", "instagram", "telegram", "discord", "slack", "webchat", "sms", "email", "line", "viber", "wechat"];
const CONDITION_KINDS = ["keyword", "regex", "variable", "attribute", "platform", "business_hours", "label"];
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** One test of a condition branch or an edge (resolvers/flow_validation.py clean_condition). */
const when = z.record(z.string(), z.unknown()).superRefine((w, ctx) => {
  const keys = Object.keys(w).filter((k) => k !== "op" && k !== "value");
  const fail = (message: string) => ctx.addIssue({ code: "custom", message });
  if (keys.length !== 1 || !CONDITION_KINDS.includes(keys[0])) return fail("a condition is one of keyword, regex, variable, attribute, platform, business_hours, label");
  const [kind] = keys;
  const v = w[kind];
  if (kind === "keyword" && !(Array.isArray(v) && v.length && v.every((x) => typeof x === "string" && x.trim()))) fail("keyword is a list of words");
  if (kind === "regex" && !pattern("regex").safeParse(v).success) fail("regex is not a regular expression");
  if ((kind === "variable" || kind === "attribute" || kind === "label") && !(typeof v === "string" && NAME.test(v))) fail(`${kind}: ${nameMessage}`);
  if ((kind === "variable" || kind === "attribute") && w.op !== undefined && !["equals", "not_equals", "contains", "gt", "gte", "lt", "lte", "exists", "not_exists"].includes(String(w.op))) fail("op is not an operator");
  if (kind === "platform" && !(Array.isArray(v) && v.length && v.every((p) => PLATFORM_NAMES.includes(String(p))))) fail(`platform is a list of platforms (${PLATFORM_NAMES.join(", ")})`);
  if (kind === "business_hours") {
    const h = (v ?? {}) as { time_zone?: unknown; start?: unknown; end?: unknown; days?: unknown };
    const days = h.days ?? [1, 2, 3, 4, 5];
    if (typeof h.time_zone !== "string" || !h.time_zone || !HHMM.test(String(h.start)) || !HHMM.test(String(h.end)))
      fail("business_hours needs a time_zone (e.g. America/Sao_Paulo) and start/end as HH:MM");
    else if (!Array.isArray(days) || !days.every((d) => Number.isInteger(d) && d >= 1 && d <= 7) || String(h.start) >= String(h.end))
      fail("business_hours: days are 1 (Monday) to 7, and start comes before end");
  }
});

const condition = z.object({
  branches: z.array(z.object({ port: name("port"), when }), { error: "branches is a list of {port, when}" })
    .min(1, "at least one branch")
    .refine((b) => new Set(b.map((x) => x.port)).size === b.length && !b.some((x) => x.port === "else"), "branch ports are distinct and not 'else'"),
});

const set = z.object({
  variable: z.string().optional(),
  attribute: z.string().optional(),
  label: z.string().optional(),
  value: z.string().max(MAX_TEXT).optional(),
  remove: z.boolean().optional(),
}).superRefine((c, ctx) => {
  const targets = (["variable", "attribute", "label"] as const).filter((k) => k in c && c[k] !== undefined);
  if (targets.length !== 1) return void ctx.addIssue({ code: "custom", path: ["variable"], message: "set changes one variable, attribute or label" });
  const target = targets[0];
  if (!NAME.test(c[target] ?? "")) ctx.addIssue({ code: "custom", path: [target], message: `${target}: ${nameMessage}` });
  if (target !== "label" && typeof c.value !== "string") ctx.addIssue({ code: "custom", path: ["value"], message: "value is text (placeholders allowed)" });
});

const httpRequest = z.object({
  method: z.enum(METHODS, { error: `method is one of ${METHODS.join(", ")}` }),
  url: z.string().regex(/^https?:\/\/[^/{}\s]+(\/|$)/, "url starts with http:// or https:// and a literal host"),
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/), z.string().regex(/^[^\r\n]*$/), { error: "headers is {name: text on one line}" }).optional(),
  body: z.unknown().optional(),
  timeout_seconds: whole("timeout", 1, 30),
  response_map: z.record(z.string().regex(NAME), z.string().min(1), { error: "response_map is {variable: dotted.path.in.the.response}" }).optional(),
});

const wait = z.union([
  z.object({ until_reply: z.literal(true), timeout_seconds: whole("timeout", 1, MAX_WAIT_SECONDS) }),
  z.object({ until_reply: z.literal(false).optional(), seconds: whole("seconds", 1, MAX_WAIT_SECONDS) }),
], { error: "a wait lasts 1 second to 30 days, or until the customer replies" });

const transfer = z.object({ team_id: z.string().optional(), agent_id: z.string().optional() })
  .refine((c) => Boolean(c.team_id) !== Boolean(c.agent_id), "transfer goes to a team or an agent (one of them)");

const SCHEMAS: Record<Kind, z.ZodType> = {
  trigger, send_message: sendMessage, ask, buttons, condition, set, http_request: httpRequest, wait, transfer,
  escalate: z.object({ reason: optionalText }),
  close: z.object({}),
  end: z.object({}),
};

/** What is wrong with a node's config, as the server would say it; [] when nothing. */
export function configProblems(kind: string, config: Config): string[] {
  const contributed = moduleKind(kind);
  if (contributed) return [...new Set(moduleIssues(contributed, config).map((i) => i.message))];
  if (!isKind(kind)) return [`unknown node type ${kind}`];
  const result = SCHEMAS[kind].safeParse(config);
  return result.success ? [] : [...new Set(result.error.issues.map((i) => i.message))];
}

/** The ports a node's edges may leave by (resolvers/flow_validation.py ports_of). */
export function portsOf(kind: string, config: Config): string[] {
  const contributed = moduleKind(kind);
  if (contributed) return contributed.ports;
  if (kind === "close" || kind === "end") return [];
  if (kind === "condition") {
    const branches = Array.isArray(config.branches) ? (config.branches as { port?: unknown }[]) : [];
    return [...branches.map((b) => String(b.port ?? "")).filter(Boolean), "else"];
  }
  if (kind === "buttons") {
    const list = Array.isArray(config.buttons) ? (config.buttons as { id?: unknown }[]) : [];
    return [...list.map((b) => String(b.id ?? "")).filter(Boolean), "invalid"];
  }
  const extra: Record<string, string[]> = { ask: ["invalid"], http_request: ["error"], wait: config.until_reply ? ["timeout"] : [] };
  return ["next", ...(extra[kind] ?? [])];
}

/** The config a node starts with when dropped on the canvas. */
export function defaultConfig(kind: string): Config {
  switch (kind) {
    case "trigger": return { keywords: [] };
    case "send_message": return { text: "" };
    case "ask": return { text: "", variable: "", validation: { kind: "text" }, max_attempts: 3 };
    case "buttons": return { text: "", buttons: [{ id: "yes", title: "Yes" }, { id: "no", title: "No" }], max_attempts: 3 };
    case "condition": return { branches: [{ port: "vip", when: { label: "vip" } }] };
    case "set": return { variable: "", value: "" };
    case "http_request": return { method: "GET", url: "https://", headers: {}, body: null, timeout_seconds: 10, response_map: {} };
    case "wait": return { seconds: 60 };
    case "transfer": return { team_id: "" };
    case "escalate": return {};
    default: return {};
  }
}

/** A one-line summary of a node's config for its card on the canvas. */
export function summary(kind: string, config: Config): string {
  const s = (v: unknown) => (typeof v === "string" ? v : "");
  switch (kind) {
    case "trigger":
      if (Array.isArray(config.keywords) && config.keywords.length) return (config.keywords as string[]).join(", ");
      if (config.schedule && typeof config.schedule === "object") return `⏱ ${s((config.schedule as Config).cron)}`;
      return s(config.regex) || s(config.event);
    case "send_message":
      if (config.template && typeof config.template === "object") return `template ${s((config.template as Config).id)}`;
      return s(config.text);
    case "ask": case "buttons": return s(config.text);
    case "condition": {
      const branches = Array.isArray(config.branches) ? (config.branches as Config[]) : [];
      return branches.length ? `${branches.map((b) => s(b.port)).join(" · ")} · else` : "";
    }
    case "set": return config.label !== undefined ? `#${s(config.label)}` : `${s(config.variable ?? config.attribute)} = ${s(config.value)}`;
    case "http_request": return `${s(config.method)} ${s(config.url)}`;
    case "wait": return config.until_reply ? "until reply" : `${String(config.seconds ?? "")} s`;
    case "escalate": return s(config.reason);
    case "transfer": return "";
    default: return s(Object.values(config).find((v) => typeof v === "string")); // a module's node: its first text
  }
}

/** Each problem with the config path it is about (the side form puts it on its field). */
export function configIssues(kind: string, config: Config): { path: string[]; message: string }[] {
  const contributed = moduleKind(kind);
  if (contributed) return moduleIssues(contributed, config);
  if (!isKind(kind)) return [{ path: [], message: `unknown node type ${kind}` }];
  const result = SCHEMAS[kind].safeParse(config);
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message }));
}
