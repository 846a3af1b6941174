// Each node type's side form: the values a person edits, how they become the node's config and
// back, and where a config problem's path shows in the form. The form's resolver runs the
// type's Zod schema (kinds.ts) on the config the values make, so the form and the canvas agree.
import type { Config } from "./kinds";

export type Values = Record<string, unknown>;
export interface FormSpec {
  fromConfig: (config: Config) => Values;
  toConfig: (values: Values) => Config;
  /** A config path (["validation", "kind"]) as a form field name. */
  field?: (path: string[]) => string;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");
const list = (v: unknown) => str(v).split(/[,\n]/).map((w) => w.trim()).filter(Boolean);
const num = (v: unknown) => (v === "" || v === null || v === undefined ? undefined : Number(v));
const json = (v: unknown) => JSON.stringify(v ?? {}, null, 2);

/** The JSON object a form's text holds, or a marker the callers turn into a value the schema refuses. */
function parseJson(text: unknown): Config {
  try {
    const value: unknown = JSON.parse(str(text) || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Config) : { __invalid: true };
  } catch {
    return { __invalid: true };
  }
}

const INVALID = "not valid JSON";
/** A JSON object field; text that is not one stays a string the schema refuses. */
function jsonOr(text: unknown): unknown {
  const parsed = parseJson(text);
  return parsed.__invalid ? INVALID : parsed;
}
function parseAny(text: unknown): unknown {
  try {
    return JSON.parse(str(text));
  } catch {
    return str(text); // a plain text body
  }
}

/** A condition branch as form fields: the test's kind and its own fields. */
export function branchValues(port: string, when: Config): Values {
  const kind = ["keyword", "regex", "variable", "attribute", "platform", "business_hours", "label"].find((k) => k in when) ?? "variable";
  const hours = (when.business_hours ?? {}) as Config;
  return {
    port, kind,
    words: Array.isArray(when.keyword) ? (when.keyword as string[]).join(", ") : "",
    regex: str(when.regex),
    name: str(when.variable ?? when.attribute ?? when.label),
    op: str(when.op) || "equals",
    value: when.value === undefined || when.value === null ? "" : String(when.value),
    platforms: Array.isArray(when.platform) ? (when.platform as string[]).join(", ") : "",
    time_zone: str(hours.time_zone) || "America/Sao_Paulo",
    start: str(hours.start) || "09:00",
    end: str(hours.end) || "18:00",
    days: Array.isArray(hours.days) ? (hours.days as number[]).join(", ") : "1, 2, 3, 4, 5",
  };
}

export function whenOf(b: Values): Config {
  switch (b.kind) {
    case "keyword": return { keyword: list(b.words) };
    case "regex": return { regex: str(b.regex) };
    case "label": return { label: str(b.name).trim() };
    case "platform": return { platform: list(b.platforms).map((p) => p.toLowerCase()) };
    case "business_hours":
      return { business_hours: { time_zone: str(b.time_zone).trim(), start: str(b.start).trim(), end: str(b.end).trim(), days: list(b.days).map(Number) } };
    default: {
      const subject = b.kind === "attribute" ? "attribute" : "variable";
      const op = str(b.op) || "equals";
      return { [subject]: str(b.name).trim(), op, ...(op === "exists" || op === "not_exists" ? {} : { value: str(b.value) }) };
    }
  }
}

export const FORMS: Record<string, FormSpec> = {
  trigger: {
    fromConfig: (c) => ({
      mode: c.regex ? "regex" : c.event ? "event" : c.schedule ? "schedule" : "keywords",
      cron: str((c.schedule as Config | undefined)?.cron),
      time_zone: str((c.schedule as Config | undefined)?.time_zone) || "America/Sao_Paulo",
      schedule_label: str((c.schedule as Config | undefined)?.label),
      keywords: Array.isArray(c.keywords) ? (c.keywords as string[]).join(", ") : "",
      regex: str(c.regex),
      event: str(c.event) || "conversation_created",
      minutes: c.minutes ?? 30,
      label: str(c.label),
    }),
    toConfig: (v) => {
      if (v.mode === "regex") return { regex: str(v.regex) };
      if (v.mode === "schedule") return { schedule: { cron: str(v.cron).trim(), time_zone: str(v.time_zone).trim() || "UTC", label: str(v.schedule_label) } };
      if (v.mode === "event") {
        if (v.event === "no_agent_reply") return { event: v.event, minutes: num(v.minutes) };
        if (v.event === "label_added" && str(v.label)) return { event: v.event, label: str(v.label) };
        return { event: str(v.event) };
      }
      return { keywords: list(v.keywords) };
    },
    field: (path) => (path[0] === "schedule" ? (path[1] === "label" ? "schedule_label" : "cron") : path[0] ?? "keywords"),
  },
  send_message: {
    fromConfig: (c) => {
      const template = c.template as Config | undefined;
      return { mode: template ? "template" : "text", text: str(c.text), template_id: str(template?.id), variables: json(template?.variables ?? {}) };
    },
    toConfig: (v) => {
      if (v.mode !== "template") return { text: str(v.text) };
      const variables = parseJson(v.variables);
      return { template: { id: str(v.template_id).trim(), variables: variables.__invalid ? INVALID : variables } } as Config;
    },
    field: (path) => (path[0] === "template" ? (path[1] === "variables" ? "variables" : "template_id") : "text"),
  },
  ask: {
    fromConfig: (c) => {
      const validation = (c.validation ?? {}) as Config;
      return {
        text: str(c.text), variable: str(c.variable), kind: str(validation.kind) || "text",
        options: Array.isArray(validation.options) ? (validation.options as string[]).join(", ") : "",
        pattern: str(validation.pattern), retry_text: str(c.retry_text), max_attempts: c.max_attempts ?? 3,
      };
    },
    toConfig: (v) => ({
      text: str(v.text),
      variable: str(v.variable),
      validation: {
        kind: str(v.kind),
        ...(v.kind === "one_of" ? { options: list(v.options) } : {}),
        ...(v.kind === "regex" ? { pattern: str(v.pattern) } : {}),
      },
      ...(str(v.retry_text) ? { retry_text: str(v.retry_text) } : {}),
      max_attempts: num(v.max_attempts),
    }),
    field: (path) => (path[0] === "validation" ? (path[1] ?? "kind") : path[0]),
  },
  buttons: {
    fromConfig: (c) => ({
      text: str(c.text),
      buttons: Array.isArray(c.buttons) ? (c.buttons as Config[]).map((b) => ({ id: str(b.id), title: str(b.title) })) : [],
      variable: str(c.variable), retry_text: str(c.retry_text), max_attempts: c.max_attempts ?? 3,
    }),
    toConfig: (v) => ({
      text: str(v.text),
      buttons: (v.buttons as { id: string; title: string }[]).map((b) => ({ id: b.id.trim(), title: b.title })),
      ...(str(v.variable) ? { variable: str(v.variable) } : {}),
      ...(str(v.retry_text) ? { retry_text: str(v.retry_text) } : {}),
      max_attempts: num(v.max_attempts),
    }),
    field: (path) => (path[0] === "buttons" && path.length > 2 ? `buttons.${path[1]}.${path[2]}` : path[0]),
  },
  condition: {
    fromConfig: (c) => ({ branches: (Array.isArray(c.branches) ? (c.branches as Config[]) : []).map((b) => branchValues(str(b.port), (b.when ?? {}) as Config)) }),
    toConfig: (v) => ({ branches: (v.branches as Values[]).map((b) => ({ port: str(b.port).trim(), when: whenOf(b) })) }),
    field: (path) => (path[0] === "branches" && path.length > 1 ? `branches.${path[1]}.${path[2] === "port" ? "port" : "when"}` : "branches"),
  },
  http_request: {
    fromConfig: (c) => ({
      method: str(c.method) || "GET", url: str(c.url), headers: json(c.headers ?? {}),
      body: c.body === undefined || c.body === null ? "" : json(c.body), timeout_seconds: c.timeout_seconds ?? 10, response_map: json(c.response_map ?? {}),
    }),
    toConfig: (v) => {
      const body = str(v.body).trim() ? parseAny(v.body) : null;
      return {
        method: str(v.method), url: str(v.url).trim(),
        headers: jsonOr(v.headers), body, timeout_seconds: num(v.timeout_seconds), response_map: jsonOr(v.response_map),
      };
    },
    field: (path) => path[0] ?? "url",
  },
  set: {
    fromConfig: (c) => {
      const target = "label" in c ? "label" : "attribute" in c ? "attribute" : "variable";
      return { target, name: str(c[target]), value: str(c.value), remove: Boolean(c.remove) };
    },
    toConfig: (v) =>
      v.target === "label" ? { label: str(v.name), remove: Boolean(v.remove) } : { [str(v.target)]: str(v.name), value: str(v.value) },
    field: (path) => (["variable", "attribute", "label"].includes(path[0]) ? "name" : path[0]),
  },
  wait: {
    fromConfig: (c) => ({ mode: c.until_reply ? "reply" : "duration", seconds: c.seconds ?? 60, timeout_seconds: c.timeout_seconds ?? 3600 }),
    toConfig: (v) => (v.mode === "reply" ? { until_reply: true, timeout_seconds: num(v.timeout_seconds) } : { seconds: num(v.seconds) }),
    field: (path) => path[0] ?? "seconds",
  },
  transfer: {
    fromConfig: (c) => ({ to: c.agent_id ? "agent" : "team", id: str(c.agent_id || c.team_id) }),
    toConfig: (v) => (v.to === "agent" ? { agent_id: str(v.id) } : { team_id: str(v.id) }),
    field: () => "id",
  },
  escalate: { fromConfig: (c) => ({ reason: str(c.reason) }), toConfig: (v) => (str(v.reason) ? { reason: str(v.reason) } : {}) },
  close: { fromConfig: () => ({}), toConfig: () => ({}) },
  end: { fromConfig: () => ({}), toConfig: () => ({}) },
};
