// Parts the templates screen's pages share: the page frame with its section links, who may edit.
import { FileText, MessageCircle } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { NavLink } from "react-router";
import { cn } from "@/lib/utils";
import { useServices } from "@/services";

export const canEdit = (role: string | null | undefined) => role === "ADMIN" || role === "SUPERVISOR";

export function useCanEdit() {
  return canEdit(useServices().me.role);
}

export function PageFrame({ title, subtitle, actions, children, sections = true }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; children: ReactNode; sections?: boolean }) {
  const { t } = useTranslation();
  const link = ({ isActive }: { isActive: boolean }) =>
    cn(
      "-mb-px flex items-center gap-1.5 border-b-2 border-transparent px-1 pb-2.5 text-sm font-medium text-muted-foreground transition hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
      isActive && "border-primary text-foreground",
    );
  return (
    <div className="mx-auto w-full max-w-6xl px-8 py-7">
      <div className="flex items-start justify-between gap-4">
        <div className="min-w-0">
          <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
          {subtitle && <p className="mt-1 text-sm text-muted-foreground">{subtitle}</p>}
        </div>
        {actions && <div className="flex shrink-0 items-center gap-2">{actions}</div>}
      </div>
      {sections && (
        <nav aria-label={t("templates.sections")} className="mt-5 flex gap-6 border-b border-border">
          <NavLink end to="/templates" className={link}>
            <FileText className="size-4" aria-hidden /> {t("templates.responseTemplates")}
          </NavLink>
          <NavLink to="/templates/whatsapp" className={link}>
            <MessageCircle className="size-4" aria-hidden /> {t("templates.whatsapp.title")}
          </NavLink>
        </nav>
      )}
      <div className="mt-6">{children}</div>
    </div>
  );
}

export function formatDate(iso: string | null | undefined, lang: string): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
}
