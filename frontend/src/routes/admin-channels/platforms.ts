// Each platform's channel settings: the fields its connector reads (connectors/<platform>.py,
// validate_config), where each goes (public config or write-only secrets), and a Zod schema that
// mirrors the backend's validation so the form says what is wrong before the server does.
// Error messages are i18n keys below "admin-channels.v." (the form translates them).
import { z } from "zod";
import type { Platform } from "@/api/graphql.generated";

export type FieldKind = "text" | "secret" | "lines" | "port" | "choice";

export interface FieldSpec {
  key: string;
  /** The config (public, read back) or the secrets (write-only, encrypted at rest). */
  in: "config" | "secrets";
  kind: FieldKind;
  /** Needed to create the channel (a secret: unless it is already set). */
  required?: boolean;
  /** A value we make up when left empty (a token we hand to the platform), shown once after. */
  generated?: boolean;
  choices?: readonly string[];
  placeholder?: string;
  /** Shown under "Advanced" (API base URLs the tests point at fakes). */
  advanced?: boolean;
  /** Only relevant for some values of the form (e-mail: how mail arrives). */
  when?: (values: FormValues) => boolean;
  /** The key is read with a default (config.get(key, DEFAULT)): never sent as null. */
  hasDefault?: boolean;
  check?: (value: string) => string | null;
  /** Platforms with many settings (e-mail) show them in groups, secrets beside their settings. */
  group?: string;
}

export type FormValues = Record<string, string>;

export interface PlatformSpec {
  platform: Platform;
  fields: FieldSpec[];
  /** Secrets PyTake mints (rotateWebhookSecret regenerates them). */
  rotates: readonly string[];
  /** How the platform learns our URL: pasted by the admin, registered by API, or not at all. */
  webhook: "paste" | "auto" | "none";
  /** Rules across fields (e-mail's provider, SMS's sender): [field, message key] per problem. */
  across?: (values: FormValues, secretsSet: readonly string[]) => [string, string][];
}

