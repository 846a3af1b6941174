import { describe, expect, it } from "vitest";
import { en } from "@/i18n/screens/admin-channels";
import { channelSchema, initialValues, isOrigin, PLATFORMS, specOf, toInput, type FormValues } from "./platforms";

/** The message keys (admin-channels.v.<key>) per field, or {} when the values pass. */
function problems(platform: string, values: FormValues, secretsSet: string[] = []): Record<string, string> {
  const spec = specOf(platform);
  const result = channelSchema(spec, secretsSet).safeParse({ ...initialValues(spec), ...values });
  if (result.success) return {};
  return Object.fromEntries(result.error.issues.map((i) => [String(i.path[0]), i.message.replace("admin-channels.v.", "")]));
}

// A valid set of values per platform, like the ones the platforms hand out.
const VALID: Record<string, FormValues> = {
  WHATSAPP: { name: "Support", phone_number_id: "106540352242922", access_token: "EAAG…", app_secret: "s3cret" },
  MESSENGER: { name: "Page", page_id: "104834215876553", page_access_token: "EAAG…", app_secret: "s3cret" },
  INSTAGRAM: { name: "IG", ig_account_id: "17841405822304914", access_token: "IGQ…", app_secret: "s3cret" },
  TELEGRAM: { name: "Bot", bot_token: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" },
  DISCORD: { name: "Discord", application_id: "1234567890123456789", public_key: "a".repeat(64), bot_token: "MTA…" },
  SLACK: { name: "Slack", team_id: "T0123ABCD", signing_secret: "8f7…", bot_token: "xoxb-1-2-3" },
  WEBCHAT: { name: "Site", allowed_origins: "https://shop.example.com\nhttp://localhost:5173" },
  SMS: { name: "SMS", account_sid: `AC${"0".repeat(32)}`, auth_token: "tok", from_number: "+15557122661" },
  EMAIL: { name: "Mail", address: "support@example.com", inbound: "mailgun", mailgun_signing_key: "key-1", smtp_host: "smtp.example.com" },
  LINE: { name: "LINE", channel_secret: "abc", channel_access_token: "def" },
  VIBER: { name: "Viber", auth_token: "445da6a…", sender_name: "Acme Support" },
  WECHAT: { name: "WeChat", app_id: "wx1234567890abcdef", app_secret: "sec", token: "Token123" },
};

describe("the per-platform channel schemas", () => {
  it("has a valid example and labels for every platform and every field", () => {
    for (const spec of PLATFORMS) {
      expect(problems(spec.platform, VALID[spec.platform]), spec.platform).toEqual({});
      for (const f of spec.fields) {
        const own = (en.fields as Record<string, Record<string, { label: string }>>)[spec.platform]?.[f.key];
        const common = (en.common as Record<string, { label: string }>)[f.key];
        expect(own?.label ?? common?.label, `${spec.platform}.${f.key}`).toBeTruthy();
      }
    }
  });

  it("requires each platform's required fields, but not a secret that is already set", () => {
    for (const spec of PLATFORMS) {
      const required = spec.fields.filter((f) => f.required && (!f.when || f.when(VALID[spec.platform])));
      for (const f of required) {
        expect(problems(spec.platform, { ...VALID[spec.platform], [f.key]: "" }), `${spec.platform}.${f.key}`).toEqual({ [f.key]: "required" });
        if (f.in === "secrets") expect(problems(spec.platform, { ...VALID[spec.platform], [f.key]: "" }, [f.key])).toEqual({});
      }
    }
    expect(problems("TELEGRAM", { ...VALID.TELEGRAM, name: "  " })).toEqual({ name: "required" });
  });

  it("checks the formats the backend checks", () => {
    const cases: [string, FormValues, string, string][] = [
      ["WHATSAPP", { phone_number_id: "+55 11" }, "phone_number_id", "digits"],
      ["WHATSAPP", { api_version: "21" }, "api_version", "apiVersion"],
      ["WHATSAPP", { api_base: "graph.facebook.com" }, "api_base", "url"],
      ["MESSENGER", { page_id: "my-page" }, "page_id", "digits"],
      ["TELEGRAM", { bot_token: "not a token" }, "bot_token", "telegramToken"],
      ["TELEGRAM", { bot_username: "acme_support" }, "bot_username", "telegramBot"],
      ["DISCORD", { application_id: "123" }, "application_id", "snowflake"],
      ["DISCORD", { public_key: "xyz" }, "public_key", "hex64"],
      ["SLACK", { team_id: "workspace" }, "team_id", "slackTeam"],
      ["SLACK", { bot_token: "xoxp-123" }, "bot_token", "xoxb"],
      ["WEBCHAT", { allowed_origins: "https://shop.example.com/" }, "allowed_origins", "origins"],
      ["WEBCHAT", { color: "blue" }, "color", "color"],
      ["WEBCHAT", { identity_secret: "short" }, "identity_secret", "min32"],
      ["SMS", { account_sid: "AC123" }, "account_sid", "accountSid"],
      ["SMS", { from_number: "5557122661" }, "from_number", "e164"],
      ["EMAIL", { address: "support" }, "address", "email"],
      ["EMAIL", { smtp_port: "70000" }, "smtp_port", "port"],
      ["LINE", { bot_user_id: "U123" }, "bot_user_id", "lineUser"],
      ["VIBER", { sender_name: "A name far longer than twenty-eight" }, "sender_name", "max28"],
      ["WECHAT", { app_id: "wx123" }, "app_id", "wechatAppId"],
      ["WECHAT", { token: "no spaces!" }, "token", "wechatToken"],
    ];
    for (const [platform, change, field, message] of cases) {
      expect(problems(platform, { ...VALID[platform], ...change }), `${platform}.${field}`).toEqual({ [field]: message });
    }
    for (const key of Object.values(Object.fromEntries(cases.map((c) => [c[3], c[3]])))) expect(en.v).toHaveProperty(key);
  });

  it("applies the rules across fields: SMS's sender, e-mail's way in and SMTP sign-in", () => {
    expect(problems("SMS", { ...VALID.SMS, from_number: "" })).toEqual({ from_number: "smsSender" });
    expect(problems("SMS", { ...VALID.SMS, from_number: "", messaging_service_sid: `MG${"a".repeat(32)}` })).toEqual({});
    // IMAP: its server, user and password become required; Mailgun's key does not.
    expect(problems("EMAIL", { ...VALID.EMAIL, inbound: "imap", mailgun_signing_key: "" })).toEqual({ imap_host: "required", imap_username: "required", imap_password: "required" });
    expect(problems("EMAIL", { ...VALID.EMAIL, inbound: "sendgrid", mailgun_signing_key: "" })).toEqual({});
    expect(problems("EMAIL", { ...VALID.EMAIL, smtp_username: "me" })).toEqual({ smtp_password: "smtpPassword" });
    expect(problems("EMAIL", { ...VALID.EMAIL, smtp_username: "me" }, ["smtp_password", "mailgun_signing_key"])).toEqual({});
  });

  it("accepts only scheme://host[:port] origins", () => {
    expect(isOrigin("https://shop.example.com")).toBe(true);
    expect(isOrigin("http://localhost:5173")).toBe(true);
    expect(isOrigin("https://shop.example.com/")).toBe(false);
    expect(isOrigin("https://shop.example.com/path")).toBe(false);
    expect(isOrigin("ftp://example.com")).toBe(false);
    expect(isOrigin("shop.example.com")).toBe(false);
  });
});

describe("toInput", () => {
  it("splits config from secrets and makes up the tokens we hand to the platform", () => {
    const spec = specOf("WHATSAPP");
    const input = toInput(spec, { ...initialValues(spec), ...VALID.WHATSAPP, name: " Support " }, "create", () => "made-up");
    expect(input).toEqual({
      name: "Support",
      config: { phone_number_id: "106540352242922" },
      secrets: { access_token: "EAAG…", app_secret: "s3cret", verify_token: "made-up" },
      generated: { verify_token: "made-up" },
    });
  });

  it("leaves Telegram's webhook secret to the server and strips the @ of the username", () => {
    const spec = specOf("TELEGRAM");
    const input = toInput(spec, { ...initialValues(spec), ...VALID.TELEGRAM, bot_username: "@acme_bot" }, "create");
    expect(input.config).toEqual({ bot_username: "acme_bot" });
    expect(input.secrets).toEqual({ bot_token: VALID.TELEGRAM.bot_token });
    expect(input.generated).toEqual({});
  });

  it("editing: keeps secrets left empty, clears emptied settings, never nulls a key with a default", () => {
    const spec = specOf("SLACK");
    const values = { ...initialValues(spec, { name: "Slack", config: { team_id: "T1AB", bot_user_id: "U1AB", api_base: "http://fake" } }), bot_user_id: "", api_base: "" };
    expect(toInput(spec, values, "edit")).toEqual({ name: "Slack", config: { team_id: "T1AB", bot_user_id: null }, secrets: {}, generated: {} });
  });

  it("turns e-mail's choices into the connector's keys", () => {
    const spec = specOf("EMAIL");
    const create = toInput(spec, { ...initialValues(spec), ...VALID.EMAIL, smtp_port: "465", smtp_security: "ssl" }, "create");
    expect(create.config).toMatchObject({ provider: "mailgun", smtp_port: 465, smtp_ssl: true, smtp_starttls: false });
    const imap = toInput(spec, { ...initialValues(spec), ...VALID.EMAIL, inbound: "imap", imap_host: "imap.example.com", imap_username: "me", imap_password: "pw" }, "create");
    expect(imap.config).not.toHaveProperty("provider");
    expect(imap.secrets).toEqual({ imap_password: "pw" }); // Mailgun's key is not sent for a mailbox
    const sendgrid = toInput(spec, { ...initialValues(spec), ...VALID.EMAIL, inbound: "sendgrid" }, "create", () => "k");
    expect(sendgrid.secrets).toEqual({ inbound_key: "k" });
    // Editing back to a mailbox clears the provider the server merged in before.
    const back = initialValues(spec, { name: "Mail", config: { provider: "sendgrid", address: "a@b.co", smtp_host: "s" } });
    expect(back.inbound).toBe("sendgrid");
    expect(toInput(spec, { ...back, inbound: "imap" }, "edit").config.provider).toBeNull();
  });

  it("turns web chat's origins into a list", () => {
    const spec = specOf("WEBCHAT");
    const input = toInput(spec, { ...initialValues(spec), ...VALID.WEBCHAT }, "create");
    expect(input.config).toEqual({ allowed_origins: ["https://shop.example.com", "http://localhost:5173"] });
  });
});
