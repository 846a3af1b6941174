import { describe, expect, it } from "vitest";
import type { Message } from "../api/types";
import { conversation, message } from "../test/fixtures";
import { applyInboxEvent, applyMessage, mergeStatus } from "./reducers";

const conv = (id: string, at: string, unread = 0) =>
  conversation({ id, lastMessageAt: at, unreadCount: unread, customer: { __typename: "Customer", id, name: id, phone: null } });
const msg = (id: string, status: Message["status"], clientMessageId: string | null = null, at = "2026-01-01T00:00:00Z") =>
  message({ id, text: "hi", status, clientMessageId, createdAt: at });

describe("applyInboxEvent", () => {
  it("upserts by id and keeps newest activity first", () => {
    let list = [conv("a", "2026-01-01T00:00:01Z"), conv("b", "2026-01-01T00:00:00Z")];
    list = applyInboxEvent(list, conv("b", "2026-01-01T00:00:05Z", 3));
    expect(list.map((c) => c.id)).toEqual(["b", "a"]);
    expect(list[0].unreadCount).toBe(3);
    expect(list).toHaveLength(2);
  });
  it("drops a conversation that no longer matches the filter", () => {
    const list = applyInboxEvent([conv("a", "2026-01-01T00:00:01Z")], conv("a", "2026-01-01T00:00:02Z"), () => false);
    expect(list).toEqual([]);
  });
});

describe("applyMessage", () => {
  it("replaces the optimistic message matched by clientMessageId", () => {
    const optimistic = msg("local-1", "QUEUED", "c-1");
    const list = applyMessage([optimistic], msg("TWVzc2FnZTo1", "SENT", "c-1"));
    expect(list).toHaveLength(1);
    expect(list[0].id).toBe("TWVzc2FnZTo1");
    expect(list[0].status).toBe("SENT");
  });
  it("applies the same event twice without duplicating it", () => {
    const once = applyMessage([], msg("m1", "DELIVERED"));
    expect(applyMessage(once, msg("m1", "DELIVERED"))).toHaveLength(1);
  });
  it("never moves a status backwards", () => {
    const read = applyMessage([], msg("m1", "READ"));
    expect(applyMessage(read, msg("m1", "DELIVERED"))[0].status).toBe("READ");
    expect(mergeStatus("FAILED", "READ")).toBe("FAILED");
    expect(mergeStatus("SENT", "FAILED")).toBe("FAILED");
  });
  it("keeps messages in time order", () => {
    const list = applyMessage([msg("b", "SENT", null, "2026-01-01T00:00:02Z")], msg("a", "SENT", null, "2026-01-01T00:00:01Z"));
    expect(list.map((m) => m.id)).toEqual(["a", "b"]);
  });
});
