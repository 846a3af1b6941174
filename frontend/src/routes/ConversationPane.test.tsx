// @vitest-environment jsdom
// The open conversation hears on its own stream (conversationEvents) that its customer changed:
// another agent's attribute edit, a merge. The customer panel then shows the customer as it is now.
import { act, cleanup, render, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router";
import { Client, Provider, makeResult, stringifyDocument, type Exchange } from "urql";
import { afterEach, describe, expect, it, vi } from "vitest";
import { filter, map, pipe } from "wonka";
import { graphcache } from "@/api/client";
import { CONVERSATION_EVENTS } from "@/api/operations";
import { TooltipProvider } from "@/components/ui/tooltip";
import { ServicesContext, type Services } from "@/services";
import { conversation } from "@/test/fixtures";
import ConversationPane from "./ConversationPane";

// What this test is not about, and what needs more of a server than the answers below.
vi.mock("@/components/Composer", () => ({ Composer: () => null }));
vi.mock("@/components/conversation/MentionAssist", () => ({ MentionAssist: ({ children }: { children: ReactNode }) => children }));
vi.mock("@/components/conversation/TransferDialog", () => ({ TransferDialog: () => null }));
vi.mock("@/components/inbox/useDirectory", () => ({ useDirectory: () => ({ people: [], teams: [], lead: false }) }));

afterEach(cleanup);
Element.prototype.scrollIntoView ??= () => undefined; // jsdom lays nothing out

const base = conversation();
const attribute = (name: string, value: string) => ({ __typename: "CustomerAttribute", name, value, updatedAt: "2026-12-05T10:00:00Z" });

function setup() {
  const server = { attributes: [attribute("plan", "gold")], customerReads: 0 };
  const detail = () => ({
    ...base,
    queuePosition: null,
    language: null,
    escalationLevel: 0,
    createdAt: "2026-12-01T10:00:00Z",
    customer: {
      ...base.customer,
      email: null,
      identities: [{ __typename: "Identity", id: "SWRlbnRpdHk6MQ==", platform: "WHATSAPP", channelId: base.channel.id, externalId: "5511987650001", displayName: "Maria", phone: "5511987650001", email: null, lastInboundAt: null }],
      attributes: server.attributes,
    },
  });
  const answer = (text: string): Record<string, unknown> => {
    const conv = { __typename: "Conversation", id: base.id };
    if (text.includes("attributes")) {
      server.customerReads += 1;
      return { conversation: detail() };
    }
    if (text.includes("messages(")) return { conversation: { ...conv, messages: { __typename: "MessageConnection", edges: [], pageInfo: { __typename: "PageInfo", hasPreviousPage: false } } } };
    if (text.includes("replyTargets")) return { conversation: { ...conv, replyTargets: [] } };
    if (text.includes("activities")) return { conversation: { ...conv, status: "OPEN", activities: [] } };
    if (text.includes("conversations(")) return { conversations: { __typename: "ConversationConnection", edges: [], pageInfo: { __typename: "PageInfo", hasNextPage: false, endCursor: null } } };
    if (text.includes("markConversationRead")) return { markConversationRead: base };
    return {};
  };
  const fake: Exchange = () => (ops$) =>
    pipe(
      ops$,
      filter((op) => op.kind !== "teardown"),
      map((op) => makeResult(op, { data: answer(stringifyDocument(op.query)) })),
    );
  const client = new Client({ url: "/graphql", exchanges: [graphcache(), fake], requestPolicy: "cache-and-network" });
  const streams: { query: string; sink: { next: (r: unknown) => void } }[] = [];
  const live = {
    subscribe: vi.fn((payload: { query: string }, sink: { next: (r: unknown) => void }) => {
      streams.push({ query: payload.query, sink });
      return () => undefined;
    }),
  };
  const services = { client, live, me: { id: "VXNlcjoy", name: "Bea", email: "b@x", role: "AGENT" } } as unknown as Services;
  render(
    <ServicesContext.Provider value={services}>
      <Provider value={client}>
        <MemoryRouter>
          <TooltipProvider>
            <ConversationPane id={base.id} />
          </TooltipProvider>
        </MemoryRouter>
      </Provider>
    </ServicesContext.Provider>,
  );
  const events = () => streams.find((s) => s.query === CONVERSATION_EVENTS)!.sink;
  const customerUpdated = (cursor: string) =>
    events().next({ data: { conversationEvents: { __typename: "ConversationEvent", cursor, type: "CUSTOMER_UPDATED", message: null, activity: null, customer: { __typename: "Customer", id: base.customer.id } } } });
  const activityAdded = (cursor: string) =>
    events().next({ data: { conversationEvents: { __typename: "ConversationEvent", cursor, type: "ACTIVITY_ADDED", message: null, customer: null, activity: { __typename: "Activity", id: "QWN0aXZpdHk6MQ==", type: "priority_changed", data: { from: "normal", to: "high" }, createdAt: "2026-12-05T10:02:00Z", actor: null } } } });
  return { server, customerUpdated, activityAdded };
}

const shown = (name: string) => document.querySelector(`[data-attribute="${name}"] button`)?.textContent ?? null;

describe("ConversationPane, the customer changed elsewhere", () => {
  it("reads the customer again once per burst of CUSTOMER_UPDATED and the panel shows the new attributes", async () => {
    const { server, customerUpdated, activityAdded } = setup();
    await waitFor(() => expect(shown("plan")).toBe("gold"));
    const readsBefore = server.customerReads;

    // Another agent changed the plan and added a city (or a merge carried one over).
    server.attributes = [attribute("city", "Recife"), attribute("plan", "platinum")];
    act(() => {
      customerUpdated("7");
      customerUpdated("8");
      customerUpdated("9");
    });
    await waitFor(() => expect(shown("plan")).toBe("platinum"));
    expect(shown("city")).toBe("Recife");
    expect(server.customerReads).toBe(readsBefore + 1); // three events, one read

    // Any other event on the stream reads nothing more.
    act(() => activityAdded("10"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.customerReads).toBe(readsBefore + 1);
  });
});
