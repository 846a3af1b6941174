import { describe, expect, it } from "vitest";
import { templateSchema, toForm, toInput } from "./schema";

const valid = { ...toForm(null), name: "Entrega", shortcut: "/entrega", category: "pedidos", tags: "Pedido, entrega", body: "Pedido {{pedido}} saiu, {{nome}}." };

describe("the template form", () => {
  it("accepts what saveTemplate accepts and refuses what it refuses", () => {
    expect(templateSchema.safeParse(valid).success).toBe(true);
    const bad = (over: Partial<typeof valid>) => templateSchema.safeParse({ ...valid, ...over }).error?.issues[0]?.message;
    expect(bad({ shortcut: "entrega" })).toBe("templates.v.shortcut");
    expect(bad({ category: "Pedidos!" })).toBe("templates.v.category");
    expect(bad({ body: "   " })).toBe("templates.v.body");
    expect(bad({ body: "Olá {{Cliente}}" })).toBe("templates.v.promptName|Cliente");
    expect(bad({ variants: [{ platform: "SMS", body: "x".repeat(1601), subject: "" }] })).toBe("templates.v.variantLong");
    expect(bad({ variants: [{ platform: "SMS", body: "", subject: "" }] })).toBe("templates.v.variantEmpty");
  });

  it("saves the prompts the texts use with their labels, and keeps what the form does not edit", () => {
    const current = { __typename: "TemplateContent" as const, name: "x", shortcut: null, category: null, tags: [], teamIds: ["7"], locale: "pt_BR", timeZone: "America/Sao_Paulo", body: "", prompts: [],
      buttons: [{ __typename: "TemplateButton" as const, id: "b", title: "Ok", url: null }], variants: [] };
    const input = toInput({ ...valid, prompts: { pedido: "Número do pedido" }, variants: [{ platform: "SMS", body: "Pedido {{pedido}} {{prazo}}", subject: "" }] }, "9", current);
    expect(input).toMatchObject({ id: "9", shortcut: "/entrega", category: "pedidos", tags: ["pedido", "entrega"], teamIds: ["7"], locale: "pt_BR", buttons: [{ id: "b", title: "Ok", url: null }] });
    expect(input.prompts).toEqual([{ name: "pedido", label: "Número do pedido" }, { name: "prazo", label: null }]);
    expect(input.variants).toEqual([{ platform: "SMS", body: "Pedido {{pedido}} {{prazo}}", subject: null, buttons: null }]);
  });
});
