// flows/*: the list, a new flow, one flow's editor. A flow the editor has just created keeps the
// same editor (the route changes to its id, nothing reloads).
import { useQuery } from "urql";
import { Route, Routes, useParams } from "react-router";
import { FLOW } from "@/api/ops/flows";
import type { FlowQuery } from "@/api/graphql.generated";
import { ErrorState } from "@/components/ErrorState";
import { PageSpinner } from "@/components/PageSpinner";
import { adopted, FlowEditor } from "./FlowEditor";
import { FlowList } from "./FlowList";
import { EMPTY_GRAPH, fromApi, toGraph } from "./graph";

function EditorRoute() {
  const { id = "new" } = useParams();
  const fresh = id === "new" || adopted.id === id;
  const [{ data, error }, reload] = useQuery<FlowQuery>({ query: FLOW, variables: { id }, pause: fresh, requestPolicy: "network-only" });
  if (fresh) return <FlowEditor key="editor" flow={null} graph={EMPTY_GRAPH} />;
  if (error && !data) return <main className="flex-1"><ErrorState error={error} onRetry={() => reload({ requestPolicy: "network-only" })} /></main>;
  if (!data) return <PageSpinner />;
  const { definition, ...flow } = data.flow;
  return <FlowEditor key={`editor:${id}`} flow={flow} graph={toGraph(fromApi(definition))} />;
}

export default function FlowsPage() {
  return (
    <Routes>
      <Route index element={<FlowList />} />
      <Route path=":id" element={<EditorRoute />} />
    </Routes>
  );
}
