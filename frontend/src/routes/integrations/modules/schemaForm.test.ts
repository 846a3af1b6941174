import { describe, expect, it } from "vitest";
import { configOf, fieldsOf, valuesOf, zodOf } from "./schemaForm";

// modules/slack_alerts' schema, plus a number and a free list.
const schema = {
  type: "object",
  required: ["webhook_url"],
  properties: {
    webhook_url: { type: "string", pattern: "^https?://", maxLength: 2000, writeOnly: true, description: "The Slack URL." },
    events: { type: "array", items: { enum: ["message.created", "conversation.created"] }, uniqueItems: true },
    allow_private_network: { type: "boolean" },
    retries: { type: "integer", minimum: 0, maximum: 5 },
    tags: { type: "array", items: { type: "string" } },
  },
};

describe("a module's config form from its JSON Schema", () => {
  const fields = fieldsOf(schema);
  it("picks a control per property", () => {
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ["webhook_url", "secret", true],
      ["events", "multi", false],
      ["allow_private_network", "switch", false],
      ["retries", "number", false],
      ["tags", "list", false],
    ]);
    expect(fields[1].options).toEqual(["message.created", "conversation.created"]);
    expect(fields[0].label).toBe("Webhook url");
  });
  it("never shows a write-only value, so it must be typed again", () => {
    const values = valuesOf(fields, { webhook_url: "***", events: ["message.created"], allow_private_network: true, retries: 2, tags: ["a", "b"] });
    expect(values).toEqual({ webhook_url: "", events: ["message.created"], allow_private_network: true, retries: "2", tags: "a\nb" });
    const r = zodOf(schema).safeParse(values);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path[0], i.message])).toEqual([["webhook_url", "required"]]);
  });
  it("checks patterns and bounds like the server", () => {
    const bad = zodOf(schema).safeParse({ webhook_url: "hooks.slack.com", events: [], allow_private_network: false, retries: "9", tags: "" });
    expect(bad.error?.issues.map((i) => i.message)).toEqual(["pattern:^https?://", "maximum:5"]);
  });
  it("sends typed values and leaves empty optional ones to the module's defaults", () => {
    expect(configOf(fields, { webhook_url: " https://hooks.slack.com/x ", events: [], allow_private_network: false, retries: "", tags: "a\n\n b " })).toEqual({
      webhook_url: "https://hooks.slack.com/x",
      allow_private_network: false,
      tags: ["a", "b"],
    });
  });
});
