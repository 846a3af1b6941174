// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryRouter } from "react-router";
import { MARK_NOTIFICATIONS_READ, NOTIFICATIONS } from "@/api/ops/dashboard";
import { ServicesContext, type Services } from "@/services";
import { TooltipProvider } from "../ui/tooltip";
import { NotificationBell } from "./NotificationBell";
import type { Notification } from "./notifications";

afterEach(cleanup);

const note = (id: string, readAt: string | null = null): Notification => ({
  id, kind: "assignment", title: `Assigned ${id}`, body: "A conversation is yours", data: { conversation_id: Number(id) }, createdAt: `2026-12-05T10:0${id}:00Z`, readAt,
});

function setup(loaded: Notification[]) {
  const sinks: { next: (r: unknown) => void }[] = [];
  const live = { subscribe: vi.fn((_payload: unknown, sink: { next: (r: unknown) => void }) => (sinks.push(sink), () => undefined)) };
  const mutations: [string, unknown][] = [];
  const client = {
    query: vi.fn((query: string) => ({ toPromise: async () => ({ data: query === NOTIFICATIONS ? { notifications: loaded } : null }) })),
    mutation: vi.fn((query: string, vars: unknown) => ({ toPromise: async () => (mutations.push([query, vars]), { data: { markNotificationsRead: 1 } }) })),
  };
  const services = { client, live, me: { id: "1", name: "Sam", email: "s@x", role: "SUPERVISOR" } } as unknown as Services;
  render(
    <ServicesContext.Provider value={services}>
      <MemoryRouter>
        <TooltipProvider>
          <NotificationBell />
        </TooltipProvider>
      </MemoryRouter>
    </ServicesContext.Provider>,
  );
  return { sinks, mutations };
}

const bell = () => screen.getByTestId("notification-bell");

describe("NotificationBell", () => {
  it("counts the unread from the list and from live events, once each", async () => {
    const { sinks } = setup([note("1"), note("2", "2026-12-05T11:00:00Z")]);
    await waitFor(() => expect(bell().getAttribute("data-unread")).toBe("1"));
    expect(bell().getAttribute("aria-label")).toBe("Notifications, 1 unread");
    act(() => {
      sinks[0].next({ data: { notificationEvents: { cursor: "5", notification: note("3") } } });
      sinks[0].next({ data: { notificationEvents: { cursor: "5", notification: note("3") } } }); // a replay
    });
    expect(bell().getAttribute("data-unread")).toBe("2");
  });

  it("marks everything read from the popover", async () => {
    const { mutations } = setup([note("1"), note("2")]);
    await waitFor(() => expect(bell().getAttribute("data-unread")).toBe("2"));
    fireEvent.click(bell());
    fireEvent.click(await screen.findByRole("button", { name: /Mark all read/ }));
    await waitFor(() => expect(bell().getAttribute("data-unread")).toBe("0"));
    expect(mutations).toEqual([[MARK_NOTIFICATIONS_READ, { ids: null }]]);
  });
});
