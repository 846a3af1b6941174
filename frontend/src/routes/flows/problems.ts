// The server's refusal of a save (BAD_USER_INPUT with extensions.problems, each naming its node)
// as problems per node, and what stays for the flow as a whole.
export interface ServerProblems {
  byNode: Record<string, string[]>;
  general: string[];
}
export const NO_PROBLEMS: ServerProblems = { byNode: {}, general: [] };

interface GraphQLErrorLike {
  message?: string;
  extensions?: { code?: unknown; node?: unknown; problems?: unknown };
}

export function serverProblems(error: unknown, nodeIds: readonly string[]): ServerProblems | null {
  const errors = (error as { graphQLErrors?: GraphQLErrorLike[] } | null)?.graphQLErrors ?? [];
  const bad = errors.find((e) => e.extensions?.code === "BAD_USER_INPUT");
  if (!bad) return null;
  const known = new Set(nodeIds);
  const listed = Array.isArray(bad.extensions?.problems)
    ? (bad.extensions.problems as { node?: unknown; message?: unknown }[])
    : [{ node: bad.extensions?.node, message: bad.message }];
  const result: ServerProblems = { byNode: {}, general: [] };
  for (const p of listed) {
    const message = String(p.message ?? "");
    const node = typeof p.node === "string" ? p.node : null;
    if (node && known.has(node)) (result.byNode[node] ??= []).push(message);
    else result.general.push(node ? `${node}: ${message}` : message);
  }
  return result;
}

/** What the builder itself can tell about the whole graph before asking the server. */
export function graphProblems(kinds: readonly string[]): string[] {
  const triggers = kinds.filter((k) => k === "trigger").length;
  if (triggers === 0) return ["noTrigger"];
  if (triggers > 1) return ["twoTriggers"];
  return [];
}
