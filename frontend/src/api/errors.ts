// An error, whatever raised it (urql's CombinedError, the session's GraphQLRequestError, a failed
// fetch), as its extensions.code and a message a person can act on: never a raw stack.
import type { TFunction } from "i18next";

export interface Explained { code: string; message: string; detail: string | null }

export function errorCode(error: unknown): string {
  if (!error || typeof error !== "object") return "INTERNAL";
  const e = error as {
    code?: unknown;
    graphQLErrors?: { extensions?: { code?: unknown } }[];
    networkError?: unknown;
    name?: string;
  };
  const fromGraphQL = e.graphQLErrors?.find((g) => typeof g.extensions?.code === "string")?.extensions?.code;
  if (typeof fromGraphQL === "string") return fromGraphQL;
  if (typeof e.code === "string" && e.code) return e.code;
  if (e.networkError || e.name === "TypeError") return "NETWORK";
  return "INTERNAL";
}

export function explain(error: unknown, t: TFunction): Explained {
  const code = errorCode(error);
  const known = t(`errors.code.${code}`, { defaultValue: "" });
  const raw = error && typeof error === "object" && "graphQLErrors" in error
    ? ((error as { graphQLErrors: { message: string }[] }).graphQLErrors[0]?.message ?? null)
    : error instanceof Error ? error.message : null;
  return { code, message: known || raw || t("errors.title"), detail: known && raw && raw !== known ? raw : null };
}
