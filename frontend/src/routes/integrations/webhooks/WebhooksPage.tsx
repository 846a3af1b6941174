// admin/webhooks: the endpoints (list), new, :id/edit and :id (its delivery log).
import { useTranslation } from "react-i18next";
import { Navigate, Route, Routes, useParams } from "react-router";
import { useQuery } from "urql";
import type { AdminWebhookEndpointsQuery } from "@/api/graphql.generated";
import { ADMIN_WEBHOOK_ENDPOINTS } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { ErrorState } from "@/components/ErrorState";
import { TableSkeleton } from "../common";
import { Deliveries } from "./Deliveries";
import { EndpointForm } from "./EndpointForm";
import { EndpointList } from "./EndpointList";

export default function WebhooksPage() {
  const { t } = useTranslation();
  const [{ data, error, fetching }, reexecute] = useQuery<AdminWebhookEndpointsQuery>({ query: ADMIN_WEBHOOK_ENDPOINTS });
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  if (!data) {
    return (
      <AdminFrame title={t("integrations.webhooks.title")} description={t("integrations.webhooks.description")}>
        {error ? <ErrorState error={error} onRetry={refresh} /> : fetching ? <TableSkeleton /> : null}
      </AdminFrame>
    );
  }
  return (
    <Routes>
      <Route index element={<EndpointList endpoints={data.webhookEndpoints} onChanged={refresh} />} />
      <Route path="new" element={<EndpointForm channels={data.channels} onSaved={refresh} />} />
      <Route path=":id/edit" element={<WithEndpoint data={data} render={(e) => <EndpointForm key={e.id} endpoint={e} channels={data.channels} onSaved={refresh} />} />} />
      <Route path=":id" element={<WithEndpoint data={data} render={(e) => <Deliveries key={e.id} endpoint={e} />} />} />
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
