import { describe, expect, it } from "vitest";
import { diffLines, fill, insertVariable, matchVariables, measure, openPlaceholder, promptsIn, requiredPrompts, slashToken, waComponents, waMissing, waPreview } from "./logic";

describe("template text", () => {
  it("finds the {{ being typed and puts the variable in its place", () => {
    const text = "Olá {{cust";
    const token = openPlaceholder(text, text.length);
    expect(token).toEqual({ start: 4, query: "cust" });
    expect(openPlaceholder("Olá {{nome}} e", 14)).toBeNull();
    expect(openPlaceholder("sem chaves", 10)).toBeNull();
    const done = insertVariable("Olá {{cust}}!", 10, token!, "customer.first_name");
    expect(done.text).toBe("Olá {{customer.first_name}}!");
    expect(done.caret).toBe("Olá {{customer.first_name}}".length);
  });

  it("proposes the prompts first, then the built-ins, prefix matches before others", () => {
    expect(matchVariables("", ["pedido"])[0]).toBe("pedido");
    const found = matchVariables("name", []);
    expect(found).toContain("customer.first_name");
    expect(found.every((v) => v.includes("name"))).toBe(true);
    expect(matchVariables("nome", [])[0]).toBe("nome");
  });

  it("tells the prompts from the built-in variables, and which a send must fill", () => {
    expect(promptsIn(["Olá {{nome}}, pedido {{pedido}} de {{ customer.name }}", "{{prazo|\"amanhã\"}}"])).toEqual(["pedido", "prazo"]);
    expect(requiredPrompts('Pedido {{pedido}} chega {{prazo | "amanhã"}}', ["pedido", "prazo"])).toEqual(["pedido"]);
  });

  it("fills placeholders with values, fallbacks, or the name in brackets", () => {
    expect(fill('Olá {{customer.first_name | "cliente"}}, pedido {{pedido}}', () => undefined)).toBe("Olá cliente, pedido [pedido]");
    expect(fill("Olá {{nome}}", (n) => (n === "nome" ? "Ana" : undefined))).toBe("Olá Ana");
  });

  it("finds a /shortcut at the start or after a space only", () => {
    expect(slashToken("/ped", 4)).toEqual({ start: 0, query: "/ped" });
    expect(slashToken("ok /Ped", 7)).toEqual({ start: 3, query: "/ped" });
    expect(slashToken("http://x", 8)).toBeNull();
    expect(slashToken("/ped ", 5)).toBeNull();
  });

  it("measures as each platform counts: Instagram in UTF-8 bytes, the others in characters", () => {
    expect(measure("ã".repeat(600), "INSTAGRAM")).toMatchObject({ size: 1200, max: 1000, unit: "bytes", over: true });
    expect(measure("ã".repeat(600), "WHATSAPP")).toMatchObject({ size: 600, over: false });
    expect(measure("x".repeat(1601), "SMS").over).toBe(true);
  });

  it("classifies a unified diff's lines", () => {
    expect(diffLines("--- version 1\n+++ version 2\n@@ -1 +1 @@\n-a\n+b\n c\n").map((l) => l.kind)).toEqual(["file", "file", "hunk", "remove", "add", "context"]);
  });
});

describe("WhatsApp template parameters", () => {
  const params = [
    { part: "header", type: "image", name: "media", optional: false },
    { part: "body", type: "text", name: "1", optional: false },
    { part: "body", type: "text", name: "2", optional: false },
    { part: "button 1", type: "payload", name: "payload", optional: true },
  ];
  it("builds Meta's components, leaving out an empty optional payload", () => {
    const values = { "header|media": "https://x/y.png", "body|1": "Ana", "body|2": "A-1" };
    expect(waMissing(params, values)).toEqual([]);
    expect(waComponents(params, values, "POSITIONAL")).toEqual([
      { type: "header", parameters: [{ type: "image", image: { link: "https://x/y.png" } }] },
      { type: "body", parameters: [{ type: "text", text: "Ana" }, { type: "text", text: "A-1" }] },
    ]);
    expect(waComponents(params, { ...values, "button 1|payload": "yes" }, "POSITIONAL")[2]).toEqual({ type: "button", index: 1, sub_type: "quick_reply", parameters: [{ type: "payload", payload: "yes" }] });
  });
  it("names the parameters of a NAMED template, and says what is missing", () => {
    const named = [{ part: "body", type: "text", name: "order_id", optional: false }];
    expect(waComponents(named, { "body|order_id": "7" }, "NAMED")).toEqual([{ type: "body", parameters: [{ type: "text", text: "7", parameter_name: "order_id" }] }]);
    expect(waMissing(named, {})).toHaveLength(1);
  });
  it("previews the body with the values typed so far", () => {
    const components = [{ type: "BODY", text: "Olá {{1}}, pedido {{2}}" }, { type: "FOOTER", text: "Acme" }];
    expect(waPreview(components, { "body|1": "Ana" })).toBe("Olá Ana, pedido [2]\n\nAcme");
  });
});
