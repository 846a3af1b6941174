import { describe, expect, it } from "vitest";
import { connect } from "./Canvas";
import { dropDanglingEdges, fromApi, newNodeId, sameFlow, toDefinition, toGraph, type Definition } from "./graph";
import { portsOf } from "./kinds";

const definition: Definition = {
  nodes: [
    { id: "trigger", type: "trigger", position: { x: 0, y: 0 }, config: { keywords: ["pedido"] } },
    { id: "menu", type: "buttons", position: { x: 10.4, y: 120 }, config: { text: "Pick", buttons: [{ id: "yes", title: "Yes" }, { id: "no", title: "No" }] } },
    { id: "end", type: "end", position: { x: 0, y: 300 }, config: {} },
  ],
  edges: [
    { from: "trigger", to: "menu", port: "next" },
    { from: "menu", to: "end", port: "yes", condition: { label: "vip" } },
    { from: "menu", to: "end", port: "no" },
  ],
};

describe("graph ↔ definition", () => {
  it("round-trips a definition: ports become source handles, conditions kept", () => {
    const graph = toGraph(definition);
    expect(graph.nodes[1]).toMatchObject({ id: "menu", type: "flow", data: { kind: "buttons" } });
    expect(graph.edges.map((e) => e.sourceHandle)).toEqual(["next", "yes", "no"]);
    const back = toDefinition(graph);
    expect(back.nodes[1].position).toEqual({ x: 10, y: 120 }); // rounded
    expect(back.edges).toEqual([
      { from: "trigger", to: "menu", port: "next" },
      { from: "menu", to: "end", port: "yes", condition: { label: "vip" } },
      { from: "menu", to: "end", port: "no" },
    ]);
  });

  it("ignores what React Flow adds (sizes, selection) when comparing", () => {
    const graph = toGraph(definition);
    const measured = { ...graph, nodes: graph.nodes.map((n) => ({ ...n, measured: { width: 240, height: 90 }, selected: true })) };
    expect(sameFlow(graph, measured)).toBe(true);
    const moved = { ...graph, nodes: graph.nodes.map((n, i) => (i === 0 ? { ...n, position: { x: 50, y: 0 } } : n)) };
    expect(sameFlow(graph, moved)).toBe(false);
  });

  it("reads the API's aliased node ids", () => {
    const api = { nodes: [{ nodeId: "trigger", type: "trigger", config: { keywords: ["oi"] }, position: { x: 1, y: 2 } }], edges: [] };
    expect(fromApi(api)).toEqual({ nodes: [{ id: "trigger", type: "trigger", position: { x: 1, y: 2 }, config: { keywords: ["oi"] } }], edges: [] });
  });

  it("names new nodes after their type, never twice", () => {
    expect(newNodeId("trigger", [])).toBe("trigger");
    expect(newNodeId("send_message", ["send_message", "send_message_2"])).toBe("send_message_3");
  });

  it("a new edge out of a port replaces the port's plain edge, never into the trigger", () => {
    const graph = toGraph(definition);
    const rewired = connect(graph, { source: "menu", target: "menu", sourceHandle: "no" });
    expect(rewired).toBe(graph); // no self loop
    const again = connect(graph, { source: "trigger", target: "end", sourceHandle: "next" });
    expect(toDefinition(again).edges.filter((e) => e.from === "trigger")).toEqual([{ from: "trigger", to: "end", port: "next" }]);
    expect(connect(graph, { source: "end", target: "trigger" })).toBe(graph);
  });

  it("drops edges out of a port the node no longer has", () => {
    const graph = toGraph(definition);
    const nodes = graph.nodes.map((n) => (n.id === "menu" ? { ...n, data: { ...n.data, config: { text: "Pick", buttons: [{ id: "yes", title: "Yes" }] } } } : n));
    const pruned = dropDanglingEdges({ ...graph, nodes }, (n) => portsOf(n.data.kind, n.data.config));
    expect(pruned.edges.map((e) => e.sourceHandle)).toEqual(["next", "yes"]);
  });
});
