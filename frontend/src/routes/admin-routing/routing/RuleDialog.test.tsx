// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdminRoutingRulesQuery } from "@/api/graphql.generated";
import { Dialog } from "@/components/ui/dialog";
import { ServicesContext, type Services } from "@/services";
import { RuleDialog } from "./RuleDialog";
import type { Rule } from "./rule";

afterEach(cleanup);

const data: AdminRoutingRulesQuery = {
  __typename: "Query",
  routingRules: [],
  teams: [{ __typename: "Team", id: "VGVhbTox", name: "Billing" }],
  channels: [{ __typename: "Channel", id: "Q2hhbm5lbDox", name: "Support line", platform: "WHATSAPP" }],
};
const rule: Rule = {
  __typename: "RoutingRule", id: "Um91dGluZ1J1bGU6MQ==", teamId: "VGVhbTox", position: 3, platform: "TELEGRAM",
  channelId: "Q2hhbm5lbDox", language: "pt-BR", topic: null, createdAt: "2026-12-05T10:00:00Z",
};

function open(r: Rule | null, onSave: (v: unknown) => Promise<void>) {
  const services = { client: {}, me: { id: "1", name: "Ada", email: "a@x", role: "ADMIN" } } as unknown as Services;
  render(
    <ServicesContext.Provider value={services}>
      <Dialog open>
        <RuleDialog rule={r} data={data} onSave={onSave} />
      </Dialog>
    </ServicesContext.Provider>,
  );
}

describe("RuleDialog", () => {
  it("asks for a team before saving a new rule", async () => {
    const onSave = vi.fn(async () => undefined);
    open(null, onSave);
    expect(screen.getByRole("dialog", { name: "New routing rule" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(screen.getByText("Pick the team.")).toBeTruthy());
    expect(onSave).not.toHaveBeenCalled();
  });

  it("refuses a channel of another platform, as the server does", async () => {
    const onSave = vi.fn(async () => undefined);
    open(rule, onSave);
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(screen.getByText("This channel is on another platform.")).toBeTruthy());
    expect(onSave).not.toHaveBeenCalled();
  });

  it("saves an edited rule and shows what the server refused", async () => {
    const onSave = vi.fn(async () => {
      throw { graphQLErrors: [{ message: "team 9 does not exist", extensions: { code: "NOT_FOUND" } }] };
    });
    open({ ...rule, platform: null }, onSave);
    fireEvent.change(screen.getByLabelText("Topic label"), { target: { value: "Billing" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(onSave).toHaveBeenCalledWith({ teamId: "VGVhbTox", platform: "__any", channelId: "Q2hhbm5lbDox", language: "pt-BR", topic: "Billing" }));
    expect((await screen.findByRole("alert")).textContent).toContain("NOT_FOUND");
  });
});
