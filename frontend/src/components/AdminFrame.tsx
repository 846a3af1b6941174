// The frame of every admin section: the sections' list on the left (src/routes/screens.ts), the
// section's title, description and actions on top, its content below.
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { NavLink } from "react-router";
import { cn } from "@/lib/utils";
import { adminSectionsFor } from "@/routes/screens";
import { useServices } from "@/services";

export function AdminFrame({ title, description, actions, children }: { title: string; description?: string; actions?: ReactNode; children: ReactNode }) {
  const { t } = useTranslation();
  const { me } = useServices();
  return (
    <div className="flex min-w-0 flex-1">
      <nav aria-label={t("admin.title")} className="w-56 shrink-0 overflow-y-auto border-r border-border bg-muted/30 px-3 py-5">
        <NavLink to="/admin" end className="mb-2 block px-2 text-xs font-semibold uppercase tracking-wide text-muted-foreground hover:text-foreground">
          {t("admin.title")}
        </NavLink>
        <ul className="space-y-0.5">
          {adminSectionsFor(me.role).map(({ href, label, icon: Icon }) => (
            <li key={href}>
              <NavLink
                to={href}
                className={({ isActive }) =>
                  cn("flex items-center gap-2 rounded-md px-2 py-1.5 text-sm text-muted-foreground hover:bg-muted hover:text-foreground", isActive && "bg-background font-medium text-foreground shadow-sm")
                }
              >
                <Icon className="size-4" aria-hidden /> {t(label)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main className="min-w-0 flex-1 overflow-y-auto">
        <header className="flex items-start justify-between gap-4 border-b border-border px-8 py-5">
          <div className="min-w-0">
            <h1 className="text-xl font-semibold tracking-tight">{title}</h1>
            {description && <p className="mt-0.5 text-sm text-muted-foreground">{description}</p>}
          </div>
          {actions && <div className="flex shrink-0 items-center gap-2">{actions}</div>}
        </header>
        <div className="px-8 py-6">{children}</div>
      </main>
    </div>
  );
}
