// The exact text of every registered document, found from whatever form a client library prints
// it in (urql collapses whitespace): the server's allow-list admits only the registered text.
import { parse, print } from "@0no-co/graphql.web";
import * as operations from "./operations";

const normal = (text: string) => print(parse(text));
// Each screen's documents (src/api/ops/*.ts): a few kilobytes of text, so all are known up front.
const screens = import.meta.glob<Record<string, unknown>>("./ops/*.ts", { eager: true });

export const documents: Record<string, string> = Object.fromEntries(
  [operations as Record<string, unknown>, ...Object.values(screens)]
    .flatMap((module) => Object.entries(module))
    .filter((entry): entry is [string, string] => typeof entry[1] === "string" && /^\s*(query|mutation|subscription)\b/.test(entry[1])),
);

/** Sent by the session itself (src/api/session.ts), never through the cache. */
export const SESSION_DOCUMENTS = new Set([operations.LOGIN, operations.REFRESH, operations.LOGOUT, operations.ME]);

const byShape = new Map<string, string>(Object.values(documents).map((text) => [normal(text), text]));

export class UnregisteredDocumentError extends Error {}

/** The registered text of a document; throws for one the build did not register. */
export function registered(text: string): string {
  const found = byShape.get(normal(text));
  if (!found) throw new UnregisteredDocumentError(`not a registered operation: ${text.slice(0, 80)}`);
  return found;
}
