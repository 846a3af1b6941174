// The editor of one flow (or a new one): palette, canvas and a side panel (the selected node's
// settings, the simulator, versions, runs). Every change is an undo step; the draft is saved as a
// new version a moment after the last change, once it holds no problem the builder can see.
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { AlertTriangle, ArrowLeft, Check, CloudOff, Loader2, MousePointerClick, Redo2, Undo2 } from "lucide-react";
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useMutation, useQuery } from "urql";
import type { FlowNodeTypesQuery } from "@/api/graphql.generated";
import { FLOW_NODE_TYPES, SAVE_FLOW } from "@/api/ops/flows";
import { explain } from "@/api/errors";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Tooltip } from "@/components/ui/tooltip";
import { Kbd } from "@/components/ui/misc";
import { PageSpinner } from "@/components/PageSpinner";
import { cn } from "@/lib/utils";
import { addNode, Canvas, connect } from "./Canvas";
import { Connections } from "./Connections";
import { dropDanglingEdges, EMPTY_GRAPH, toDefinition, type Graph } from "./graph";
import { historyReducer, initialHistory } from "./history";
import { configProblems, portsOf, type Config } from "./kinds";
import { NodeForm } from "./NodeForm";
import { Palette } from "./Palette";
import { setModuleKinds } from "./moduleKinds";
import { generalText, graphProblems, NO_PROBLEMS, problemText, serverProblems, type ServerProblems } from "./problems";
import { PublishControls } from "./PublishControls";
import { RunsPanel } from "./RunsPanel";
import { SimulatorPanel } from "./SimulatorPanel";
import { VersionsPanel } from "./VersionsPanel";

export interface FlowMeta {
  id: string;
  name: string;
  version: number;
  publishedVersion: number | null;
}

/** The flow this editor has just created: its route keeps the editor instead of loading it. */
export const adopted: { id: string | null } = { id: null };

type SaveStatus = "idle" | "pending" | "saving" | "saved" | "invalid" | "rejected" | "error";

const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));

export function FlowEditor(props: { flow: FlowMeta | null; graph: Graph }) {
  // the node types the enabled modules add, known before the first block is drawn (without them a
  // flow holding one would look broken); if they cannot be read, the built-in types still work
  const [{ data, error, fetching }] = useQuery<FlowNodeTypesQuery>({ query: FLOW_NODE_TYPES, requestPolicy: "cache-and-network" });
  const kinds = data?.flowNodeTypes;
  const ready = useMemo(() => {
    if (kinds) setModuleKinds(kinds);
    return Boolean(kinds) || Boolean(error) || !fetching;
  }, [kinds, error, fetching]);
  if (!ready) return <PageSpinner />;
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}

