// Every channel of every platform: health (healthy / waiting / failing since), last webhook, last
// error, and an enabled switch; a count per health on top.
import { Plus, Radio } from "lucide-react";
import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import type { AdminChannelsQuery } from "@/api/graphql.generated";
import { AdminFrame } from "@/components/AdminFrame";
import { ListScaffold, type QueryState } from "@/components/ListScaffold";
import { PlatformIcon, platformLabel } from "@/components/PlatformIcon";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { useNow } from "@/hooks/useNow";
import { cn } from "@/lib/utils";
import { EnabledSwitch } from "./EnabledSwitch";
import { ago, fullTime, since } from "./format";
import { HealthBadge } from "./HealthBadge";
import type { AdminChannel } from "./types";

export function ConnectButton() {
  const { t } = useTranslation();
  return (
    <Button asChild>
      <Link to="/admin/channels/new">
        <Plus aria-hidden /> {t("admin-channels.connect")}
      </Link>
    </Button>
  );
}

const TONES = { OK: "bg-emerald-500", WAITING: "bg-sky-500", ERROR: "bg-red-500", DISABLED: "bg-slate-400" } as const;

function Summary({ channels }: { channels: AdminChannel[] }) {
  const { t } = useTranslation();
  const count = (h: keyof typeof TONES) => channels.filter((c) => c.health === h).length;
  const items = [
    { key: "OK", label: t("admin-channels.summary.ok") },
    { key: "WAITING", label: t("admin-channels.summary.waiting") },
    { key: "ERROR", label: t("admin-channels.summary.error") },
    { key: "DISABLED", label: t("admin-channels.summary.disabled") },
  ] as const;
  return (
    <dl className="mb-5 grid grid-cols-2 gap-3 lg:grid-cols-4">
      {items.map(({ key, label }) => (
        <div key={key} className="rounded-xl border border-border bg-background px-4 py-3 shadow-sm">
          <dt className="flex items-center gap-2 text-xs font-medium text-muted-foreground">
            <span className={cn("size-2 rounded-full", TONES[key])} aria-hidden /> {label}
          </dt>
          <dd className={cn("mt-1 text-2xl font-semibold tabular-nums", key === "ERROR" && count(key) > 0 && "text-red-700")}>{count(key)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** How often the list asks again while shown: health follows webhooks and errors. */
const REFRESH_MS = 30_000;

export function ChannelList({ state }: { state: QueryState<AdminChannelsQuery> }) {
  const { t, i18n } = useTranslation();
  const { data, retry: reload } = state;
  const now = useNow(30_000);
  const navigate = useNavigate();
  const lng = i18n.language;
  useEffect(() => {
    reload(); // fresh on every visit: other admins' channels, health changed meanwhile
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  return (
    <AdminFrame title={t("admin-channels.title")} description={t("admin-channels.subtitle")} actions={(data?.channels.length ?? 0) > 0 && <ConnectButton />}>
      <ListScaffold
        state={state}
        label={t("admin-channels.loading")}
        isEmpty={(d) => d.channels.length === 0}
        empty={<EmptyState icon={<Radio aria-hidden />} title={t("admin-channels.empty.title")} description={t("admin-channels.empty.description")} action={<ConnectButton />} />}
        skeleton={
          <div className="space-y-3">
            <div className="grid grid-cols-4 gap-3">
              {[0, 1, 2, 3].map((i) => (
                <Skeleton key={i} className="h-16 rounded-xl" />
              ))}
            </div>
            {[0, 1, 2, 3, 4].map((i) => (
              <Skeleton key={i} className="h-12" />
            ))}
          </div>
        }
      >
        {({ channels }) => (
          <>
            <Summary channels={channels} />
            <Table>
              <THead>
                <tr>
                  <Th>{t("admin-channels.table.channel")}</Th>
                  <Th>{t("admin-channels.table.health")}</Th>
                  <Th>{t("admin-channels.table.lastWebhook")}</Th>
                  <Th className="w-[32%]">{t("admin-channels.table.lastError")}</Th>
                  <Th className="text-right">{t("admin-channels.table.enabled")}</Th>
                </tr>
              </THead>
              <TBody>
                {channels.map((c) => (
                  <Tr key={c.id} data-channel={c.id} className="cursor-pointer" onClick={(e) => !(e.target as HTMLElement).closest("button,a,[role=switch]") && navigate(`/admin/channels/${encodeURIComponent(c.id)}`)}>
                    <Td>
                      <div className="flex items-center gap-3">
                        <PlatformIcon platform={c.platform} className="size-8 text-[10px] ring-0" />
                        <div className="min-w-0">
                          <Link to={`/admin/channels/${encodeURIComponent(c.id)}`} className="block truncate font-medium hover:underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
                            {c.name}
                          </Link>
                          <span className="text-xs text-muted-foreground">{platformLabel(c.platform)}</span>
                        </div>
                      </div>
                    </Td>
                    <Td>
                      <HealthBadge health={c.health} />
                      {c.health === "ERROR" && c.lastErrorAt && (
                        <p className="mt-1 text-xs text-red-700" title={fullTime(c.lastErrorAt, lng)}>
                          {t("admin-channels.health.failingSince", { when: since(c.lastErrorAt, now, lng) })}
                        </p>
                      )}
                    </Td>
                    <Td className="whitespace-nowrap text-muted-foreground">
                      {c.lastWebhookAt ? <time dateTime={c.lastWebhookAt} title={fullTime(c.lastWebhookAt, lng)}>{ago(c.lastWebhookAt, now, lng)}</time> : t("admin-channels.table.never")}
                    </Td>
                    <Td className="max-w-0">
                      {c.lastError ? (
                        <p className="truncate text-xs text-muted-foreground" title={c.lastError}>
                          {c.lastError}
                        </p>
                      ) : (
                        <span className="text-muted-foreground">{t("admin-channels.table.none")}</span>
                      )}
                    </Td>
                    <Td className="text-right">
                      <EnabledSwitch channel={c} />
                    </Td>
                  </Tr>
                ))}
              </TBody>
            </Table>
          </>
        )}
      </ListScaffold>
    </AdminFrame>
  );
}