// The backend's patterns (connectors/*.py).
const DIGITS = /^\d+$/;
const SNOWFLAKE = /^\d{15,21}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const TELEGRAM_TOKEN = /^\d{1,20}:[A-Za-z0-9_-]{10,}$/;
const TELEGRAM_BOT = /^[A-Za-z][A-Za-z0-9_]{1,29}[Bb][Oo][Tt]$/;
const SLACK_TEAM = /^[TE][A-Z0-9]{2,}$/;
const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
const E164 = /^\+[1-9]\d{1,14}$/;
const ADDRESS = /^[^@\s<>()[\],;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$/;
const HOST = /^\S+$/;
const WECHAT_APP_ID = /^wx[0-9A-Za-z]{16}$/;
const WECHAT_TOKEN = /^[A-Za-z0-9]{3,32}$/;
const COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

const matches = (re: RegExp, message: string) => (v: string) => (re.test(v) ? null : message);
const httpUrl = (v: string) => (/^https?:\/\//.test(v) ? null : "url");
const maxLength = (n: number, message: string) => (v: string) => (v.length <= n ? null : message);

/** `scheme://host[:port]` as browsers send it in Origin: no path, no trailing slash. */
export function isOrigin(value: string): boolean {
  if (value !== value.trim() || value.endsWith("/") || value.endsWith(":")) return false;
  try {
    const u = new URL(value);
    const raw = value.slice(value.indexOf("//") + 2);
    return (u.protocol === "http:" || u.protocol === "https:") && !!u.hostname && !u.username && !u.password && !u.search && !u.hash && !raw.includes("/");
  } catch {
    return false;
  }
}

export const lines = (value: string | undefined) => (value ?? "").split(/[\n,]/).map((l) => l.trim()).filter(Boolean);

const apiBase: FieldSpec = { key: "api_base", in: "config", kind: "text", advanced: true, hasDefault: true, placeholder: "https://", check: httpUrl };
const metaToken = (key: string): FieldSpec => ({ key, in: "secrets", kind: "secret", required: true });
const verifyToken: FieldSpec = { key: "verify_token", in: "secrets", kind: "secret", generated: true };
const metaVersion: FieldSpec = { key: "api_version", in: "config", kind: "text", advanced: true, hasDefault: true, placeholder: "v21.0", check: matches(/^v\d+\.\d+$/, "apiVersion") };

const byInbound = (mode: string) => (v: FormValues) => (v.inbound || "mailgun") === mode;

export const PLATFORMS: PlatformSpec[] = [
  {
    platform: "WHATSAPP",
    webhook: "paste",
    rotates: ["verify_token"],
    fields: [
      { key: "phone_number_id", in: "config", kind: "text", required: true, placeholder: "106540352242922", check: matches(DIGITS, "digits") },
      { key: "waba_id", in: "config", kind: "text", placeholder: "102290129340398", check: matches(DIGITS, "digits") },
      metaToken("access_token"),
      metaToken("app_secret"),
      verifyToken,
      metaVersion,
      apiBase,
    ],
  },
  {
    platform: "MESSENGER",
    webhook: "paste",
    rotates: ["verify_token"],
    fields: [
      { key: "page_id", in: "config", kind: "text", required: true, placeholder: "104834215876553", check: matches(DIGITS, "digits") },
      metaToken("page_access_token"),
      metaToken("app_secret"),
      verifyToken,
      metaVersion,
      apiBase,
    ],
  },
  {
    platform: "INSTAGRAM",
    webhook: "paste",
    rotates: ["verify_token"],
    fields: [
      { key: "ig_account_id", in: "config", kind: "text", required: true, placeholder: "17841405822304914", check: matches(DIGITS, "digits") },
      metaToken("access_token"),
      metaToken("app_secret"),
      verifyToken,
      metaVersion,
      apiBase,
    ],
  },
  {
    platform: "TELEGRAM",
    webhook: "auto",
    rotates: ["secret_token"],
    fields: [
      { key: "bot_token", in: "secrets", kind: "secret", required: true, placeholder: "123456789:AAH…", check: matches(TELEGRAM_TOKEN, "telegramToken") },
      { key: "bot_username", in: "config", kind: "text", placeholder: "acme_support_bot", check: (v) => (TELEGRAM_BOT.test(v.replace(/^@/, "")) ? null : "telegramBot") },
      apiBase,
    ],
  },
  {
    platform: "DISCORD",
    webhook: "paste",
    rotates: [],
    fields: [
      { key: "application_id", in: "config", kind: "text", required: true, placeholder: "1234567890123456789", check: matches(SNOWFLAKE, "snowflake") },
      { key: "public_key", in: "config", kind: "text", required: true, check: matches(HEX64, "hex64") },
      { key: "bot_token", in: "secrets", kind: "secret", required: true },
      { key: "command_reply", in: "config", kind: "text", check: maxLength(2000, "max2000") },
      apiBase,
    ],
  },
  {
    platform: "SLACK",
    webhook: "paste",
    rotates: [],
    fields: [
      { key: "team_id", in: "config", kind: "text", required: true, placeholder: "T0123ABCD", check: matches(SLACK_TEAM, "slackTeam") },
      { key: "bot_user_id", in: "config", kind: "text", placeholder: "U0123ABCD", check: matches(SLACK_USER, "slackUser") },
      { key: "signing_secret", in: "secrets", kind: "secret", required: true },
      { key: "bot_token", in: "secrets", kind: "secret", required: true, placeholder: "xoxb-…", check: (v) => (v.startsWith("xoxb-") ? null : "xoxb") },
      apiBase,
    ],
  },
  {
    platform: "WEBCHAT",
    webhook: "none",
    rotates: ["visitor_token_secret"],
    fields: [
      { key: "allowed_origins", in: "config", kind: "lines", required: true, placeholder: "https://shop.example.com", check: (v) => (lines(v).every(isOrigin) ? null : "origins") },
      { key: "title", in: "config", kind: "text", check: maxLength(80, "max80") },
      { key: "greeting", in: "config", kind: "text", check: maxLength(500, "max500") },
      { key: "color", in: "config", kind: "text", placeholder: "#2563eb", check: matches(COLOR, "color") },
      { key: "identity_secret", in: "secrets", kind: "secret", check: (v) => (v.length >= 32 ? null : "min32") },
    ],
  },
  {
    platform: "SMS",
    webhook: "paste",
    rotates: [],
    fields: [
      { key: "account_sid", in: "config", kind: "text", required: true, placeholder: "AC…", check: matches(ACCOUNT_SID, "accountSid") },
      { key: "auth_token", in: "secrets", kind: "secret", required: true },
      { key: "from_number", in: "config", kind: "text", placeholder: "+15557122661", check: matches(E164, "e164") },
      { key: "messaging_service_sid", in: "config", kind: "text", placeholder: "MG…", check: matches(SERVICE_SID, "serviceSid") },
      apiBase,
    ],
    across: (v) => (!v.from_number && !v.messaging_service_sid ? [["from_number", "smsSender"]] : []),
  },
  {
    platform: "EMAIL",
    webhook: "paste",
    rotates: ["inbound_key"],
    fields: [
      { group: "sender", key: "address", in: "config", kind: "text", required: true, placeholder: "support@example.com", check: matches(ADDRESS, "email") },
      { group: "sender", key: "display_name", in: "config", kind: "text", placeholder: "Acme Support" },
      // Not a key of its own: picks `provider` (mailgun, sendgrid) or a mailbox to poll (imap_*).
      { group: "receiving", key: "inbound", in: "config", kind: "choice", choices: ["mailgun", "sendgrid", "imap"] },
      { group: "receiving", key: "mailgun_signing_key", in: "secrets", kind: "secret", required: true, when: byInbound("mailgun") },
      { group: "receiving", key: "inbound_key", in: "secrets", kind: "secret", generated: true, when: byInbound("sendgrid") },
      { group: "receiving", key: "imap_host", in: "config", kind: "text", required: true, placeholder: "imap.example.com", when: byInbound("imap"), check: matches(HOST, "host") },
      { group: "receiving", key: "imap_port", in: "config", kind: "port", placeholder: "993", when: byInbound("imap"), check: port },
      { group: "receiving", key: "imap_username", in: "config", kind: "text", required: true, when: byInbound("imap") },
      { group: "receiving", key: "imap_password", in: "secrets", kind: "secret", required: true, when: byInbound("imap") },
      { group: "sending", key: "smtp_host", in: "config", kind: "text", required: true, placeholder: "smtp.example.com", check: matches(HOST, "host") },
      { group: "sending", key: "smtp_port", in: "config", kind: "port", placeholder: "587", check: port },
      // Not a key of its own either: smtp_starttls / smtp_ssl.
      { group: "sending", key: "smtp_security", in: "config", kind: "choice", choices: ["starttls", "ssl", "none"] },
      { group: "sending", key: "smtp_username", in: "config", kind: "text" },
      { group: "sending", key: "smtp_password", in: "secrets", kind: "secret" },
    ],
    across: (v, set) => (v.smtp_username && !v.smtp_password && !set.includes("smtp_password") ? [["smtp_password", "smtpPassword"]] : []),
  },
  {
    platform: "LINE",
    webhook: "paste",
    rotates: [],
    fields: [
      { key: "channel_secret", in: "secrets", kind: "secret", required: true },
      { key: "channel_access_token", in: "secrets", kind: "secret", required: true },
      { key: "bot_user_id", in: "config", kind: "text", placeholder: "U4af4980629…", check: (v) => (v.startsWith("U") && v.length === 33 ? null : "lineUser") },
      apiBase,
    ],
  },
  {
    platform: "VIBER",
    webhook: "auto",
    rotates: [],
    fields: [
      { key: "auth_token", in: "secrets", kind: "secret", required: true },
      { key: "sender_name", in: "config", kind: "text", required: true, placeholder: "Acme Support", check: maxLength(28, "max28") },
      { key: "sender_avatar", in: "config", kind: "text", placeholder: "https://", check: httpUrl },
      apiBase,
    ],
  },
  {
    platform: "WECHAT",
    webhook: "paste",
    rotates: [],
    fields: [
      { key: "app_id", in: "config", kind: "text", required: true, placeholder: "wx1234567890abcdef", check: matches(WECHAT_APP_ID, "wechatAppId") },
      { key: "app_secret", in: "secrets", kind: "secret", required: true },
      { key: "token", in: "secrets", kind: "secret", required: true, check: matches(WECHAT_TOKEN, "wechatToken") },
      apiBase,
    ],
  },
];

function port(v: string): string | null {
  const n = Number(v);
  return /^\d+$/.test(v) && n >= 1 && n <= 65535 ? null : "port";
}

export function specOf(platform: string): PlatformSpec {
  const spec = PLATFORMS.find((p) => p.platform === platform);
  if (!spec) throw new Error(`unknown platform ${platform}`);
  return spec;
}

/** The fields that apply to these values (e-mail hides the other providers' fields). */
export function visibleFields(spec: PlatformSpec, values: FormValues): FieldSpec[] {
  return spec.fields.filter((f) => !f.when || f.when(values));
}

/**
 * The form's schema for a platform. `secretsSet` lists the secrets the channel already has
 * (editing): those may stay empty, since an empty secret field means "keep it".
 */
export function channelSchema(spec: PlatformSpec, secretsSet: readonly string[] = []) {
  return z
    .record(z.string(), z.string())
    .superRefine((values, ctx) => {
      const problem = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message: `admin-channels.v.${message}` });
      if (!(values.name ?? "").trim()) problem("name", "required");
      for (const f of visibleFields(spec, values)) {
        const value = (values[f.key] ?? "").trim();
        if (!value) {
          const missing = f.required && !(f.in === "secrets" && secretsSet.includes(f.key));
          if (missing) problem(f.key, "required");
          continue;
        }
        const bad = f.check?.(f.in === "secrets" ? (values[f.key] ?? "") : value);
        if (bad) problem(f.key, bad);
      }
      for (const [path, message] of spec.across?.(values, secretsSet) ?? []) problem(path, message);
    });
}

