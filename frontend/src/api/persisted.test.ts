import { describe, expect, it } from "vitest";
import * as operations from "./operations";

// The server's allow-list (GRAPHQL_ALLOWLIST=1) admits only the documents in this manifest: an
// operation added or edited without `npm run build` would be refused in production.
const files = import.meta.glob("../../persisted-operations.json", { eager: true, import: "default" });
// Each screen's documents (src/api/ops/<screen>.ts) are registered too.
const screens = import.meta.glob<Record<string, string>>(["./ops/*.ts", "!./ops/*.test.ts"], { eager: true });

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("persisted-operations.json", () => {
  it("registers every document the app sends, by the sha256 of its exact text", async () => {
    const manifest = Object.values(files)[0];
    const all = [operations, ...Object.values(screens)].flatMap((module) => Object.entries(module));
    const documents = all.filter(([, text]) => typeof text === "string" && /^\s*(query|mutation|subscription)\b/.test(text));
    expect(documents.length).toBeGreaterThan(10);
    const expected: Record<string, { name: string; query: string }> = {};
    for (const [name, query] of documents) expected[await sha256(query)] = { name, query };
    expect(manifest).toEqual(expected);
  });
});

// The app's own source (screens, components, hooks, state), without the documents' files and tests.
const sources = import.meta.glob<string>(
  ["../**/*.ts", "../**/*.tsx", "!../**/*.test.ts", "!../**/*.test.tsx", "!./ops/*.ts", "!./operations.ts", "!./*.generated.ts"],
  { eager: true, query: "?raw", import: "default" },
);

describe("the allow-list", () => {
  it("holds only documents the app itself sends: none kept for tests (e2e sends the app's, or drives the UI)", () => {
    const all = [operations, ...Object.values(screens)].flatMap((module) => Object.entries(module));
    const names = all.filter(([, text]) => typeof text === "string" && /^\s*(query|mutation|subscription)\b/.test(text)).map(([name]) => name);
    const code = Object.values(sources).join("\n");
    expect(Object.keys(sources).length).toBeGreaterThan(50);
    const unused = names.filter((name) => !new RegExp(`\\b${name}\\b`).test(code));
    expect(unused).toEqual([]);
  });
});