function Editor({ flow: initialFlow, graph: initialGraph }: { flow: FlowMeta | null; graph: Graph }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const reactFlow = useReactFlow();
  const [flow, setFlow] = useState<FlowMeta | null>(initialFlow);
  const [name, setName] = useState(initialFlow?.name ?? t("flows.editor.untitled"));
  const [history, dispatch] = useReducer(historyReducer, initialGraph ?? EMPTY_GRAPH, initialHistory);
  const graph = history.present;
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [activeNode, setActiveNode] = useState<string | null>(null);
  const [tab, setTab] = useState("node");
  const [fit] = useState(() => initialGraph.nodes.length > 0);
  const [server, setServer] = useState<ServerProblems>(NO_PROBLEMS);
  const [status, setStatus] = useState<SaveStatus>(initialFlow ? "saved" : "idle");
  const [saveError, setSaveError] = useState<unknown>(null);
  const [, saveFlow] = useMutation(SAVE_FLOW);

  const live = useRef({ graph, name, flow });
  live.current = { graph, name, flow };
  const saved = useRef({ definition: initialFlow ? JSON.stringify(toDefinition(initialGraph)) : "", name: initialFlow?.name ?? "" });
  const chain = useRef<Promise<unknown>>(Promise.resolve());

  const clientProblems = useMemo(() => {
    const found: Record<string, string[]> = {};
    for (const n of graph.nodes) {
      const problems = configProblems(n.data.kind, n.data.config);
      if (problems.length) found[n.id] = problems;
    }
    return found;
  }, [graph.nodes]);
  const structural = useMemo(() => graphProblems(graph.nodes.map((n) => n.data.kind)), [graph.nodes]);
  const blocked = Object.keys(clientProblems).length > 0 || structural.length > 0 || !name.trim();

  const decorate = useCallback(
    (id: string) => ({ problems: [...(clientProblems[id] ?? []), ...(server.byNode[id] ?? []).map((p) => problemText(p, t))], active: id === activeNode }),
    [clientProblems, server, activeNode, t],
  );

  /** Saves the graph as it is now (a new version, with `note`); the flow as saved, or null. */
  const save = useCallback(
    async (note?: string): Promise<FlowMeta | null> => {
      const { graph: current, name: currentName, flow: currentFlow } = live.current;
      const definition = toDefinition(current);
      setStatus("saving");
      const result = await saveFlow({ input: { id: currentFlow?.id ?? null, name: currentName.trim(), definition, note: note || null } });
      if (result.error || !result.data) {
        const problems = serverProblems(result.error, current.nodes.map((n) => n.id));
        setServer(problems ?? NO_PROBLEMS);
        setSaveError(problems ? null : result.error);
        setStatus(problems ? "rejected" : "error");
        return null;
      }
      const next = result.data.saveFlow as FlowMeta;
      saved.current = { definition: JSON.stringify(definition), name: currentName.trim() };
      setServer(NO_PROBLEMS);
      setSaveError(null);
      setFlow(next);
      if (!currentFlow) {
        adopted.id = next.id;
        void navigate(`/flows/${next.id}`, { replace: true });
      }
      live.current.flow = next;
      const stillDirty = JSON.stringify(toDefinition(live.current.graph)) !== saved.current.definition;
      setStatus(stillDirty ? "pending" : "saved");
      return next;
    },
    [saveFlow, navigate],
  );

  const queueSave = useCallback((note?: string) => {
    const run = chain.current.then(() => save(note));
    chain.current = run.catch(() => null);
    return run;
  }, [save]);

  // autosave: a moment after the last change, when the builder sees nothing wrong
  useEffect(() => {
    const same = JSON.stringify(toDefinition(graph)) === saved.current.definition && name.trim() === saved.current.name;
    if (same) {
      // back to what is saved (an undo): what the server said about a later draft no longer holds
      setStatus((s) => (s === "pending" || s === "invalid" || s === "rejected" ? (live.current.flow ? "saved" : "idle") : s));
      setServer((p) => (p === NO_PROBLEMS ? p : NO_PROBLEMS));
      return;
    }
    if (blocked) {
      setStatus("invalid");
      return;
    }
    setStatus("pending");
    const timer = setTimeout(() => void queueSave(), 1000);
    return () => clearTimeout(timer);
  }, [graph, name, blocked, queueSave]);

  // leaving with a draft not saved yet: save it on the way out (an existing flow only: a new one
  // would navigate back to itself)
  const flushOnLeave = useRef(() => {});
  flushOnLeave.current = () => {
    const dirty = JSON.stringify(toDefinition(live.current.graph)) !== saved.current.definition || live.current.name.trim() !== saved.current.name;
    if (dirty && !blocked && live.current.flow) void queueSave();
  };
  useEffect(
    () => () => {
      adopted.id = null;
      flushOnLeave.current();
    },
    [],
  );

  // undo / redo from the keyboard, except inside a text field (which has its own)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || isTyping(e.target)) return;
      const key = e.key.toLowerCase();
      if (key === "z" || key === "y") {
        e.preventDefault();
        dispatch({ type: e.shiftKey || key === "y" ? "redo" : "undo" });
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const selected = graph.nodes.find((n) => n.id === selectedId) ?? null;
  const onConfig = useCallback(
    (config: Config, field?: string) => {
      const current = live.current.graph;
      const nodes = current.nodes.map((n) => (n.id === selectedId ? { ...n, data: { ...n.data, config } } : n));
      const next = dropDanglingEdges({ ...current, nodes }, (n) => portsOf(n.data.kind, n.data.config));
      dispatch({ type: "change", graph: next, coalesce: `${selectedId}:${field ?? ""}` });
    },
    [selectedId],
  );
  const onWire = useCallback(
    (port: string, target: string | null) => {
      if (!selectedId) return;
      const current = live.current.graph;
      const kept = { ...current, edges: current.edges.filter((e) => !(e.source === selectedId && (e.sourceHandle || "next") === port && !e.data?.condition)) };
      dispatch({ type: "change", graph: target ? connect(kept, { source: selectedId, target, sourceHandle: port }) : kept });
    },
    [selectedId],
  );
  const onDelete = useCallback(() => {
    const current = live.current.graph;
    dispatch({
      type: "change",
      graph: { nodes: current.nodes.filter((n) => n.id !== selectedId), edges: current.edges.filter((e) => e.source !== selectedId && e.target !== selectedId) },
    });
    setSelectedId(null);
  }, [selectedId]);

  const onAdd = useCallback(
    (kind: string) => {
      const box = document.querySelector("[data-flow-canvas]")?.getBoundingClientRect();
      const center = box ? reactFlow.screenToFlowPosition({ x: box.left + box.width / 2 - 120, y: box.top + box.height / 2 - 40 }) : { x: 0, y: 0 };
      const current = live.current.graph;
      const anchor = current.nodes.find((n) => n.id === selectedId);
      const spot = freeSpot(current, anchor ? { x: anchor.position.x, y: anchor.position.y + 170 } : center);
      const added = addNode(current, kind, spot);
      if (!added.id) return;
      dispatch({ type: "change", graph: added.graph });
      void reactFlow.setCenter(spot.x + 120, spot.y + 60, { zoom: reactFlow.getZoom(), duration: 250 });
      setSelectedId(added.id);
      setTab("node");
    },
    [reactFlow, selectedId],
  );
  const onSelect = useCallback((id: string | null) => {
    setSelectedId(id);
    if (id) setTab("node");
  }, []);

  const onRestore = useCallback((restored: Graph) => {
    setSelectedId(null);
    dispatch({ type: "change", graph: restored });
  }, []);

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <header className="flex h-14 shrink-0 items-center gap-3 border-b border-border bg-background px-4">
        <Button asChild variant="ghost" size="icon">
          <Link to="/flows" aria-label={t("flows.editor.back")}>
            <ArrowLeft aria-hidden />
          </Link>
        </Button>
        <Input
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={120}
          aria-label={t("flows.editor.name")}
          className="h-8 w-64 border-transparent bg-transparent text-base font-semibold shadow-none hover:border-input focus-visible:border-input"
        />
        {flow?.publishedVersion ? (
          <Badge variant="success" data-published={flow.publishedVersion}>{t("flows.list.publishedV", { version: flow.publishedVersion })}</Badge>
        ) : (
          <Badge variant="outline">{t("flows.list.draft")}</Badge>
        )}
        <SaveIndicator status={status} version={flow?.version ?? null} error={saveError} />
        <div className="ml-auto flex items-center gap-1">
          <Tooltip content={<span>{t("flows.editor.undo")} <Kbd>Ctrl Z</Kbd></span>}>
            <Button variant="ghost" size="icon" onClick={() => dispatch({ type: "undo" })} disabled={!history.past.length && !history.pending} aria-label={t("flows.editor.undo")}>
              <Undo2 aria-hidden />
            </Button>
          </Tooltip>
          <Tooltip content={<span>{t("flows.editor.redo")} <Kbd>Ctrl Shift Z</Kbd></span>}>
            <Button variant="ghost" size="icon" onClick={() => dispatch({ type: "redo" })} disabled={!history.future.length} aria-label={t("flows.editor.redo")}>
              <Redo2 aria-hidden />
            </Button>
          </Tooltip>
          <span className="mx-2 h-6 w-px bg-border" aria-hidden />
          <PublishControls flow={flow} blocked={blocked} onSave={queueSave} onFlow={setFlow} />
        </div>
      </header>
      <div className="flex min-h-0 flex-1">
        <Palette onAdd={onAdd} hasTrigger={graph.nodes.some((n) => n.data.kind === "trigger")} />
        <div className="relative min-w-0 flex-1 bg-muted/30">
          <Canvas fit={fit} graph={graph} dispatch={dispatch} selectedId={selectedId} onSelect={onSelect} decorate={decorate} />
          {(structural.length > 0 || server.general.length > 0) && graph.nodes.length > 0 && (
            <div role="status" className="absolute left-1/2 top-3 z-10 max-w-lg -translate-x-1/2 rounded-lg border border-amber-200 bg-warning-soft px-3 py-2 text-xs text-warning-strong shadow-sm" data-flow-problems>
              {[...structural.map((p) => t(`flows.problem.${p}`)), ...server.general.map((p) => generalText(p, t))].map((p) => (
                <p key={p} className="flex items-start gap-1.5">
                  <AlertTriangle className="mt-px size-3.5 shrink-0" aria-hidden /> {p}
                </p>
              ))}
            </div>
          )}
        </div>
        <aside className="flex w-[22rem] shrink-0 flex-col border-l border-border bg-background" aria-label={t("flows.editor.panel")}>
          <Tabs value={tab} onValueChange={setTab} className="flex min-h-0 flex-1 flex-col">
            <TabsList className="mx-3 mt-3 grid grid-cols-4">
              <TabsTrigger value="node">{t("flows.tabs.node")}</TabsTrigger>
              <TabsTrigger value="test">{t("flows.tabs.test")}</TabsTrigger>
              <TabsTrigger value="versions" disabled={!flow}>{t("flows.tabs.versions")}</TabsTrigger>
              <TabsTrigger value="runs" disabled={!flow}>{t("flows.tabs.runs")}</TabsTrigger>
            </TabsList>
            <TabsContent value="node" className="min-h-0 flex-1 overflow-y-auto px-4 pb-6">
              {selected ? (
                <>
                  <NodeForm key={`${selected.id}:${history.epoch}`} node={selected} onConfig={onConfig} onDelete={onDelete} serverProblems={(server.byNode[selected.id] ?? []).map((p) => problemText(p, t))} />
                  <Connections node={selected} graph={graph} onWire={onWire} />
                </>
              ) : (
                <div className="flex flex-col items-center gap-2 px-4 py-12 text-center text-sm text-muted-foreground">
                  <MousePointerClick className="size-6" aria-hidden />
                  <p className="font-medium text-foreground">{t("flows.editor.noSelection")}</p>
                  <p>{t("flows.editor.noSelectionText")}</p>
                </div>
              )}
            </TabsContent>
            <TabsContent value="test" className="min-h-0 flex-1 overflow-y-auto px-4 pb-6">
              <SimulatorPanel graph={graph} onActiveNode={setActiveNode} />
            </TabsContent>
            <TabsContent value="versions" className="min-h-0 flex-1 overflow-y-auto px-4 pb-6">
              {flow && <VersionsPanel flow={flow} onRestore={onRestore} />}
            </TabsContent>
            <TabsContent value="runs" className="min-h-0 flex-1 overflow-y-auto px-4 pb-6">
              {flow && <RunsPanel flowId={flow.id} />}
            </TabsContent>
          </Tabs>
        </aside>
      </div>
    </div>
  );
}

