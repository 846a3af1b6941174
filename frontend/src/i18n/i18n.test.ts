import { describe, expect, it } from "vitest";
import i18n, { en, pickLanguage, ptBR, switchLanguage } from "./index";

function keys(o: object, prefix = ""): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === "object" ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe("i18n", () => {
  it("has every English string in Brazilian Portuguese, with the same placeholders", () => {
    expect(keys(ptBR).sort()).toEqual(keys(en).sort());
    const get = (o: object, path: string) => path.split(".").reduce((v: unknown, k) => (v as Record<string, unknown>)[k], o) as string;
    for (const key of keys(en)) {
      const vars = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
      expect(vars(get(ptBR, key)), key).toEqual(vars(get(en, key)));
    }
  });
  it("picks the language from the browser's list", () => {
    expect(pickLanguage(["pt-BR", "en"])).toBe("pt-BR");
    expect(pickLanguage(["pt-PT"])).toBe("pt-BR");
    expect(pickLanguage(["de-DE", "en-GB", "pt-BR"])).toBe("en");
    expect(pickLanguage(["fr"])).toBe("en");
  });
  it("switches and translates plurals", async () => {
    await switchLanguage("pt-BR");
    expect(i18n.t("inbox.count", { count: 2 })).toBe("2 conversas");
    await switchLanguage("en");
    expect(i18n.t("inbox.count", { count: 1 })).toBe("1 conversation");
  });
});
