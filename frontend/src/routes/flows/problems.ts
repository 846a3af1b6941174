// The server's refusal of a save (BAD_USER_INPUT with extensions.problems, each naming its node
// and carrying a stable code) as problems per node, and what stays for the flow as a whole. Each
// is shown in the reader's language by its code (flows.serverProblem.<CODE>, filled in with its
// params); a code the builder does not know yet shows the server's English message.
import type { TFunction } from "i18next";

export interface ServerProblem {
  node: string | null;
  code: string | null;
  message: string;
  params: Record<string, unknown>;
}
export interface ServerProblems {
  byNode: Record<string, ServerProblem[]>;
  general: ServerProblem[];
}
export const NO_PROBLEMS: ServerProblems = { byNode: {}, general: [] };

interface GraphQLErrorLike {
  message?: string;
  extensions?: { code?: unknown; node?: unknown; problems?: unknown };
}
type Listed = { node?: unknown; code?: unknown; message?: unknown; params?: unknown };

export function serverProblems(error: unknown, nodeIds: readonly string[]): ServerProblems | null {
  const errors = (error as { graphQLErrors?: GraphQLErrorLike[] } | null)?.graphQLErrors ?? [];
  const bad = errors.find((e) => e.extensions?.code === "BAD_USER_INPUT");
  if (!bad) return null;
  const known = new Set(nodeIds);
  const listed: Listed[] = Array.isArray(bad.extensions?.problems)
    ? (bad.extensions.problems as Listed[])
    : [{ node: bad.extensions?.node, message: bad.message }];
  const result: ServerProblems = { byNode: {}, general: [] };
  for (const p of listed) {
    const params = p.params && typeof p.params === "object" && !Array.isArray(p.params) ? (p.params as Record<string, unknown>) : {};
    const problem: ServerProblem = {
      node: typeof p.node === "string" ? p.node : null,
      code: typeof p.code === "string" && p.code ? p.code : null,
      message: String(p.message ?? ""),
      params,
    };
    if (problem.node && known.has(problem.node)) (result.byNode[problem.node] ??= []).push(problem);
    else result.general.push(problem);
  }
  return result;
}

const UNKNOWN_CODE = "\u2063unknown code\u2063";

/** One problem in the reader's language; the server's message when its code has no translation. */
export function problemText(problem: ServerProblem, t: TFunction): string {
  if (!problem.code) return problem.message;
  const replace = Object.fromEntries(Object.entries(problem.params).map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)]));
  // not the message as defaultValue: i18next would fill in a {{ placeholder }} the server quoted
  const text = t(`flows.serverProblem.${problem.code}`, { replace, defaultValue: UNKNOWN_CODE });
  return text === UNKNOWN_CODE ? problem.message : text;
}

/** A problem of the flow as a whole (or of a node the canvas does not have), with its node. */
export function generalText(problem: ServerProblem, t: TFunction): string {
  const text = problemText(problem, t);
  return problem.node ? `${problem.node}: ${text}` : text;
}

/** What the builder itself can tell about the whole graph before asking the server. */
export function graphProblems(kinds: readonly string[]): string[] {
  const triggers = kinds.filter((k) => k === "trigger").length;
  if (triggers === 0) return ["noTrigger"];
  if (triggers > 1) return ["twoTriggers"];
  return [];
}
