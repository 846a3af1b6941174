// @vitest-environment jsdom
import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { around, Highlight, splitMatches } from "./highlight";

describe("search highlights", () => {
  it("marks words by prefix and stem, without accents or case", () => {
    expect(splitMatches("O pedido chegou QUEBRADO, é reembolso?", "quebrados reembôlso")).toEqual([
      ["O pedido chegou ", false], ["QUEBRADO", true], [", é ", false], ["reembolso", true], ["?", false],
    ]);
    expect(splitMatches("nothing here", "x")).toEqual([["nothing here", false]]); // one letter: not searched
  });
  it("renders <mark> around matches and centres long text on the first one", () => {
    const { container } = render(<Highlight text="Meu boleto venceu" query="boletos" />);
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["boleto"]);
    const long = `${"palavra ".repeat(30)}encontrada ${"fim ".repeat(30)}`;
    const snippet = around(long, "encontrada");
    expect(snippet.startsWith("…")).toBe(true);
    expect(snippet).toContain("encontrada");
  });
});
