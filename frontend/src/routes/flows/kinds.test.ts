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

describe("configs the server normalised load as valid", () => {
  it("accepts what clean_definition returns", () => {
    expect(configProblems("send_message", { template: { id: "VGVtcGxhdGU6MQ==", variables: { name: "{{customer.name}}" } } })).toEqual([]);
    expect(configProblems("send_message", { text: "a", template: { id: "x", variables: {} } })).not.toEqual([]);
    expect(configProblems("trigger", { schedule: { cron: "0 9 * * 1-5", time_zone: "UTC", label: "follow_up" } })).toEqual([]);
    expect(configProblems("ask", { text: "q", variable: "v", validation: { kind: "text" }, retry_text: null, max_attempts: 3 })).toEqual([]);
    expect(configProblems("buttons", { text: "q", buttons: [{ id: "a", title: "A" }], variable: null, retry_text: null, max_attempts: 3 })).toEqual([]);
    expect(configProblems("escalate", { reason: null })).toEqual([]);
    expect(configProblems("http_request", { method: "GET", url: "https://api.example.com/x", headers: {}, body: null, timeout_seconds: 10, response_map: {} })).toEqual([]);
  });

  it("round-trips a template message and a scheduled trigger through their forms", () => {
    const template = { template: { id: "t1", variables: { a: "b" } } };
    expect(FORMS.send_message.toConfig(FORMS.send_message.fromConfig(template))).toEqual(template);
    const schedule = { schedule: { cron: "0 9 * * 1-5", time_zone: "UTC", label: "vip" } };
    expect(FORMS.trigger.toConfig(FORMS.trigger.fromConfig(schedule))).toEqual(schedule);
  });
});

describe("condition branches and HTTP requests", () => {
  it("checks each branch's test like the server", () => {
    const ok = { branches: [{ port: "vip", when: { label: "vip" } }, { port: "late", when: { business_hours: { time_zone: "UTC", start: "09:00", end: "18:00", days: [1, 2] } } }] };
    expect(configProblems("condition", ok)).toEqual([]);
    expect(configProblems("condition", { branches: [{ port: "a", when: { label: "vip", regex: "x" } }] })).toHaveLength(1);
    expect(configProblems("condition", { branches: [{ port: "a", when: { platform: ["fax"] } }] })).not.toEqual([]);
    expect(configProblems("condition", { branches: [{ port: "a", when: { business_hours: { time_zone: "UTC", start: "18:00", end: "09:00" } } }] })).not.toEqual([]);
    expect(configProblems("condition", { branches: [{ port: "else", when: { label: "x" } }] })).toEqual(["branch ports are distinct and not 'else'"]);
  });

  it("round-trips branches and requests through their forms", () => {
    const condition = { branches: [
      { port: "big", when: { variable: "total", op: "gt", value: "100" } },
      { port: "known", when: { attribute: "email", op: "exists" } },
      { port: "pt", when: { keyword: ["oi", "olá"] } },
      { port: "chat", when: { platform: ["webchat"] } },
    ] };
    expect(FORMS.condition.toConfig(FORMS.condition.fromConfig(condition))).toEqual(condition);
    const request = { method: "POST", url: "https://api.example.com/o", headers: { "X-Key": "k" }, body: { id: "{{order}}" }, timeout_seconds: 5, response_map: { status: "order.status" } };
    expect(FORMS.http_request.toConfig(FORMS.http_request.fromConfig(request))).toEqual(request);
    const broken = FORMS.http_request.toConfig({ ...FORMS.http_request.fromConfig(request), headers: "{nope" });
    expect(configProblems("http_request", broken)).toEqual(["headers is {name: text on one line}"]);
  });
});
