import { afterEach, describe, expect, it } from "vitest";
import { switchLanguage } from "@/i18n";
import { moduleFields, moduleText } from "./moduleWords";
import { fieldsOf } from "./schemaForm";

afterEach(() => switchLanguage("en"));

// slack_alerts' schemas as the server sends them (modules/slack_alerts): English, some without a title.
const config = {
  type: "object",
  required: ["webhook_url"],
  properties: {
    webhook_url: { type: "string", writeOnly: true, description: "The Slack incoming webhook URL (https://hooks.slack.com/services/...)." },
    events: { type: "array", items: { enum: ["conversation.created"] }, description: "Which events to post (default: new conversations and escalations)." },
    added_later: { type: "boolean", description: "A field the catalog does not know yet." },
  },
};
const node = { type: "object", properties: { text: { type: "string", title: "Text", description: "The line to post; {{variables}} are filled in." } } };

describe("a module's words in the reader's language", () => {
  it("labels PyTake's own module in Portuguese, and keeps the server's words where the catalog has none", async () => {
    await switchLanguage("pt-BR");
    const fields = moduleFields(fieldsOf(config), "slack_alerts");
    expect(fields.map((f) => [f.name, f.label, f.kind, f.required])).toEqual([
      ["webhook_url", "URL do webhook", "secret", true],
      ["events", "Eventos", "multi", false],
      ["added_later", "Added later", "switch", false],
    ]);
    expect(fields[1].description).toBe("Quais eventos publicar (padrão: novas conversas e escalonamentos).");
    expect(fields[2].description).toBe("A field the catalog does not know yet.");
    expect(moduleText("slack_alerts", "title", "Slack alerts")).toBe("Alertas no Slack");
    const [text] = moduleFields(fieldsOf(node), "slack_alerts", "slack_notify");
    expect([text.label, text.description]).toEqual(["Texto", "A linha a publicar; as {{variables}} são preenchidas."]); // not interpolated
    expect(moduleText("slack_alerts", "nodes.slack_notify.description", "x")).toMatch(/^Publica uma linha/);
  });

  it("shows any other module as it wrote itself, in either language", async () => {
    await switchLanguage("pt-BR");
    const fields = moduleFields(fieldsOf(node), "acme_crm", "acme_lookup");
    expect([fields[0].label, fields[0].description]).toEqual(["Text", "The line to post; {{variables}} are filled in."]);
    expect(moduleText("acme_crm", "title", "ACME CRM")).toBe("ACME CRM");
    await switchLanguage("en");
    expect(moduleFields(fieldsOf(config), "slack_alerts")[0].label).toBe("Webhook URL");
  });
});