/** The form's starting values: a new channel's (empty, with defaults) or a channel's config. */
export function initialValues(spec: PlatformSpec, channel?: { name: string; config: Record<string, unknown> }): FormValues {
  const config = channel?.config ?? {};
  const values: FormValues = { name: channel?.name ?? "" };
  for (const f of spec.fields) {
    if (f.in === "secrets") values[f.key] = "";
    else if (f.kind === "lines") values[f.key] = Array.isArray(config[f.key]) ? (config[f.key] as unknown[]).join("\n") : "";
    else values[f.key] = config[f.key] === undefined || config[f.key] === null ? "" : String(config[f.key]);
  }
  if (spec.platform === "EMAIL") {
    values.inbound = typeof config.provider === "string" ? config.provider : config.imap_host ? "imap" : "mailgun";
    values.smtp_security = config.smtp_ssl === true ? "ssl" : config.smtp_starttls === false ? "none" : "starttls";
  }
  return values;
}

/** A random token for the secrets we hand to a platform (URL-safe: Telegram, Meta, SendGrid). */
export function newToken(bytes = 24): string {
  const raw = new Uint8Array(bytes);
  crypto.getRandomValues(raw);
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The createChannel / updateChannel input from valid form values. Creating: empty optional keys
 * are left out, and empty tokens we hand to the platform are made up (returned as `generated`, to
 * show once). Editing: an emptied config key is sent as null (updateChannel merges the config), an
 * empty secret is left out (kept).
 */
export function toInput(spec: PlatformSpec, values: FormValues, mode: "create" | "edit", makeToken: () => string = newToken) {
  const config: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  const generated: Record<string, string> = {};
  const shown = new Set(visibleFields(spec, values).map((f) => f.key));
  for (const f of spec.fields) {
    if (f.key === "inbound" || f.key === "smtp_security") continue;
    const raw = values[f.key] ?? "";
    const value = f.in === "secrets" ? raw : raw.trim();
    if (f.in === "secrets") {
      if (!shown.has(f.key)) continue;
      if (value) secrets[f.key] = value;
      else if (f.generated && mode === "create") secrets[f.key] = generated[f.key] = makeToken();
      continue;
    }
    if (!value || !shown.has(f.key)) {
      if (mode === "edit" && !f.hasDefault) config[f.key] = null;
      continue;
    }
    if (f.kind === "lines") config[f.key] = lines(value);
    else if (f.kind === "port") config[f.key] = Number(value);
    else if (f.key === "bot_username") config[f.key] = value.replace(/^@/, "");
    else config[f.key] = value;
  }
  if (spec.platform === "EMAIL") {
    config.provider = values.inbound === "imap" ? null : values.inbound || "mailgun";
    if (mode === "create" && config.provider === null) delete config.provider;
    const security = values.smtp_security || "starttls";
    config.smtp_ssl = security === "ssl";
    config.smtp_starttls = security === "starttls";
  }
  return { name: (values.name ?? "").trim(), config, secrets, generated };
}
