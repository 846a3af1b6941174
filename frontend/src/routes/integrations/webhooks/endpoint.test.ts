import { describe, expect, it } from "vitest";
import { endpointSchema, health, toInput, toValues } from "./endpoint";

describe("webhook endpoint form", () => {
  const base = toValues(undefined);
  it("takes only http(s) URLs without credentials", () => {
    expect(endpointSchema.safeParse({ ...base, url: "https://example.com/hook" }).success).toBe(true);
    expect(endpointSchema.safeParse({ ...base, url: "ftp://example.com" }).success).toBe(false);
    expect(endpointSchema.safeParse({ ...base, url: "https://u:p@example.com" }).success).toBe(false);
    expect(endpointSchema.safeParse({ ...base, url: "example.com" }).success).toBe(false);
  });
  it("needs all events or at least one", () => {
    const none = endpointSchema.safeParse({ ...base, url: "https://x.io", allEvents: false, events: [] });
    expect(none.success).toBe(false);
    expect(none.error?.issues[0].path).toEqual(["events"]);
    expect(endpointSchema.safeParse({ ...base, url: "https://x.io", allEvents: false, events: ["message.created"] }).success).toBe(true);
  });
  it("sends [*] for all events, the chosen ones otherwise", () => {
    expect(toInput({ ...base, url: " https://x.io ", events: ["message.created"] }).events).toEqual(["*"]);
    expect(toInput({ ...base, url: "https://x.io", allEvents: false, events: ["message.created"] })).toMatchObject({ url: "https://x.io", events: ["message.created"] });
  });
  it("reads health from enabled, the reason it was disabled and failingSince", () => {
    expect(health({ enabled: true, disabledReason: null, failingSince: null })).toBe("healthy");
    expect(health({ enabled: true, disabledReason: null, failingSince: "2026-12-05T10:00:00Z" })).toBe("failing");
    expect(health({ enabled: false, disabledReason: "failing for a day", failingSince: "2026-12-04T10:00:00Z" })).toBe("disabled");
    expect(health({ enabled: false, disabledReason: null, failingSince: null })).toBe("paused");
  });
});
