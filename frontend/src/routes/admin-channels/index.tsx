// Admin → Channels (admin/channels/*): the list, guided creation per platform (new, new/:platform)
// and each channel's page (:id). One query feeds them all: channels with their health, and the
// retention policies.
import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import { Route, Routes } from "react-router";
import { useQuery } from "urql";
import type { AdminChannelsQuery } from "@/api/graphql.generated";
import { ADMIN_CHANNELS } from "@/api/ops/admin-channels";
import { AdminFrame } from "@/components/AdminFrame";
import { ErrorState } from "@/components/ErrorState";
import { Skeleton } from "@/components/ui/misc";
import { ChannelDetail } from "./ChannelDetail";
import { ChannelList } from "./ChannelList";
import { NewChannel } from "./NewChannel";
import { PlatformPicker } from "./PlatformPicker";

export default function ChannelsScreen() {
  const { t } = useTranslation();
  const [{ data, error, fetching }, reexecute] = useQuery<AdminChannelsQuery>({ query: ADMIN_CHANNELS });
  const reload = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);

  if (!data) {
    return (
      <AdminFrame title={t("admin-channels.title")} description={t("admin-channels.subtitle")}>
        {error && !fetching ? (
          <ErrorState error={error} onRetry={reload} />
        ) : (
          <div className="space-y-3" aria-busy="true" aria-label={t("admin-channels.loading")}>
            <div className="grid grid-cols-4 gap-3">
              {[0, 1, 2, 3].map((i) => (
                <Skeleton key={i} className="h-16 rounded-xl" />
              ))}
            </div>
            {[0, 1, 2, 3, 4].map((i) => (
              <Skeleton key={i} className="h-12" />
            ))}
          </div>
        )}
      </AdminFrame>
    );
  }
  return (
    <Routes>
      <Route index element={<ChannelList channels={data.channels} reload={reload} />} />
      <Route path="new" element={<PlatformPicker />} />
      <Route path="new/:platform" element={<NewChannel onCreated={reload} />} />
      <Route path=":id" element={<ChannelDetail channels={data.channels} retention={data.retentionPolicies} onChanged={reload} />} />
    </Routes>
  );
}
