// The pure parts of the template editor and the composer: which variables a body may use (mirrors
// resolvers/template_rendering.py), where a `{{` or a `/shortcut` is being typed, each platform's
// length limit (the connectors' max_text_length), WhatsApp template parameters (mirrors
// resolvers/whatsapp_template_parameters.py) and a unified diff's lines.

/** The built-in variables, as resolvers/template_rendering.py lists them (ATTRIBUTES, SHORT_NAMES). */
export const BUILTIN_VARIABLES: readonly string[] = [
  "nome",
  "empresa",
  "data",
  ...["name", "first_name", "phone", "email"].map((a) => `customer.${a}`),
  ...["name", "first_name", "email"].map((a) => `agent.${a}`),
  ...["id", "status", "priority", "created_at", "language"].map((a) => `conversation.${a}`),
  ...["name", "platform"].map((a) => `channel.${a}`),
];
const RESERVED_ROOTS = new Set(["nome", "empresa", "data", "customer", "agent", "conversation", "channel"]);
export const PROMPT_NAME = /^[a-z_][a-z0-9_]{0,39}$/;
export const SHORTCUT = /^\/[a-z0-9][a-z0-9_-]{0,38}$/;
export const SLUG = /^[a-z0-9][a-z0-9 _-]{0,39}$/;

/** Sample values for the editor's preview (no conversation there). */
export const SAMPLE_VALUES: Record<string, string> = {
  nome: "Maria Silva",
  empresa: "Acme",
  data: new Date(2026, 0, 15).toLocaleDateString(),
  "customer.name": "Maria Silva",
  "customer.first_name": "Maria",
  "customer.phone": "+55 11 91234-5678",
  "customer.email": "maria@example.com",
  "agent.name": "Ana Souza",
  "agent.first_name": "Ana",
  "agent.email": "ana@acme.example",
  "conversation.id": "1042",
  "conversation.status": "OPEN",
  "conversation.priority": "NORMAL",
  "conversation.created_at": new Date(2026, 0, 15).toLocaleString(),
  "conversation.language": "pt",
  "channel.name": "Acme WhatsApp",
  "channel.platform": "WHATSAPP",
};

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*((?:\|[^}]*)?)\}\}/g;

/** Every variable a text reads, in order of first use. */
export function variablesIn(text: string): string[] {
  const seen = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) seen.add(m[1]);
  return [...seen];
}

/** The variables a text reads that are not built in: each must be declared as a prompt. */
export function promptsIn(texts: string[]): string[] {
  const seen = new Set<string>();
  for (const text of texts) for (const name of variablesIn(text)) if (!RESERVED_ROOTS.has(name.split(".")[0])) seen.add(name);
  return [...seen];
}

/** A text with its placeholders filled: `value(name)` or the `| "fallback"`, else `[name]`. */
export function fill(text: string, value: (name: string) => string | undefined): string {
  return text.replace(PLACEHOLDER, (_all, name: string, filters: string) => {
    const given = value(name);
    if (given) return given;
    const fallback = /\|\s*(?:fallback\()?\s*["']([^"']*)["']/.exec(filters ?? "");
    return fallback ? fallback[1] : `[${name}]`;
  });
}

export interface Token {
  /** Where the token starts (its `{{` or `/`). */
  start: number;
  /** What has been typed after it. */
  query: string;
}

/** An unclosed `{{` right before the caret: the variable being typed. */
export function openPlaceholder(text: string, caret: number): Token | null {
  const before = text.slice(0, caret);
  const open = before.lastIndexOf("{{");
  if (open < 0) return null;
  const typed = before.slice(open + 2);
  if (typed.includes("}}") || !/^\s*[A-Za-z0-9_.]*$/.test(typed)) return null;
  return { start: open, query: typed.trim() };
}

/** The text with the variable put in place of the `{{…` being typed, and the caret after it. */
export function insertVariable(text: string, caret: number, token: Token, name: string): { text: string; caret: number } {
  let rest = text.slice(caret);
  rest = rest.replace(/^[A-Za-z0-9_.]*\s*(\}\})?/, "");
  const inserted = `{{${name}}}`;
  return { text: text.slice(0, token.start) + inserted + rest, caret: token.start + inserted.length };
}

/** A `/shortcut` being typed: a word starting with `/` at the start of the text or after a space. */
export function slashToken(text: string, caret: number): Token | null {
  const before = text.slice(0, caret);
  const m = /(^|\s)(\/[a-z0-9_-]*)$/i.exec(before);
  if (!m) return null;
  return { start: before.length - m[2].length, query: m[2].toLowerCase() };
}

/** Variables matching what was typed, built-ins after the prompts already declared. */
export function matchVariables(query: string, prompts: string[]): string[] {
  const q = query.toLowerCase();
  const all = [...prompts, ...BUILTIN_VARIABLES.filter((v) => !prompts.includes(v))];
  return all.filter((v) => v.toLowerCase().includes(q)).sort((a, b) => Number(!a.startsWith(q)) - Number(!b.startsWith(q)));
}

