// The bell in the main navigation: the unread count, fed live by notificationEvents; a popover
// list (open one: it is marked read and its conversation opens); mark all read; preferences (a
// dialog, loaded when first opened); browser notifications when the user allows them.
import { AtSign, Bell, BellRing, CheckCheck, MessageCircle, Settings2, UserPlus } from "lucide-react";
import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { explain } from "@/api/errors";
import { follow } from "@/api/live";
import { MARK_NOTIFICATIONS_READ, NOTIFICATIONS, NOTIFICATION_EVENTS } from "@/api/ops/dashboard";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Popover, PopoverContent, PopoverTrigger } from "@/components/ui/popover";
import { Switch } from "@/components/ui/switch";
import { Tooltip } from "@/components/ui/tooltip";
import { useNow } from "@/hooks/useNow";
import { listTime } from "@/lib/time";
import { cn } from "@/lib/utils";
import { useServices } from "@/services";
import { useUi } from "@/state/ui";
import { addNotifications, markRead, targetOf, unread, type Notification } from "./notifications";
import { desktopAllowed, showDesktop, useDesktopNotifications } from "./desktop";

const PreferencesDialog = lazy(() => import("./PreferencesDialog"));

const ICONS: Record<string, typeof Bell> = { assignment: UserPlus, mention: AtSign, customer_reply: MessageCircle, alert: BellRing };

