// admin/webhooks: the endpoints (list), new, :id/edit and :id (its delivery log).
import { Navigate, Route, Routes, useParams } from "react-router";
import type { AdminWebhookEndpointsQuery } from "@/api/graphql.generated";
import { ADMIN_WEBHOOK_ENDPOINTS } from "@/api/ops/integrations";
import { useListQuery } from "@/components/ListScaffold";
import { Deliveries } from "./Deliveries";
import { EndpointForm } from "./EndpointForm";
import { EndpointList } from "./EndpointList";

export default function WebhooksPage() {
  const state = useListQuery<AdminWebhookEndpointsQuery>({ query: ADMIN_WEBHOOK_ENDPOINTS });
  const { data, retry: refresh } = state;
  // Until the endpoints are loaded every route shows the list page (its skeleton, or the error).
  const list = <EndpointList state={state} />;
  return (
    <Routes>
      <Route index element={list} />
      <Route path="new" element={data ? <EndpointForm channels={data.channels} onSaved={refresh} /> : list} />
      <Route path=":id/edit" element={data ? <WithEndpoint data={data} render={(e) => <EndpointForm key={e.id} endpoint={e} channels={data.channels} onSaved={refresh} />} /> : list} />
      <Route path=":id" element={data ? <WithEndpoint data={data} render={(e) => <Deliveries key={e.id} endpoint={e} />} /> : list} />
      <Route path="*" element={<Navigate to="/admin/webhooks" replace />} />
    </Routes>
  );
}

function WithEndpoint({ data, render }: { data: AdminWebhookEndpointsQuery; render: (e: AdminWebhookEndpointsQuery["webhookEndpoints"][number]) => React.ReactNode }) {
  const { id } = useParams();
  const endpoint = data.webhookEndpoints.find((e) => e.id === id);
  if (!endpoint) return <Navigate to="/admin/webhooks" replace />;
  return <>{render(endpoint)}</>;
}
