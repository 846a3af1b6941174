import { describe, expect, it } from "vitest";
import { configResolver } from "./NodeForm";
import { FORMS } from "./forms";
import { configProblems, defaultConfig, KINDS, portsOf } from "./kinds";

describe("node configs, as the server checks them", () => {
  it("a trigger has exactly one of keywords, regex, event", () => {
    expect(configProblems("trigger", { keywords: ["pedido"] })).toEqual([]);
    expect(configProblems("trigger", { keywords: [] })).not.toEqual([]);
    expect(configProblems("trigger", { keywords: ["a"], regex: "b" })).not.toEqual([]);
    expect(configProblems("trigger", { event: "no_agent_reply" })).toContain("minutes is a whole number from 1 to 10080");
    expect(configProblems("trigger", { regex: "(" })).toContain("regex is not a regular expression");
  });

  it("names are lower-case, buttons distinct and not 'invalid', waits bounded", () => {
    expect(configProblems("ask", { text: "Order?", variable: "Pedido", validation: { kind: "text" }, max_attempts: 3 })).toHaveLength(1);
    expect(configProblems("buttons", { text: "x", buttons: [{ id: "invalid", title: "A" }], max_attempts: 3 })).toEqual(["button ids are distinct and not 'invalid'"]);
    expect(configProblems("wait", { seconds: 0 })).not.toEqual([]);
    expect(configProblems("wait", { until_reply: true, timeout_seconds: 60 })).toEqual([]);
    expect(configProblems("http_request", { method: "GET", url: "https://{{host}}/x", timeout_seconds: 10 })).not.toEqual([]);
    expect(configProblems("transfer", { team_id: "", agent_id: "" })).not.toEqual([]);
  });

  it("ports follow the config", () => {
    expect(portsOf("buttons", { buttons: [{ id: "yes" }, { id: "no" }] })).toEqual(["yes", "no", "invalid"]);
    expect(portsOf("condition", { branches: [{ port: "vip" }] })).toEqual(["vip", "else"]);
    expect(portsOf("wait", { until_reply: true })).toEqual(["next", "timeout"]);
    expect(portsOf("end", {})).toEqual([]);
  });

  it("every form turns its own values back into the config it came from", () => {
    for (const kind of KINDS) {
      const config = defaultConfig(kind);
      expect(FORMS[kind].toConfig(FORMS[kind].fromConfig(config))).toEqual(config);
    }
  });

  it("the form's resolver puts a problem on the field it is about", async () => {
    const resolve = configResolver("ask");
    const values = FORMS.ask.fromConfig({ text: "Order?", variable: "Bad Name", validation: { kind: "text" }, max_attempts: 3 });
    const result = await resolve(values, undefined, { fields: {}, shouldUseNativeValidation: false });
    expect(Object.keys(result.errors)).toEqual(["variable"]);
  });
});
