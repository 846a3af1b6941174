import { formatDocument, stringifyDocument } from "@urql/core";
import { parse, print } from "@0no-co/graphql.web";
import { describe, expect, it } from "vitest";
import { sessionFetch } from "./client";
import { INBOX, SEND } from "./operations";
import { documents, registered, SESSION_DOCUMENTS, UnregisteredDocumentError } from "./registry";
import { Session, type Storage } from "./session";

class MemoryStorage implements Storage {
  data = new Map<string, string>();
  getItem(k: string) { return this.data.get(k) ?? null; }
  setItem(k: string, v: string) { this.data.set(k, v); }
  removeItem(k: string) { this.data.delete(k); }
}

describe("registered documents", () => {
  it("are what the normalised cache sends: it adds no __typename to any of them", () => {
    for (const [name, text] of Object.entries(documents)) {
      if (SESSION_DOCUMENTS.has(text)) continue; // sent as they are, not through urql
      const formatted = formatDocument(parse(text));
      expect(print(formatted), name).toBe(print(parse(text)));
      expect(registered(stringifyDocument(formatted))).toBe(text); // urql's printed form maps back
    }
  });
  it("refuses a document the build did not register", () => {
    expect(() => registered("query { me { id } }")).toThrow(UnregisteredDocumentError);
  });
});

describe("sessionFetch", () => {
  it("sends the registered text with the access token, refreshing once on UNAUTHENTICATED", async () => {
    const sent: { query: string; auth: string | null }[] = [];
    let token = "a1";
    const fetcher = async (_url: RequestInfo | URL, init?: RequestInit) => {
      const body = JSON.parse(String(init?.body));
      const auth = new Headers(init?.headers).get("Authorization");
      sent.push({ query: body.query, auth });
      if (body.query.includes("refreshToken(")) {
        token = "a2";
        return Response.json({ data: { refreshToken: { accessToken: "a2", refreshToken: "r2", expiresIn: 900, user: { id: "u", name: "U" } } } });
      }
      if (auth !== `Bearer ${token}` || token === "a1") return Response.json({ errors: [{ message: "expired", extensions: { code: "UNAUTHENTICATED" } }] });
      return Response.json({ data: { conversations: { edges: [] } } });
    };
    const storage = new MemoryStorage();
    storage.setItem("pytake.session", JSON.stringify({ accessToken: "a1", refreshToken: "r1", expiresAt: Date.now() + 600_000, user: { id: "u", name: "U" } }));
    const session = new Session(fetcher as never, storage);
    const doFetch = sessionFetch(session, fetcher as typeof fetch);
    const printed = stringifyDocument(formatDocument(parse(INBOX)));
    const response = await doFetch("/graphql", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ query: printed, variables: {} }) });
    expect(await response.json()).toEqual({ data: { conversations: { edges: [] } } });
    const graphql = sent.filter((s) => !s.query.includes("refreshToken("));
    expect(graphql.map((s) => s.auth)).toEqual(["Bearer a1", "Bearer a2"]);
    expect(graphql.every((s) => s.query === INBOX)).toBe(true);
    expect(session.current?.refreshToken).toBe("r2");
  });
  it("never sends an unregistered document", async () => {
    const session = new Session((async () => Response.json({})) as never, new MemoryStorage());
    await expect(sessionFetch(session, (async () => Response.json({})) as never)("/graphql", { body: JSON.stringify({ query: "{ me { id } }" }) })).rejects.toThrow(UnregisteredDocumentError);
    expect(SEND).toContain("sendMessage");
  });
});
