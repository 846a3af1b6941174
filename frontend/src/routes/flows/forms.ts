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

/** The JSON text of a form, parsed; a syntax error leaves a config the schema refuses. */
function parseJson(text: unknown): Config {
  try {
    const value: unknown = JSON.parse(str(text) || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Config) : { __invalid: true };
  } catch {
    return { __invalid: true };
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
      return { template: { id: str(v.template_id).trim(), variables: variables.__invalid ? "invalid" : variables } } as Config;
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
  condition: { fromConfig: (c) => ({ json: json(c) }), toConfig: (v) => parseJson(v.json), field: () => "json" },
  http_request: { fromConfig: (c) => ({ json: json(c) }), toConfig: (v) => parseJson(v.json), field: () => "json" },
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
