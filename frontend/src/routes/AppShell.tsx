import { Keyboard, LogOut, MessagesSquare, UserRound } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { NavLink, useNavigate } from "react-router";
import { DemoPanel } from "@/components/DemoPanel";
import { NotificationBell } from "@/components/dashboard/NotificationBell";
import { Toast } from "@/components/ErrorState";
import { ShortcutsDialog } from "@/components/ShortcutsDialog";
import { Avatar } from "@/components/ui/misc";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuRadioGroup,
  DropdownMenuRadioItem,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { LANGUAGES, switchLanguage, type Language } from "@/i18n";
import { Tooltip } from "@/components/ui/tooltip";
import { cn } from "@/lib/utils";
import { useServices } from "@/services";
import { useUi } from "@/state/ui";
import { screensFor } from "./screens";

function LinkDot() {
  const { t } = useTranslation();
  const link = useUi((s) => s.link);
  const label = t(`link.${link}`);
  return (
    <Tooltip content={label}>
      <span role="status" aria-label={label} data-link={link} className="flex size-8 items-center justify-center">
        <span className={cn("size-2.5 rounded-full", link === "online" ? "bg-emerald-400" : link === "offline" ? "bg-red-400 animate-pulse" : "bg-amber-300")} />
      </span>
    </Tooltip>
  );
}

export default function AppShell({ children }: { children: ReactNode }) {
  const { t, i18n } = useTranslation();
  const { session, me } = useServices();
  const toast = useUi((s) => s.toast);
  const dismiss = useUi((s) => s.dismiss);
  const setHelp = useUi((s) => s.setHelp);
  const navigate = useNavigate();
  const link = useUi((s) => s.link);

  return (
    <div className="flex h-full flex-col">
      <div className="flex min-h-0 flex-1">
        <nav aria-label="Main" className="flex w-14 shrink-0 flex-col items-center gap-1 bg-sidebar py-3 text-sidebar-foreground">
          <div className="mb-3 flex size-9 items-center justify-center rounded-lg bg-primary text-white" aria-hidden>
            <MessagesSquare className="size-5" />
          </div>
          {screensFor(me.role)
            .filter((screen) => screen.nav)
            .map(({ nav, label, icon: Icon }) => (
              <Tooltip key={nav} content={t(label)}>
                <NavLink
                  to={nav!}
                  aria-label={t(label)}
                  className={({ isActive }) => cn("flex size-9 items-center justify-center rounded-lg hover:bg-white/10", isActive && "bg-white/15 text-white")}
                >
                  <Icon className="size-5" aria-hidden />
                </NavLink>
              </Tooltip>
            ))}
          <div className="mt-auto flex flex-col items-center gap-1">
            <NotificationBell />
            <LinkDot />
            <Tooltip content={t("nav.shortcuts")}>
              <button onClick={() => setHelp(true)} aria-label={t("nav.shortcuts")} className="flex size-9 items-center justify-center rounded-lg hover:bg-white/10">
                <Keyboard className="size-5" aria-hidden />
              </button>
            </Tooltip>
            <DropdownMenu>
              {/* The name is text inside the button, not aria-label: the initials shown must not
                  contradict it (axe's label-content-name-mismatch for any user but the demo's). */}
              <DropdownMenuTrigger className="mt-1 rounded-full focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-white">
                <Avatar name={me.name} className="size-8" />
                <span className="sr-only">{t("nav.account")}</span>
              </DropdownMenuTrigger>
              <DropdownMenuContent side="right" align="end" className="w-60">
                <DropdownMenuLabel>
                  <span className="block text-sm text-foreground">{me.name}</span>
                  <span className="block font-normal">{me.email}</span>
                </DropdownMenuLabel>
                <DropdownMenuSeparator />
                <DropdownMenuItem onSelect={() => navigate("/account")}>
                  <UserRound aria-hidden /> {t("account.nav")}
                </DropdownMenuItem>
                <DropdownMenuSeparator />
                <DropdownMenuLabel>{t("nav.language")}</DropdownMenuLabel>
                <DropdownMenuRadioGroup value={i18n.language} onValueChange={(v) => void switchLanguage(v as Language)}>
                  {LANGUAGES.map((l) => (
                    <DropdownMenuRadioItem key={l.code} value={l.code}>{l.label}</DropdownMenuRadioItem>
                  ))}
                </DropdownMenuRadioGroup>
                <DropdownMenuSeparator />
                <DropdownMenuItem onSelect={() => void session.logout()}>
                  <LogOut aria-hidden /> {t("nav.signOut")}
                </DropdownMenuItem>
              </DropdownMenuContent>
            </DropdownMenu>
          </div>
        </nav>
        <div className="flex min-w-0 flex-1 flex-col">
          {link === "offline" && (
            <div role="status" className="bg-amber-100 px-4 py-1.5 text-center text-xs font-medium text-amber-900">{t("link.offline")}</div>
          )}
          <div className="flex min-h-0 flex-1">{children}</div>
          <DemoPanel />
        </div>
      </div>
      <ShortcutsDialog />
      {toast && <Toast message={toast.message} code={toast.code} onDismiss={dismiss} />}
    </div>
  );
}
