import { afterEach, describe, expect, it } from "vitest";
import { configIssues, configProblems, defaultConfig, isKnownKind, portsOf, summary } from "./kinds";
import { moduleKinds, setModuleKinds } from "./moduleKinds";

// As flowNodeTypes gives the shipped slack_alerts module's node (modules/slack_alerts).
const SLACK_NOTIFY = {
  name: "slack_notify",
  module: "slack_alerts",
  moduleTitle: "Slack alerts",
  description: "Post a line to the module's Slack channel (ports: next, error).",
  configSchema: {
    type: "object",
    required: ["text"],
    additionalProperties: false,
    properties: { text: { type: "string", title: "Text", minLength: 1, maxLength: 3000 } },
  },
  ports: ["next", "error"],
};

afterEach(() => setModuleKinds([]));

describe("a module's node type in the builder", () => {
  it("is unknown until the editor registers the enabled modules' types", () => {
    expect(configProblems("slack_notify", { text: "x" })).toEqual(["unknown node type slack_notify"]);
    expect(isKnownKind("slack_notify")).toBe(false); // the palette cannot add it
  });

  it("is checked against its config's JSON Schema, has the server's ports and can be added", () => {
    setModuleKinds([SLACK_NOTIFY]);
    expect(moduleKinds().map((k) => k.name)).toEqual(["slack_notify"]);
    expect(configProblems("slack_notify", { text: "Cliente VIP {{nome}}" })).toEqual([]);
    expect(configProblems("slack_notify", {})).toEqual(["Text: Required."]);
    expect(configIssues("slack_notify", { text: "x".repeat(3001) })).toEqual([{ path: ["text"], message: "Text: At most 3000 characters." }]);
    expect(portsOf("slack_notify", {})).toEqual(["next", "error"]);
    expect(summary("slack_notify", { text: "Cliente VIP" })).toBe("Cliente VIP");
    expect(isKnownKind("slack_notify")).toBe(true);
    expect(defaultConfig("slack_notify")).toEqual({});
  });
});
