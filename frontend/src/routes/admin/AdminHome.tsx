// /admin: a card per admin section the signed-in role may open (src/routes/screens.ts).
import { ChevronRight } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useServices } from "@/services";
import { adminSectionsFor } from "../screens";

export default function AdminHome() {
  const { t } = useTranslation();
  const { me } = useServices();
  const sections = adminSectionsFor(me.role);
  return (
    <main className="flex-1 overflow-y-auto bg-muted/30">
      <div className="mx-auto max-w-5xl px-8 py-8">
        <h1 className="text-2xl font-semibold tracking-tight">{t("admin.title")}</h1>
        <p className="mt-1 text-sm text-muted-foreground">{t("admin.subtitle")}</p>
        {sections.length === 0 ? (
          <p className="mt-10 text-sm text-muted-foreground">{t("admin.none")}</p>
        ) : (
          <ul className="mt-6 grid grid-cols-1 gap-3 md:grid-cols-2 lg:grid-cols-3">
            {sections.map(({ href, label, icon: Icon, admin }) => (
              <li key={href}>
                <Link
                  to={href}
                  className="group flex h-full items-start gap-3 rounded-xl border border-border bg-background p-4 shadow-sm transition hover:border-primary/40 hover:shadow focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
                >
                  <span className="flex size-9 shrink-0 items-center justify-center rounded-lg bg-primary/10 text-primary">
                    <Icon className="size-5" aria-hidden />
                  </span>
                  <span className="min-w-0 flex-1">
                    <span className="flex items-center gap-1 font-medium">
                      {t(label)}
                      <ChevronRight className="size-4 text-muted-foreground transition group-hover:translate-x-0.5" aria-hidden />
                    </span>
                    <span className="mt-0.5 block text-sm text-muted-foreground">{t(admin!.description)}</span>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </div>
    </main>
  );
}
