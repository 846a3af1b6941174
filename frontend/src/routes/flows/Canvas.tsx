// The canvas: React Flow over the graph the history holds. Node types are dropped from the
// palette, edges drawn from a port's handle to a node; moves are one undo step from where the drag
// began, React Flow's measuring is never one.
import {
  Background, Controls, MarkerType, ReactFlow, applyEdgeChanges, applyNodeChanges, useReactFlow,
  type Connection, type EdgeChange, type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useMemo, type DragEvent } from "react";
import { useTranslation } from "react-i18next";
import { type BuilderEdge, type BuilderNode, type Graph, edgeId, newNodeId } from "./graph";
import type { HistoryAction } from "./history";
import { defaultConfig, isKnownKind } from "./kinds";
import { FlowNodeCard } from "./FlowNodeCard";

export const DRAG_TYPE = "application/x-pytake-node";
const NODE_TYPES = { flow: FlowNodeCard };

export function addNode(graph: Graph, kind: string, position: { x: number; y: number }): { graph: Graph; id: string } {
  if (!isKnownKind(kind)) return { graph, id: "" };
  const id = newNodeId(kind, graph.nodes.map((n) => n.id));
  const node: BuilderNode = { id, type: "flow", position, data: { kind, config: defaultConfig(kind) } };
  return { graph: { ...graph, nodes: [...graph.nodes, node] }, id };
}

/** An edge out of `port`: it replaces the port's plain edge (two would be refused: which one?). */
export function connect(graph: Graph, c: { source: string; target: string; sourceHandle?: string | null }): Graph {
  const port = c.sourceHandle || "next";
  if (c.source === c.target) return graph;
  const target = graph.nodes.find((n) => n.id === c.target);
  if (!target || target.data.kind === "trigger") return graph;
  const kept = graph.edges.filter((e) => !(e.source === c.source && (e.sourceHandle || "next") === port && !e.data?.condition));
  const edge: BuilderEdge = { id: edgeId(c.source, port, c.target), source: c.source, target: c.target, sourceHandle: port };
  return { ...graph, edges: [...kept, edge] };
}

export function Canvas({
  graph, dispatch, selectedId, onSelect, decorate, fit,
}: {
  /** Fit the view to the nodes once, when the editor opens a saved flow (an empty one keeps 1:1). */
  fit: boolean;
  graph: Graph;
  dispatch: (action: HistoryAction) => void;
  selectedId: string | null;
  onSelect: (id: string | null) => void;
  decorate: (id: string) => { problems?: string[]; active?: boolean };
}) {
  const { t } = useTranslation();
  const flow = useReactFlow();

  const nodes = useMemo(
    () => graph.nodes.map((n) => ({ ...n, selected: n.id === selectedId, data: { ...n.data, ...decorate(n.id) } })),
    [graph.nodes, selectedId, decorate],
  );

  const edges = useMemo(
    () => graph.edges.map((e) => ({ ...e, type: "smoothstep", markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 }, ...(e.data?.condition ? { label: "if …" } : {}) })),
    [graph.edges],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<BuilderNode>[]) => {
      const selection = changes.find((c) => c.type === "select" && c.selected);
      if (selection && selection.type === "select") onSelect(selection.id);
      const relevant = changes.filter((c) => c.type !== "select");
      if (!relevant.length) return;
      // undecorated nodes: problems and highlights are views, not the flow
      const next = { ...graph, nodes: applyNodeChanges(relevant, graph.nodes) };
      if (relevant.some((c) => c.type === "remove" || c.type === "add")) {
        const removed = new Set(relevant.flatMap((c) => (c.type === "remove" ? [c.id] : [])));
        if (selectedId && removed.has(selectedId)) onSelect(null);
        dispatch({ type: "change", graph: { ...next, edges: next.edges.filter((e) => !removed.has(e.source) && !removed.has(e.target)) } });
      } else if (relevant.some((c) => c.type === "position" && c.dragging)) {
        dispatch({ type: "change", graph: next, mode: "transient" });
      } else if (relevant.some((c) => c.type === "position")) {
        dispatch({ type: "change", graph: next, mode: "transient" });
        dispatch({ type: "commit" });
      } else {
        dispatch({ type: "change", graph: next, mode: "silent" });
      }
    },
    [graph, dispatch, onSelect, selectedId],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<BuilderEdge>[]) => {
      const edges = applyEdgeChanges(changes, graph.edges);
      const mode = changes.some((c) => c.type === "remove") ? "record" : "silent";
      dispatch({ type: "change", graph: { ...graph, edges }, mode });
    },
    [graph, dispatch],
  );

  const onConnect = useCallback((c: Connection) => dispatch({ type: "change", graph: connect(graph, c) }), [graph, dispatch]);

  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      const kind = event.dataTransfer.getData(DRAG_TYPE);
      if (!kind) return;
      const position = flow.screenToFlowPosition({ x: event.clientX - 120, y: event.clientY - 30 });
      const added = addNode(graph, kind, position);
      if (!added.id) return;
      dispatch({ type: "change", graph: added.graph });
      onSelect(added.id);
    },
    [flow, graph, dispatch, onSelect],
  );

  return (
    <div className="relative size-full" onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = "move"; }} onDrop={onDrop} data-flow-canvas>
      <ReactFlow<BuilderNode, BuilderEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onPaneClick={() => onSelect(null)}
        isValidConnection={(c) => c.source !== c.target && graph.nodes.find((n) => n.id === c.target)?.data.kind !== "trigger"}
        deleteKeyCode={["Backspace", "Delete"]}
        fitView={fit}
        fitViewOptions={{ maxZoom: 1, padding: 0.3 }}
        minZoom={0.3}
        proOptions={{ hideAttribution: true }}
        aria-label={t("flows.editor.canvas")}
      >
        <Background gap={20} size={1.2} />
        <Controls showInteractive={false} position="bottom-left" />
      </ReactFlow>
      {graph.nodes.length === 0 && (
        <div className="pointer-events-none absolute inset-0 flex items-center justify-center">
          <div className="rounded-xl border border-dashed border-border bg-background/80 px-6 py-5 text-center shadow-sm">
            <p className="font-medium">{t("flows.editor.emptyTitle")}</p>
            <p className="mt-1 max-w-xs text-sm text-muted-foreground">{t("flows.editor.emptyText")}</p>
          </div>
        </div>
      )}
    </div>
  );
}