/** Each platform's text limit (the connectors' max_text_length); Instagram counts UTF-8 bytes. */
export const PLATFORM_LIMITS: Record<string, { max: number; unit: "characters" | "bytes" }> = {
  WHATSAPP: { max: 4096, unit: "characters" },
  MESSENGER: { max: 2000, unit: "characters" },
  INSTAGRAM: { max: 1000, unit: "bytes" },
  TELEGRAM: { max: 4096, unit: "characters" },
  DISCORD: { max: 2000, unit: "characters" },
  SLACK: { max: 4000, unit: "characters" },
  WEBCHAT: { max: 4096, unit: "characters" },
  SMS: { max: 1600, unit: "characters" },
  EMAIL: { max: 100_000, unit: "characters" },
  LINE: { max: 5000, unit: "characters" },
  VIBER: { max: 7000, unit: "characters" },
  WECHAT: { max: 2000, unit: "characters" },
};
export const PLATFORMS = Object.keys(PLATFORM_LIMITS);
/** Platforms whose variants may carry buttons or a subject (the connectors'). */
export const SUBJECT_PLATFORMS = new Set(["EMAIL"]);

/** How long a text is as the platform counts it, and whether it fits. */
export function measure(text: string, platform: string): { size: number; max: number; unit: "characters" | "bytes"; over: boolean } {
  const limit = PLATFORM_LIMITS[platform] ?? { max: 4096, unit: "characters" as const };
  const size = limit.unit === "bytes" ? new TextEncoder().encode(text).length : [...text].length;
  return { size, max: limit.max, unit: limit.unit, over: size > limit.max };
}

// --- WhatsApp approved templates -------------------------------------------------------------

export interface WaParameter {
  part: string; // "header", "body", "button N"
  type: string; // text, image, video, document, location, coupon_code, payload
  name: string; // "1", "order_id", "media", "code", "payload"
  optional: boolean;
}

/** The send's components (Meta's shape) from the values typed, by `${part}|${name}`. Media take a
 * link; a location "latitude, longitude"; an optional quick-reply payload left empty is left out. */
export function waComponents(parameters: WaParameter[], values: Record<string, string>, format: string): Record<string, unknown>[] {
  const parts = new Map<string, Record<string, unknown>[]>();
  for (const p of parameters) {
    const value = (values[`${p.part}|${p.name}`] ?? "").trim();
    if (p.optional && !value) continue;
    let parameter: Record<string, unknown>;
    if (p.type === "text") parameter = { type: "text", text: value };
    else if (p.type === "coupon_code") parameter = { type: "coupon_code", coupon_code: value };
    else if (p.type === "payload") parameter = { type: "payload", payload: value };
    else if (p.type === "location") {
      const [latitude, longitude] = value.split(",").map((x) => Number(x.trim()));
      parameter = { type: "location", location: { latitude, longitude } };
    } else parameter = { type: p.type, [p.type]: { link: value } };
    if (format === "NAMED" && p.type === "text" && (p.part === "header" || p.part === "body")) parameter.parameter_name = p.name;
    parts.set(p.part, [...(parts.get(p.part) ?? []), parameter]);
  }
  return [...parts.entries()].map(([part, list]) => {
    if (part.startsWith("button ")) {
      const index = Number(part.slice(7));
      return { type: "button", index, sub_type: list[0]?.type === "payload" ? "quick_reply" : list[0]?.type === "coupon_code" ? "copy_code" : "url", parameters: list };
    }
    return { type: part, parameters: list };
  });
}

/** The parameters still missing a value. */
export function waMissing(parameters: WaParameter[], values: Record<string, string>): WaParameter[] {
  return parameters.filter((p) => !p.optional && !(values[`${p.part}|${p.name}`] ?? "").trim());
}

/** The template's body text from its components, with the values typed so far in place. */
export function waPreview(components: unknown, values: Record<string, string>): string {
  const list = Array.isArray(components) ? (components as Record<string, unknown>[]) : [];
  const text = (kind: string) => String(list.find((c) => String(c.type ?? "").toUpperCase() === kind)?.text ?? "");
  const put = (source: string, part: string) =>
    source.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_m, name: string) => values[`${part}|${name}`]?.trim() || `[${name}]`);
  return [put(text("HEADER"), "header"), put(text("BODY"), "body"), text("FOOTER")].filter(Boolean).join("\n\n");
}

// --- versions ---------------------------------------------------------------------------------

export type DiffLine = { kind: "add" | "remove" | "context" | "hunk" | "file"; text: string };

/** A unified diff's lines, classified for colouring. */
export function diffLines(unified: string): DiffLine[] {
  return unified
    .split("\n")
    .filter((line, i, all) => line !== "" || i < all.length - 1)
    .map((line) => {
      if (line.startsWith("+++") || line.startsWith("---")) return { kind: "file", text: line };
      if (line.startsWith("@@")) return { kind: "hunk", text: line };
      if (line.startsWith("+")) return { kind: "add", text: line };
      if (line.startsWith("-")) return { kind: "remove", text: line };
      return { kind: "context", text: line };
    });
}

/** A rate as a percentage ("42.5%"), or "—". */
export function pct(value: number | null | undefined, digits = 1): string {
  return value == null ? "—" : `${(value * 100).toFixed(digits)}%`;
}

/** The prompts a send must fill: those the body reads at least once without a `| "fallback"`. */
export function requiredPrompts(body: string, prompts: string[]): string[] {
  const required = new Set<string>();
  for (const m of body.matchAll(PLACEHOLDER)) if (prompts.includes(m[1]) && !/\|\s*(?:fallback\()?\s*["']/.test(m[2] ?? "")) required.add(m[1]);
  return prompts.filter((p) => required.has(p));
}
