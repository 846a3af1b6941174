// Every signed-in screen in one list: its route, its place in the side navigation and who may
// open it. App.tsx makes the routes (each screen its own lazily loaded chunk) and AppShell the
// navigation from this list; a screen a role may not open is neither linked nor routed (the
// server refuses its data anyway: schema/permissions.py).
import { BellRing, ChartColumn, FileText, Inbox, KeyRound, LayoutDashboard, Puzzle, Radio, Route, ScrollText, Settings, Timer, UserRound, Users, UsersRound, Webhook, Workflow, type LucideIcon } from "lucide-react";
import type { ComponentType } from "react";

export type Role = "ADMIN" | "SUPERVISOR" | "AGENT";
export const STAFF: readonly Role[] = ["ADMIN", "SUPERVISOR", "AGENT"];
export const LEADS: readonly Role[] = ["ADMIN", "SUPERVISOR"];
export const ADMINS: readonly Role[] = ["ADMIN"];

export interface Screen {
  /** The route below the signed-in shell, e.g. "inbox/:id?" or "admin/users/*". */
  path: string;
  /** Where the navigation link points; no link when absent. */
  nav?: string;
  /** i18n key of the link's label. */
  label: string;
  icon: LucideIcon;
  roles: readonly Role[];
  load: () => Promise<{ default: ComponentType }>;
  /** Admin sections: listed on /admin and in AdminFrame's side list instead of the main navigation. */
  admin?: { section: string; description: string };
}

export const loadInbox = () => import("./InboxPage");

export const SCREENS: Screen[] = [
  { path: "inbox/:id?", nav: "/inbox", label: "nav.inbox", icon: Inbox, roles: STAFF, load: loadInbox },
  { path: "dashboard/*", nav: "/dashboard", label: "dashboard.nav", icon: LayoutDashboard, roles: LEADS, load: () => import("./dashboard/DashboardPage") },
  // Response templates (agents read; leads edit) and the WhatsApp approved templates.
  { path: "templates/*", nav: "/templates", label: "templates.nav", icon: FileText, roles: STAFF, load: () => import("./templates/TemplatesPage") },
  { path: "flows/*", nav: "/flows", label: "flows.nav", icon: Workflow, roles: LEADS, load: () => import("./flows/FlowsPage") },
  // My account (name, availability, password): from the account menu, no navigation link.
  { path: "account", label: "account.nav", icon: UserRound, roles: STAFF, load: () => import("./account/AccountPage") },
  // The admin hub: a card per admin section below (entries with `admin`), each its own route.
  { path: "admin", nav: "/admin", label: "nav.admin", icon: Settings, roles: LEADS, load: () => import("./admin/AdminHome") },
  // Admin sections (each: path "admin/<name>/*", no nav, admin: { section, description } i18n keys).
  { path: "admin/users/*", label: "people.users.nav", icon: Users, roles: ADMINS, load: () => import("./admin-people/UsersPage"), admin: { section: "people", description: "people.users.description" } },
  { path: "admin/teams/*", label: "people.teams.nav", icon: UsersRound, roles: LEADS, load: () => import("./admin-people/TeamsPage"), admin: { section: "people", description: "people.teams.description" } },
  { path: "admin/channels/*", label: "admin-channels.nav", icon: Radio, roles: ADMINS, load: () => import("./admin-channels"), admin: { section: "channels", description: "admin-channels.description" } },
  { path: "admin/api-keys/*", label: "integrations.nav.apiKeys", icon: KeyRound, roles: ADMINS, load: () => import("./integrations/api-keys/ApiKeysPage"), admin: { section: "integrations", description: "integrations.hub.apiKeys" } },
  { path: "admin/webhooks/*", label: "integrations.nav.webhooks", icon: Webhook, roles: ADMINS, load: () => import("./integrations/webhooks/WebhooksPage"), admin: { section: "integrations", description: "integrations.hub.webhooks" } },
  { path: "admin/modules/*", label: "integrations.nav.modules", icon: Puzzle, roles: ADMINS, load: () => import("./integrations/modules/ModulesPage"), admin: { section: "integrations", description: "integrations.hub.modules" } },
  { path: "admin/alerts/*", label: "integrations.nav.alerts", icon: BellRing, roles: LEADS, load: () => import("./integrations/alerts/AlertRulesPage"), admin: { section: "integrations", description: "integrations.hub.alerts" } },
  { path: "admin/audit/*", label: "integrations.nav.audit", icon: ScrollText, roles: ADMINS, load: () => import("./integrations/audit/AuditPage"), admin: { section: "integrations", description: "integrations.hub.audit" } },
  { path: "admin/sla/*", label: "admin-routing.nav.sla", icon: Timer, roles: LEADS, load: () => import("./admin-routing/sla/SlaSection"), admin: { section: "routing", description: "admin-routing.nav.slaDescription" } },
  { path: "admin/routing/*", label: "admin-routing.nav.routing", icon: Route, roles: LEADS, load: () => import("./admin-routing/routing/RoutingSection"), admin: { section: "routing", description: "admin-routing.nav.routingDescription" } },
  { path: "admin/reporting/*", label: "admin-routing.nav.reporting", icon: ChartColumn, roles: ADMINS, load: () => import("./admin-routing/reporting/ReportingSection"), admin: { section: "reporting", description: "admin-routing.nav.reportingDescription" } },
];

export function screensFor(role: string | null | undefined): Screen[] {
  return SCREENS.filter((s) => s.roles.includes(role as Role));
}

/** The admin sections a role may open, in list order, with the link each has. */
export function adminSectionsFor(role: string | null | undefined): (Screen & { href: string })[] {
  return screensFor(role)
    .filter((s) => s.admin)
    .map((s) => ({ ...s, href: `/${s.path.replace(/\/\*$|\/:[^/]+\??$/g, "")}` }));
}
