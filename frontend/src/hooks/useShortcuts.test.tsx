// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useShortcuts } from "./useShortcuts";

afterEach(cleanup);

function Harness({ handlers }: { handlers: Parameters<typeof useShortcuts>[0] }) {
  useShortcuts(handlers);
  return (
    <div>
      <input aria-label="search" />
      <textarea aria-label="reply" />
    </div>
  );
}

describe("useShortcuts", () => {
  it("runs j/k/r/e/'/' on the page, but not while typing or with a modifier", () => {
    const handlers = { j: vi.fn(), k: vi.fn(), r: vi.fn(), e: vi.fn(), "/": vi.fn(), "?": vi.fn() };
    const { getByLabelText } = render(<Harness handlers={handlers} />);
    for (const key of ["j", "k", "r", "e", "/", "?"]) fireEvent.keyDown(document.body, { key });
    for (const fn of Object.values(handlers)) expect(fn).toHaveBeenCalledTimes(1);
    fireEvent.keyDown(getByLabelText("reply"), { key: "e" });
    fireEvent.keyDown(getByLabelText("search"), { key: "j" });
    fireEvent.keyDown(document.body, { key: "j", ctrlKey: true });
    expect(handlers.e).toHaveBeenCalledTimes(1);
    expect(handlers.j).toHaveBeenCalledTimes(1);
  });
});
