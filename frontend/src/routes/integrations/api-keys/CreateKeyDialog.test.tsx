// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Provider, type Client } from "urql";
import { fromValue } from "wonka"; // urql's own stream library (a dependency of @urql/core)
import { CreateKeyDialog } from "./CreateKeyDialog";

afterEach(cleanup);
// Radix's checkbox measures itself; jsdom has no ResizeObserver.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

const token = "pk_test_abcdefghijklmnopqrstuvwxyz0123456789";
function client() {
  const executeMutation = vi.fn(({ variables }: { variables: { name: string; scopes: string[] } }) =>
    fromValue({
      data: {
        createApiKey: {
          __typename: "CreatedApiKey",
          token,
          key: { __typename: "ApiKey", id: "QXBpS2V5OjE=", name: variables.name, prefix: "pk_test_ab", scopes: variables.scopes, createdById: "VXNlcjox", createdAt: "2026-12-05T10:00:00Z", revokedAt: null, lastUsedAt: null, lastUsedIp: null },
        },
      },
    }),
  );
  return { executeMutation, executeQuery: vi.fn(), executeSubscription: vi.fn() } as unknown as Client & { executeMutation: typeof executeMutation };
}

describe("CreateKeyDialog", () => {
  it("checks the form, sends the name and scopes, shows the key once and forgets it when closed", async () => {
    const c = client();
    const onCreated = vi.fn();
    const onOpenChange = vi.fn();
    const ui = (open: boolean) => (
      <Provider value={c}>
        <CreateKeyDialog open={open} onOpenChange={onOpenChange} onCreated={onCreated} />
      </Provider>
    );
    const { rerender } = render(ui(true));
    fireEvent.click(screen.getByRole("button", { name: "Create key" }));
    await screen.findByText("Give the key a name.");
    expect(screen.getByText("Pick at least one scope.")).toBeTruthy();
    expect(c.executeMutation).not.toHaveBeenCalled();

    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "  Zapier  " } });
    fireEvent.click(screen.getByRole("checkbox", { name: "conversations:read" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "audit:read" }));
    fireEvent.click(screen.getByRole("button", { name: "Create key" }));

    await screen.findByText(token);
    expect(c.executeMutation.mock.calls[0][0].variables).toEqual({ name: "Zapier", scopes: ["CONVERSATIONS_READ", "AUDIT_READ"] });
    expect(onCreated).toHaveBeenCalledOnce();
    expect(screen.getByText(/shown only this once/)).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "I have copied it" }));
    expect(onOpenChange).toHaveBeenCalledWith(false);
    rerender(ui(false));
    rerender(ui(true));
    await waitFor(() => expect(screen.getByRole("button", { name: "Create key" })).toBeTruthy());
    expect(screen.queryByText(token)).toBeNull();
    expect((screen.getByLabelText("Name") as HTMLInputElement).value).toBe("");
  });
});
