// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ServicesContext, type Services } from "../../services";
import { AttributeEditor } from "./AttributeEditor";
import type { Attribute } from "./attributes";

afterEach(cleanup);

const at = "2026-12-05T10:00:00Z";

/** A client whose mutations wait for `gate` and then answer `result()`. */
function services(calls: Record<string, unknown>[], result: () => unknown, gate: Promise<void>): Services {
  const client = {
    mutation: (_query: string, variables: Record<string, unknown>) => {
      calls.push(variables);
      return { toPromise: async () => (await gate, result()) };
    },
  };
  return { client, me: { id: "u1", name: "Ana" } } as unknown as Services;
}

function setup(attributes: Attribute[], result: () => unknown) {
  const calls: Record<string, unknown>[] = [];
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = () => resolve();
  });
  render(
    <ServicesContext.Provider value={services(calls, result, gate)}>
      <AttributeEditor customerId="Q3VzdG9tZXI6MQ==" attributes={attributes} />
    </ServicesContext.Provider>,
  );
  return { calls, open };
}

const value = (name: string) => document.querySelector(`[data-attribute="${name}"] button`);

describe("AttributeEditor", () => {
  it("shows an edit at once and puts the old value back when the server refuses", async () => {
    const { calls, open } = setup([{ name: "plan", value: "gold", updatedAt: at }], () => ({ error: { graphQLErrors: [{ message: "no", extensions: { code: "NOT_FOUND" } }] } }));
    fireEvent.click(screen.getByRole("button", { name: "Edit plan: gold" }));
    fireEvent.change(screen.getByRole("textbox", { name: "Value of plan" }), { target: { value: "platinum" } });
    fireEvent.submit(screen.getByRole("textbox", { name: "Value of plan" }).closest("form")!);
    expect(value("plan")?.textContent).toBe("platinum"); // before the server answers
    expect(value("plan")?.hasAttribute("data-pending")).toBe(true);
    expect(calls).toEqual([{ customerId: "Q3VzdG9tZXI6MQ==", name: "plan", value: "platinum" }]);
    open();
    await waitFor(() => expect(value("plan")?.textContent).toBe("gold"));
    expect(screen.getByRole("alert")).toBeTruthy();
  });

  it("refuses a bad name before sending anything, then adds the attribute", async () => {
    const { calls } = setup([], () => ({ data: {} }));
    fireEvent.click(screen.getByRole("button", { name: "Add attribute" }));
    fireEvent.change(screen.getByRole("textbox", { name: "Attribute name" }), { target: { value: "Plan" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Attribute value" }), { target: { value: "gold" } });
    fireEvent.submit(screen.getByRole("textbox", { name: "Attribute name" }).closest("form")!);
    expect(screen.getByRole("alert").textContent).toMatch(/lower-case letters/);
    expect(calls).toEqual([]);
    fireEvent.change(screen.getByRole("textbox", { name: "Attribute name" }), { target: { value: "plan" } });
    fireEvent.submit(screen.getByRole("textbox", { name: "Attribute name" }).closest("form")!);
    expect(value("plan")?.textContent).toBe("gold");
    expect(calls).toEqual([{ customerId: "Q3VzdG9tZXI6MQ==", name: "plan", value: "gold" }]);
  });

  it("removes at once, sending a null value", () => {
    const { calls } = setup([{ name: "city", value: "Recife", updatedAt: at }], () => ({ data: {} }));
    fireEvent.click(screen.getByRole("button", { name: "Remove city" }));
    expect(value("city")).toBeNull();
    expect(calls).toEqual([{ customerId: "Q3VzdG9tZXI6MQ==", name: "city", value: null }]);
  });
});
