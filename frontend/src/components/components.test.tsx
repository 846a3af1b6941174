// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryRouter } from "react-router";
import type { ReplyTarget } from "../api/types";
import { conversation, message } from "../test/fixtures";
import { Composer } from "./Composer";
import { ConversationRow } from "./ConversationList";
import { ErrorState } from "./ErrorState";
import { SlaBadge } from "./SlaBadge";
import { Timeline, timeline } from "./Timeline";
import { TooltipProvider } from "./ui/tooltip";

afterEach(cleanup);

const now = Date.parse("2026-12-05T10:05:00Z");

describe("ConversationRow", () => {
  it("shows the customer, the preview, the unread count and the SLA time left", () => {
    const c = conversation({
      unreadCount: 3,
      priority: "URGENT",
      slaTimers: [{ __typename: "SlaTimer", id: "1", kind: "first_response", dueAt: "2026-12-05T10:17:00Z", warnAt: "2026-12-05T10:15:00Z", metAt: null, breachedAt: null, cancelledAt: null }],
    });
    render(<MemoryRouter><ConversationRow c={c} selected now={now} /></MemoryRouter>);
    const link = screen.getByRole("link");
    expect(link.getAttribute("href")).toBe(`/inbox/${c.id}`);
    expect(link.getAttribute("aria-current")).toBe("true");
    expect(link.textContent).toContain("Maria Silva");
    expect(link.textContent).toContain("Olá!");
    expect(screen.getByText("3 unread messages")).toBeTruthy();
    expect(document.querySelector("[data-unread]")?.getAttribute("data-unread")).toBe("3");
    expect(document.querySelector("[data-sla]")?.textContent).toBe("First response: 12m left");
    expect(link.textContent).toContain("Urgent");
    expect(link.textContent).toContain("Unassigned");
  });

  it("marks our own last message", () => {
    const c = conversation({ lastMessage: { ...conversation().lastMessage!, direction: "OUTBOUND", text: "On it" } });
    render(<MemoryRouter><ConversationRow c={c} selected={false} now={now} /></MemoryRouter>);
    expect(screen.getByRole("link").textContent).toContain("You: On it");
  });
});

describe("SlaBadge", () => {
  it("turns red with the time overdue once breached", () => {
    render(<SlaBadge now={now} timers={[{ __typename: "SlaTimer", id: "1", kind: "resolution", dueAt: "2026-12-05T10:00:00Z", warnAt: "2026-12-05T09:50:00Z", metAt: null, breachedAt: "2026-12-05T10:00:00Z", cancelledAt: null }]} />);
    const badge = document.querySelector("[data-sla]");
    expect(badge?.textContent).toBe("Resolution: 5m overdue");
    expect(badge?.getAttribute("data-sla")).toBe("breached");
  });
  it("shows nothing without a running timer", () => {
    const { container } = render(<SlaBadge now={now} timers={[]} />);
    expect(container.innerHTML).toBe("");
  });
});

describe("Timeline", () => {
  it("shows each outgoing message's tick, notes, and activities in time order", () => {
    const items = timeline(
      [
        message({ id: "m1", direction: "INBOUND", text: "Hi", status: "RECEIVED", createdAt: "2026-12-05T10:00:00Z" }),
        message({ id: "m2", text: "Hello!", status: "READ", createdAt: "2026-12-05T10:02:00Z", platform: "WHATSAPP" }),
        message({ id: "m3", direction: "NOTE", text: "VIP customer", status: "POSTED", createdAt: "2026-12-05T10:03:00Z" }),
        message({ id: "m4", text: "Failed one", status: "FAILED", errorReason: "Outside the 24-hour window", errorCode: "131047", createdAt: "2026-12-05T10:04:00Z" }),
      ],
      [{ __typename: "Activity", id: "a1", type: "assigned", data: { strategy: "manual" }, createdAt: "2026-12-05T10:01:00Z", actor: { __typename: "User", id: "u", name: "Alex" } }],
    );
    render(<Timeline items={items} />);
    expect(screen.getByRole("img", { name: "Read" }).getAttribute("data-tick")).toBe("READ");
    expect(screen.getByRole("img", { name: "Failed" })).toBeTruthy();
    expect(screen.getByText(/Outside the 24-hour window/).textContent).toContain("(131047)");
    expect(screen.getByText("Internal note")).toBeTruthy();
    const order = [...document.querySelectorAll("[data-message],[data-activity]")].map((e) => e.getAttribute("data-message") ?? e.getAttribute("data-activity"));
    expect(order).toEqual(["m1", "assigned", "m2", "m3", "m4"]);
    expect(screen.getByText(/Alex took it/)).toBeTruthy();
    expect(screen.queryAllByRole("img", { name: "Received" })).toHaveLength(0); // no tick on inbound
  });
});

describe("Composer", () => {
  const targets: ReplyTarget[] = [
    { __typename: "ReplyTarget", channelId: "c1", channelName: "Sales WhatsApp", platform: "WHATSAPP", address: "5511", available: true, reason: null, requiresTemplate: false, isDefault: true },
    { __typename: "ReplyTarget", channelId: "c2", channelName: "Support Telegram", platform: "TELEGRAM", address: null, available: false, reason: "no identity", requiresTemplate: false, isDefault: false },
  ];
  const setup = (result: boolean) => {
    const onSend = vi.fn(async () => result);
    render(<TooltipProvider><Composer targets={targets} onSend={onSend} onTyping={() => undefined} /></TooltipProvider>);
    return onSend;
  };

  it("sends on Enter through the default channel and clears the draft", async () => {
    const onSend = setup(true);
    const box = screen.getByRole("textbox", { name: "Reply" }) as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: "  Thanks!  " } });
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" });
    });
    expect(onSend).toHaveBeenCalledWith("Thanks!", "reply", "c1");
    expect(box.value).toBe("");
    expect(screen.getByRole("combobox").textContent).toContain("Sales WhatsApp");
  });

  it("keeps the draft when the send fails, and Shift+Enter is a new line", async () => {
    const onSend = setup(false);
    const box = screen.getByRole("textbox", { name: "Reply" }) as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: "Try this" } });
    fireEvent.keyDown(box, { key: "Enter", shiftKey: true });
    expect(onSend).not.toHaveBeenCalled();
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" });
    });
    expect(onSend).toHaveBeenCalledTimes(1);
    expect(box.value).toBe("Try this");
  });

  it("writes private notes without a channel", async () => {
    const onSend = setup(true);
    fireEvent.click(screen.getByRole("tab", { name: "Private note" }));
    const box = screen.getByRole("textbox", { name: "Private note" });
    fireEvent.change(box, { target: { value: "Call back at 3" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Add note" }));
    });
    expect(onSend).toHaveBeenCalledWith("Call back at 3", "note", null);
  });
});

describe("ErrorState", () => {
  it("says what the error's code means, keeps the code, and offers a retry", () => {
    const retry = vi.fn();
    const error = { graphQLErrors: [{ message: "conversation 9 is not yours", extensions: { code: "FORBIDDEN" } }] };
    render(<ErrorState error={error} onRetry={retry} />);
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("You are not allowed to do this.");
    expect(alert.textContent).toContain("FORBIDDEN");
    expect(alert.textContent).toContain("conversation 9 is not yours");
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(retry).toHaveBeenCalled();
  });
  it("calls a failed fetch a network problem", () => {
    render(<ErrorState error={new TypeError("Failed to fetch")} />);
    expect(screen.getByRole("alert").textContent).toContain("Cannot reach the server");
  });
});
