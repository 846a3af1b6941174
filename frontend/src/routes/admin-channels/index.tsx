// Admin → Channels (admin/channels/*): the list, guided creation per platform (new, new/:platform)
// and each channel's page (:id). One query feeds them all: channels with their health, and the
// retention policies.
import { Route, Routes } from "react-router";
import type { AdminChannelsQuery } from "@/api/graphql.generated";
import { ADMIN_CHANNELS } from "@/api/ops/admin-channels";
import { useListQuery } from "@/components/ListScaffold";
import { ChannelDetail } from "./ChannelDetail";
import { ChannelList } from "./ChannelList";
import { NewChannel } from "./NewChannel";
import { PlatformPicker } from "./PlatformPicker";

export default function ChannelsScreen() {
  const state = useListQuery<AdminChannelsQuery>({ query: ADMIN_CHANNELS });
  const { data, retry: reload } = state;
  // Until the channels are loaded every route shows the list page (its skeleton, or the error).
  const list = <ChannelList state={state} />;
  return (
    <Routes>
      <Route index element={list} />
      <Route path="new" element={<PlatformPicker />} />
      <Route path="new/:platform" element={<NewChannel onCreated={reload} />} />
      <Route path=":id" element={data ? <ChannelDetail channels={data.channels} retention={data.retentionPolicies} onChanged={reload} /> : list} />
    </Routes>
  );
}
