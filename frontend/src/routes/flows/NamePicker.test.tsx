// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { NamePicker } from "./NamePicker";
import { filterItems, shownAs, type PickItem } from "./pickers";

afterEach(cleanup);

const TEAMS: PickItem[] = [
  { id: "VGVhbTox", name: "Suporte Técnico" },
  { id: "VGVhbToy", name: "Vendas" },
  { id: "VGVhbToz", name: "Pós-venda", hint: "after sales" },
];

function Harness({ initial, loaded = true }: { initial: string; loaded?: boolean }) {
  const [value, setValue] = useState(initial);
  return (
    <>
      <label htmlFor="team">Team</label>
      <NamePicker id="team" value={value} onChange={setValue} items={TEAMS} loaded={loaded} />
      <output data-testid="value">{value}</output>
    </>
  );
}

describe("the name pickers' rules", () => {
  it("finds by any word of the name or hint, accents and case folded, prefix matches first", () => {
    expect(filterItems(TEAMS, "").map((i) => i.name)).toEqual(["Suporte Técnico", "Vendas", "Pós-venda"]);
    expect(filterItems(TEAMS, "tecnico").map((i) => i.name)).toEqual(["Suporte Técnico"]);
    expect(filterItems(TEAMS, "VEND").map((i) => i.name)).toEqual(["Vendas", "Pós-venda"]);
    expect(filterItems(TEAMS, "pos venda").map((i) => i.name)).toEqual(["Pós-venda"]);
    expect(filterItems(TEAMS, "after").map((i) => i.id)).toEqual(["VGVhbToz"]);
    expect(filterItems(TEAMS, "marketing")).toEqual([]);
  });

  it("shows a stored id by its name, as deleted once the names are in and it is not among them", () => {
    expect(shownAs("", TEAMS, true)).toEqual({ kind: "empty" });
    expect(shownAs("VGVhbToy", TEAMS, true)).toEqual({ kind: "named", name: "Vendas" });
    expect(shownAs("VGVhbTo5", TEAMS, false)).toEqual({ kind: "loading", id: "VGVhbTo5" });
    expect(shownAs("VGVhbTo5", TEAMS, true)).toEqual({ kind: "deleted", id: "VGVhbTo5" });
  });
});

describe("NamePicker", () => {
  it("shows the name, searches as one types and stores the picked item's id (keyboard)", () => {
    render(<Harness initial="VGVhbTox" />);
    const input = screen.getByRole("combobox", { name: "Team" }) as HTMLInputElement;
    expect(input.value).toBe("Suporte Técnico");
    fireEvent.focus(input);
    fireEvent.change(input, { target: { value: "vend" } });
    expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual(["Vendas", "Pós-vendaafter sales"]);
    fireEvent.keyDown(input, { key: "ArrowDown" });
    fireEvent.keyDown(input, { key: "Enter" });
    expect(screen.getByTestId("value").textContent).toBe("VGVhbToz");
    expect(input.value).toBe("Pós-venda");
    expect(screen.queryByRole("listbox")).toBeNull();
  });

  it("picks with a click, and says when nothing matches", () => {
    render(<Harness initial="" />);
    const input = screen.getByRole("combobox", { name: "Team" }) as HTMLInputElement;
    expect(input.value).toBe("");
    fireEvent.focus(input);
    fireEvent.change(input, { target: { value: "xyz" } });
    expect(screen.getByText("Nothing matches").getAttribute("role")).toBe("status");
    fireEvent.change(input, { target: { value: "vendas" } });
    fireEvent.mouseDown(screen.getByRole("option", { name: "Vendas" }));
    expect(screen.getByTestId("value").textContent).toBe("VGVhbToy");
  });

  it("reads 'deleted (id)' for an id that names no team any more, the id itself while loading", () => {
    const { unmount } = render(<Harness initial="VGVhbTo5" loaded={false} />);
    expect((screen.getByRole("combobox") as HTMLInputElement).value).toBe("VGVhbTo5");
    unmount();
    render(<Harness initial="VGVhbTo5" />);
    const input = screen.getByRole("combobox", { name: "Team" }) as HTMLInputElement;
    expect(input.value).toBe("deleted (VGVhbTo5)");
    // leaving without picking keeps what was stored
    fireEvent.focus(input);
    fireEvent.change(input, { target: { value: "ven" } });
    fireEvent.blur(input);
    expect(screen.getByTestId("value").textContent).toBe("VGVhbTo5");
    expect(input.value).toBe("deleted (VGVhbTo5)");
  });
});
