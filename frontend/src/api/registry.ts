// The exact text of every registered document, found from whatever form a client library prints
// it in (urql collapses whitespace): the server's allow-list admits only the registered text.
import { parse, print } from "@0no-co/graphql.web";
import * as operations from "./operations";

const normal = (text: string) => print(parse(text));

export const documents: Record<string, string> = Object.fromEntries(
  Object.entries(operations).filter(([, text]) => /^\s*(query|mutation|subscription)\b/.test(text)),
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
