// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { conversation } from "../../test/fixtures";
import { useSelection } from "../../state/selection";
import { ConversationRow } from "../ConversationList";

afterEach(() => {
  cleanup();
  useSelection.getState().clear();
});

describe("a bulk change's error on its row", () => {
  it("shows what the code means in place of the assignee, until the selection changes", () => {
    const c = conversation({ assignee: { __typename: "User", id: "VXNlcjoz", name: "Bea Agent" } });
    useSelection.getState().settle(2, { [c.id]: { code: "FORBIDDEN", message: "agents can only change their own" } });
    const { rerender } = render(<MemoryRouter><ConversationRow c={c} selected={false} now={Date.parse("2026-12-05T10:05:00Z")} /></MemoryRouter>);
    const error = screen.getByRole("note");
    expect(error.textContent).toBe("You are not allowed to do this.");
    expect(error.getAttribute("title")).toBe("agents can only change their own");
    expect(screen.queryByText("Bea Agent")).toBeNull();
    useSelection.getState().toggle(c.id);
    rerender(<MemoryRouter><ConversationRow c={c} selected={false} now={Date.parse("2026-12-05T10:05:00Z")} /></MemoryRouter>);
    expect(screen.queryByRole("note")).toBeNull();
    expect(screen.getByText("Bea Agent")).toBeTruthy();
  });
});