/** The first spot from `wanted`, going right, where a new node covers none. */
function freeSpot(graph: Graph, wanted: { x: number; y: number }): { x: number; y: number } {
  const spot = { ...wanted };
  const covers = () => graph.nodes.some((n) => Math.abs(n.position.x - spot.x) < 260 && Math.abs(n.position.y - spot.y) < 140);
  for (let i = 0; i < 50 && covers(); i += 1) spot.x += 280;
  return spot;
}

function SaveIndicator({ status, version, error }: { status: SaveStatus; version: number | null; error: unknown }) {
  const { t } = useTranslation();
  const content: Record<SaveStatus, [React.ReactNode, string]> = {
    idle: [null, t("flows.save.idle")],
    pending: [<Loader2 key="i" className="size-3.5 animate-spin" aria-hidden />, t("flows.save.pending")],
    saving: [<Loader2 key="i" className="size-3.5 animate-spin" aria-hidden />, t("flows.save.saving")],
    saved: [<Check key="i" className="size-3.5 text-success" aria-hidden />, t("flows.save.saved", { version })],
    invalid: [<AlertTriangle key="i" className="size-3.5 text-amber-600" aria-hidden />, t("flows.save.invalid")],
    rejected: [<AlertTriangle key="i" className="size-3.5 text-destructive" aria-hidden />, t("flows.save.rejected")],
    error: [<CloudOff key="i" className="size-3.5 text-destructive" aria-hidden />, error ? explain(error, t).message : t("flows.save.error")],
  };
  const [icon, label] = content[status];
  return (
    <span role="status" data-save-status={status} className={cn("flex items-center gap-1.5 text-xs text-muted-foreground", status === "error" && "text-destructive")}>
      {icon}
      {label}
    </span>
  );
}