export function NotificationBell() {
  const { t } = useTranslation();
  const { client, live } = useServices();
  const navigate = useNavigate();
  const showError = useUi((s) => s.showError);
  const [list, setList] = useState<Notification[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const [open, setOpen] = useState(false);
  const [prefsOpen, setPrefsOpen] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const desktop = useDesktopNotifications();
  const desktopRef = useRef(desktop.enabled);
  desktopRef.current = desktop.enabled;
  const navigateRef = useRef(navigate); // the subscription outlives route changes
  navigateRef.current = navigate;

  useEffect(() => {
    const stop = follow<{ cursor: string; notification: Notification }>(
      live,
      NOTIFICATION_EVENTS,
      {},
      ({ notification }) => {
        setList((l) => addNotifications(l, [notification]));
        if (desktopRef.current && desktopAllowed()) showDesktop(notification, (path) => navigateRef.current(path));
      },
      () => undefined,
      "notificationEvents",
    );
    let current = true;
    void client
      .query<{ notifications: Notification[] }>(NOTIFICATIONS, {}, { requestPolicy: "network-only" })
      .toPromise()
      .then((r) => {
        if (!current) return;
        setLoaded(true);
        if (r.error) setError(r.error);
        else {
          setError(null);
          setList((l) => addNotifications(l, r.data?.notifications ?? []));
        }
      });
    return () => {
      current = false;
      stop();
    };
  }, [client, live, attempt]);

  const count = unread(list);
  const mark = async (ids: string[] | null) => {
    const before = list;
    setList((l) => markRead(l, ids, new Date().toISOString()));
    const r = await client.mutation(MARK_NOTIFICATIONS_READ, { ids }).toPromise();
    if (r.error) {
      setList(before);
      const e = explain(r.error, t);
      showError(e.message, e.code);
    }
  };
  const openOne = (n: Notification) => {
    if (!n.readAt) void mark([n.id]);
    const target = targetOf(n);
    if (target) {
      setOpen(false);
      navigate(target);
    }
  };
  const label = count ? t("dashboard.notifications.bellUnread", { count }) : t("dashboard.notifications.bell");

  return (
    <>
      <Popover open={open} onOpenChange={setOpen}>
        <Tooltip content={label}>
          <PopoverTrigger
            aria-label={label}
            data-testid="notification-bell"
            data-unread={count}
            className="relative flex size-9 items-center justify-center rounded-lg hover:bg-white/10 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-white"
          >
            <Bell className="size-5" aria-hidden />
            {count > 0 && (
              <span aria-hidden className="absolute right-0.5 top-0.5 flex h-4 min-w-4 items-center justify-center rounded-full bg-red-500 px-1 text-[10px] font-semibold leading-none text-white">
                {count > 99 ? "99+" : count}
              </span>
            )}
          </PopoverTrigger>
        </Tooltip>
        <PopoverContent side="right" align="end" className="w-96 p-0" aria-label={t("dashboard.notifications.title")}>
          <div className="flex items-center justify-between gap-2 border-b border-border px-4 py-3">
            <h2 className="text-sm font-semibold">{t("dashboard.notifications.title")}</h2>
            <div className="flex items-center gap-1">
              <Button variant="ghost" size="sm" onClick={() => void mark(null)} disabled={count === 0}>
                <CheckCheck aria-hidden /> {t("dashboard.notifications.markAll")}
              </Button>
              <Tooltip content={t("dashboard.notifications.preferences")}>
                <Button variant="ghost" size="icon" aria-label={t("dashboard.notifications.preferences")} onClick={() => { setOpen(false); setPrefsOpen(true); }}>
                  <Settings2 aria-hidden />
                </Button>
              </Tooltip>
            </div>
          </div>
          <div className="max-h-96 overflow-y-auto">
            {error && list.length === 0 ? (
              <ErrorState error={error} onRetry={() => setAttempt((n) => n + 1)} compact />
            ) : !loaded && list.length === 0 ? (
              <div className="space-y-2 p-4" aria-busy>
                {Array.from({ length: 3 }, (_, i) => <div key={i} className="h-12 animate-pulse rounded-md bg-muted" />)}
              </div>
            ) : list.length === 0 ? (
              <div className="flex flex-col items-center gap-2 px-6 py-10 text-center">
                <span className="flex size-10 items-center justify-center rounded-full bg-muted text-muted-foreground" aria-hidden>
                  <Bell className="size-5" />
                </span>
                <p className="text-sm font-medium">{t("dashboard.notifications.none")}</p>
                <p className="text-xs text-muted-foreground">{t("dashboard.notifications.noneHint")}</p>
              </div>
            ) : (
              <ul className="divide-y divide-border" data-testid="notification-list">
                {list.map((n) => (
                  <NotificationRow key={n.id} n={n} onOpen={() => openOne(n)} onRead={() => void mark([n.id])} />
                ))}
              </ul>
            )}
          </div>
          <div className="flex items-center justify-between gap-3 border-t border-border px-4 py-2.5">
            <label htmlFor="desktop-notifications" className="text-xs text-muted-foreground">
              {desktop.blocked ? t("dashboard.notifications.desktopBlocked") : t("dashboard.notifications.desktop")}
            </label>
            <Switch id="desktop-notifications" checked={desktop.enabled} disabled={desktop.blocked || !desktop.supported} onCheckedChange={(on) => void desktop.set(on)} />
          </div>
        </PopoverContent>
      </Popover>
      {prefsOpen && (
        <Suspense fallback={null}>
          <PreferencesDialog open={prefsOpen} onOpenChange={setPrefsOpen} />
        </Suspense>
      )}
    </>
  );
}

function NotificationRow({ n, onOpen, onRead }: { n: Notification; onOpen: () => void; onRead: () => void }) {
  const { t, i18n } = useTranslation();
  const now = useNow(30_000);
  const Icon = ICONS[n.kind] ?? Bell;
  return (
    <li className={cn("group relative flex gap-3 px-4 py-3", !n.readAt && "bg-primary/[0.04]")} data-notification={n.kind} data-read={n.readAt ? "true" : "false"}>
      <span className="mt-0.5 flex size-8 shrink-0 items-center justify-center rounded-full bg-primary/10 text-primary" aria-hidden>
        <Icon className="size-4" />
      </span>
      <button type="button" onClick={onOpen} className="min-w-0 flex-1 text-left focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring rounded-sm">
        <span className="flex items-center gap-2">
          <span className={cn("truncate text-sm", !n.readAt && "font-semibold")}>{n.title}</span>
        </span>
        <span className="mt-0.5 line-clamp-2 block text-xs text-muted-foreground">{n.body}</span>
        <span className="mt-1 block text-[11px] text-muted-foreground">
          {t(`dashboard.notifications.kinds.${n.kind}`, { defaultValue: n.kind })} · {listTime(n.createdAt, now, i18n.language, t("time.now"))}
        </span>
      </button>
      {!n.readAt && (
        <Tooltip content={t("dashboard.notifications.markRead")}>
          <button type="button" onClick={onRead} aria-label={`${t("dashboard.notifications.markRead")}: ${n.title}`} className="mt-1 flex size-6 shrink-0 items-center justify-center rounded-full hover:bg-muted focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
            <span className="size-2 rounded-full bg-primary" aria-hidden />
          </button>
        </Tooltip>
      )}
    </li>
  );
}
