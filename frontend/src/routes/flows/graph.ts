// A flow's definition (the API's nodes and edges) ↔ the canvas's graph (React Flow nodes and
// edges). An edge's port is its source handle, so a node draws one handle per port.
import type { Edge, Node } from "@xyflow/react";
import type { Config } from "./kinds";

export interface FlowNodeData extends Record<string, unknown> {
  kind: string;
  config: Config;
}
export type BuilderNode = Node<FlowNodeData, "flow">;
export type BuilderEdge = Edge<{ condition?: Config | null }>;
export interface Graph {
  nodes: BuilderNode[];
  edges: BuilderEdge[];
}

export interface DefinitionNode {
  id: string;
  type: string;
  position: { x: number; y: number };
  config: Config;
}
export interface DefinitionEdge {
  from: string;
  to: string;
  port: string;
  condition?: Config | null;
}
export interface Definition {
  nodes: DefinitionNode[];
  edges: DefinitionEdge[];
}

export const EMPTY_GRAPH: Graph = { nodes: [], edges: [] };

export const edgeId = (from: string, port: string, to: string) => `${from}:${port}->${to}`;

export function toGraph(definition: Definition): Graph {
  return {
    nodes: definition.nodes.map((n) => ({
      id: n.id,
      type: "flow",
      position: { x: n.position?.x ?? 0, y: n.position?.y ?? 0 },
      data: { kind: n.type, config: n.config ?? {} },
    })),
    edges: definition.edges.map((e) => {
      const port = e.port || "next";
      return {
        id: edgeId(e.from, port, e.to),
        source: e.from,
        target: e.to,
        sourceHandle: port,
        ...(e.condition ? { data: { condition: e.condition } } : {}),
      };
    }),
  };
}

export function toDefinition(graph: Graph): Definition {
  return {
    nodes: graph.nodes.map((n) => ({
      id: n.id,
      type: n.data.kind,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      config: n.data.config,
    })),
    edges: graph.edges.map((e) => ({
      from: e.source,
      to: e.target,
      port: e.sourceHandle || "next",
      ...(e.data?.condition ? { condition: e.data.condition } : {}),
    })),
  };
}

/** The same flow (what a save would send), whatever React Flow added (sizes, selection). */
export const sameFlow = (a: Graph, b: Graph) => JSON.stringify(toDefinition(a)) === JSON.stringify(toDefinition(b));

/** A fresh node id for `kind`: trigger, send_message_2, … (1 to 64 of [A-Za-z0-9_-]). */
export function newNodeId(kind: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(kind)) return kind;
  for (let n = 2; ; n += 1) if (!used.has(`${kind}_${n}`)) return `${kind}_${n}`;
}

/** The API's definition (aliased node ids, typenames) as a plain Definition. */
export function fromApi(version: {
  nodes: readonly { nodeId: string; type: string; config: Config; position: { x: number; y: number } }[];
  edges: readonly { from: string; to: string; port: string; condition?: Config | null }[];
}): Definition {
  return {
    nodes: version.nodes.map((n) => ({ id: n.nodeId, type: n.type, position: { x: n.position.x, y: n.position.y }, config: n.config })),
    edges: version.edges.map((e) => ({ from: e.from, to: e.to, port: e.port, condition: e.condition ?? null })),
  };
}

/** Edges whose port the source no longer has (a button or branch removed) or whose ends are gone. */
export function dropDanglingEdges(graph: Graph, portsOf: (node: BuilderNode) => string[]): Graph {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const edges = graph.edges.filter((e) => {
    const source = byId.get(e.source);
    return source && byId.has(e.target) && portsOf(source).includes(e.sourceHandle || "next");
  });
  return edges.length === graph.edges.length ? graph : { ...graph, edges };
}
