// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { CombinedError } from "urql";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ListScaffold, type QueryState } from "./ListScaffold";

afterEach(cleanup);

interface Keys { keys: string[] }

function page(state: QueryState<Keys>) {
  return render(
    <ListScaffold state={state} isEmpty={(d) => d.keys.length === 0} empty={<p>No keys yet</p>}>
      {(d) => (
        <ul aria-label="Keys">
          {d.keys.map((k) => (
            <li key={k}>{k}</li>
          ))}
        </ul>
      )}
    </ListScaffold>,
  );
}

const forbidden = new CombinedError({ graphQLErrors: [{ message: "admins only", extensions: { code: "FORBIDDEN" } }] });

describe("ListScaffold", () => {
  it("shows a skeleton, marked busy, until the first answer", () => {
    page({ data: undefined, error: null, loading: true, retry: () => undefined });
    const busy = screen.getByRole("status");
    expect(busy.getAttribute("aria-busy")).toBe("true");
    expect(busy.getAttribute("aria-label")).toBe("Loading…");
    expect(screen.queryByRole("list")).toBeNull();
    expect(screen.queryByText("No keys yet")).toBeNull();
  });

  it("shows the error's meaning and code with a retry when there is no answer", () => {
    const retry = vi.fn();
    page({ data: undefined, error: forbidden, loading: false, retry });
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("You are not allowed to do this.");
    expect(alert.textContent).toContain("FORBIDDEN");
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(retry).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole("list")).toBeNull();
  });

  it("goes back to the skeleton while the retry runs", () => {
    page({ data: undefined, error: forbidden, loading: true, retry: () => undefined });
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.getByRole("status").getAttribute("aria-busy")).toBe("true");
  });

  it("shows the empty state when the answer holds nothing", () => {
    page({ data: { keys: [] }, error: null, loading: false, retry: () => undefined });
    expect(screen.getByText("No keys yet")).toBeTruthy();
    expect(screen.queryByRole("list")).toBeNull();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("shows the content, and keeps it while the query runs again or after a later error", () => {
    const { rerender } = page({ data: { keys: ["ci", "crm"] }, error: null, loading: false, retry: () => undefined });
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["ci", "crm"]);
    const again = (state: QueryState<Keys>) => (
      <ListScaffold state={state} isEmpty={(d) => d.keys.length === 0} empty={<p>No keys yet</p>}>
        {(d) => <ul aria-label="Keys">{d.keys.map((k) => <li key={k}>{k}</li>)}</ul>}
      </ListScaffold>
    );
    rerender(again({ data: { keys: ["ci", "crm"] }, error: null, loading: true, retry: () => undefined }));
    expect(screen.getAllByRole("listitem")).toHaveLength(2);
    rerender(again({ data: { keys: ["ci", "crm"] }, error: forbidden, loading: false, retry: () => undefined }));
    expect(screen.getAllByRole("listitem")).toHaveLength(2);
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("without an empty rule, an empty answer is content", () => {
    render(
      <ListScaffold state={{ data: { keys: [] }, error: null, loading: false, retry: () => undefined }}>
        {(d: Keys) => <p>{d.keys.length} keys</p>}
      </ListScaffold>,
    );
    expect(screen.getByText("0 keys")).toBeTruthy();
  });
});
