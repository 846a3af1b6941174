// One channel: its setup (webhook URL to copy, steps), settings, status, secret rotation,
// retention and availability.
import { ArrowLeft, SearchX } from "lucide-react";
import { useTranslation } from "react-i18next";
import { useEffect, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { AdminFrame } from "@/components/AdminFrame";
import { platformLabel } from "@/components/PlatformIcon";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { EditSettings } from "./EditSettings";
import { HealthBadge } from "./HealthBadge";
import { SetupCard } from "./SetupCard";
import { AvailabilityCard, RegisterCard, RetentionCard, RotateCard, StatusCard } from "./SideCards";
import type { AdminChannel, CreatedState, Retention } from "./types";

export function ChannelDetail({ channels, retention, onChanged }: { channels: AdminChannel[]; retention: Retention[]; onChanged: () => void }) {
  const { t } = useTranslation();
  const { id = "" } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  // The tokens made up at creation are shown this once: kept in memory here, and dropped from the
  // history entry at once, so a reload or going back does not show them again.
  const [created] = useState(() => (location.state as CreatedState | null) ?? null);
  useEffect(() => {
    if (location.state) navigate(location.pathname, { replace: true, state: null });
  }, [location.state, location.pathname, navigate]);
  const fromCreation = created?.channel.id === id ? created : null;
  const channel = channels.find((c) => c.id === id) ?? fromCreation?.channel;
  const back = (
    <Button asChild variant="ghost">
      <Link to="/admin/channels">
        <ArrowLeft aria-hidden /> {t("admin-channels.back")}
      </Link>
    </Button>
  );
  if (!channel)
    return (
      <AdminFrame title={t("admin-channels.title")} actions={back}>
        <EmptyState icon={<SearchX aria-hidden />} title={t("admin-channels.notFound")} />
      </AdminFrame>
    );
  const days = retention.find((r) => r.channelId === channel.id)?.messageBodyDays ?? null;
  return (
    <AdminFrame
      title={channel.name}
      description={`${platformLabel(channel.platform)} · ${t(`admin-channels.about.${channel.platform}`)}`}
      actions={
        <>
          <HealthBadge health={channel.health} />
          {back}
        </>
      }
    >
      <div className="grid grid-cols-1 gap-5 lg:grid-cols-[minmax(0,1fr)_20rem]">
        <div className="min-w-0 space-y-5">
          <SetupCard channel={channel} generated={fromCreation?.generated ?? {}} justCreated={!!fromCreation} />
          <EditSettings key={`${channel.id}:${channel.secretsSet.join(",")}`} channel={channel} />
        </div>
        <div className="space-y-5">
          <StatusCard channel={channel} />
          <RotateCard channel={channel} />
          <RegisterCard channel={channel} onChanged={onChanged} />
          <RetentionCard key={`${channel.id}:${days}`} channel={channel} days={days} onSaved={onChanged} />
          <AvailabilityCard channel={channel} />
        </div>
      </div>
    </AdminFrame>
  );
}
