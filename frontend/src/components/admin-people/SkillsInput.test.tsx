// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { SkillsInput } from "./SkillsInput";

afterEach(cleanup);

function Harness({ initial, known }: { initial: string[]; known: string[] }) {
  const [value, setValue] = useState(initial);
  return (
    <>
      <SkillsInput value={value} onChange={setValue} known={known} />
      <output data-testid="value">{value.join(",")}</output>
    </>
  );
}

const value = () => screen.getByTestId("value").textContent;

describe("SkillsInput", () => {
  it("adds a typed skill with Enter or comma, lower case, and removes the last with Backspace", () => {
    render(<Harness initial={["pt"]} known={[]} />);
    const input = screen.getByRole("combobox");
    fireEvent.change(input, { target: { value: "Billing" } });
    fireEvent.keyDown(input, { key: "Enter" });
    expect(value()).toBe("pt,billing");
    fireEvent.change(input, { target: { value: "en" } });
    fireEvent.keyDown(input, { key: "," });
    expect(value()).toBe("pt,billing,en");
    fireEvent.keyDown(input, { key: "Backspace" });
    expect(value()).toBe("pt,billing");
  });

  it("completes from known skills with the arrow keys and removes a chip by its button", () => {
    render(<Harness initial={["pt"]} known={["billing", "refunds", "pt"]} />);
    const input = screen.getByRole("combobox");
    fireEvent.focus(input);
    fireEvent.change(input, { target: { value: "r" } });
    const options = screen.getAllByRole("option").map((o) => o.textContent);
    expect(options).toEqual(["refunds", "Add “r”"]);
    fireEvent.keyDown(input, { key: "Enter" });
    expect(value()).toBe("pt,refunds");
    fireEvent.click(screen.getByRole("button", { name: "Remove pt" }));
    expect(value()).toBe("refunds");
  });
});
