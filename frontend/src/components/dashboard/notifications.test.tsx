// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { addNotifications, markRead, targetOf, unread, type Notification } from "./notifications";
import { prefsSchema, toForm, toInput } from "./prefs";

const n = (id: string, patch: Partial<Notification> = {}): Notification => ({
  id, kind: "assignment", title: `n${id}`, body: "", data: { conversation_id: 7 }, createdAt: `2026-12-05T10:0${id}:00Z`, readAt: null, ...patch,
});

describe("notification list", () => {
  it("lists each once, newest first, and counts the unread", () => {
    let list = addNotifications([], [n("1"), n("2")]);
    list = addNotifications(list, [n("2"), n("3", { readAt: "2026-12-05T11:00:00Z" })]);
    expect(list.map((x) => x.id)).toEqual(["3", "2", "1"]);
    expect(unread(list)).toBe(2);
  });

  it("marks some or all read, and a stale copy does not make one unread again", () => {
    const list = addNotifications([], [n("1"), n("2")]);
    const some = markRead(list, ["1"], "2026-12-05T12:00:00Z");
    expect(unread(some)).toBe(1);
    expect(unread(addNotifications(some, [n("1")]))).toBe(1);
    expect(unread(markRead(list, null, "2026-12-05T12:00:00Z"))).toBe(0);
  });

  it("leads to its conversation by the inbox's id", () => {
    expect(targetOf(n("1"))).toBe(`/inbox/${btoa("Conversation:7")}`);
    expect(targetOf(n("1", { data: { message_id: 3 } }))).toBeNull();
    expect(targetOf(n("1", { kind: "alert", data: { alert_id: 3 } }))).toBe("/dashboard");
  });
});

describe("notification preferences form", () => {
  const prefs = { mutedKinds: ["mention"], channels: ["email"], slackWebhookUrl: null, timezone: "America/Sao_Paulo", quietStart: null, quietEnd: null };

  it("round-trips the server's shape", () => {
    const form = toForm(prefs);
    expect(form.notify).toEqual(["assignment", "customer_reply", "alert"]);
    expect(toInput(form)).toEqual(prefs);
  });

  it("mirrors the server's rules", () => {
    const base = toForm(prefs);
    const issues = (patch: Partial<typeof base>) => {
      const r = prefsSchema.safeParse({ ...base, ...patch });
      return r.success ? [] : r.error.issues.map((i) => i.message);
    };
    expect(issues({})).toEqual([]);
    expect(issues({ slack: true })).toEqual(["slackNeedsUrl"]);
    expect(issues({ slack: true, slackWebhookUrl: "hooks.slack.com" })).toEqual(["url"]);
    expect(issues({ timezone: "Mars/Olympus" })).toEqual(["timezone"]);
    expect(issues({ quiet: true, quietStart: "25:00" })).toEqual(["quiet"]);
    expect(toInput({ ...base, quiet: true, quietStart: "22:00", quietEnd: "07:00" })).toMatchObject({ quietStart: "22:00", quietEnd: "07:00" });
  });
});

describe("desktop notifications", () => {
  it("are shown only while the app is not in front, and lead to the conversation", async () => {
    const { showDesktop } = await import("./desktop");
    const shown: { title: string; onclick: (() => void) | null; close: () => void }[] = [];
    class FakeNotification {
      static permission = "granted";
      onclick: (() => void) | null = null;
      constructor(public title: string) {
        shown.push(this);
      }
      close() {}
    }
    Object.assign(window, { Notification: FakeNotification });
    vi.spyOn(window, "focus").mockImplementation(() => undefined);
    const focused = vi.spyOn(document, "hasFocus").mockReturnValue(true);
    const go = vi.fn();
    showDesktop(n("1"), go);
    expect(shown).toHaveLength(0);
    focused.mockReturnValue(false);
    showDesktop(n("1"), go);
    expect(shown.map((x) => x.title)).toEqual(["n1"]);
    shown[0].onclick?.();
    expect(go).toHaveBeenCalledWith(`/inbox/${btoa("Conversation:7")}`);
  });
});
