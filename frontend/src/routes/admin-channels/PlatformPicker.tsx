// Step 1 of a new channel: which platform. Each card says how the platform learns our URL.
import { ChevronRight } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { PlatformIcon, platformLabel } from "@/components/PlatformIcon";
import { AdminFrame } from "@/components/AdminFrame";
import { Button } from "@/components/ui/button";
import { PLATFORMS } from "./platforms";

export function PlatformPicker() {
  const { t } = useTranslation();
  return (
    <AdminFrame
      title={t("admin-channels.pick.title")}
      description={t("admin-channels.pick.subtitle")}
      actions={
        <Button asChild variant="outline">
          <Link to="/admin/channels">{t("admin-channels.form.cancel")}</Link>
        </Button>
      }
    >
      <ul className="grid grid-cols-1 gap-3 md:grid-cols-2 xl:grid-cols-3" aria-label={t("admin-channels.pick.title")}>
        {PLATFORMS.map(({ platform, webhook }) => (
          <li key={platform}>
            <Link
              to={`/admin/channels/new/${platform.toLowerCase()}`}
              data-platform={platform}
              className="group flex h-full items-start gap-3 rounded-xl border border-border bg-background p-4 shadow-sm transition hover:border-primary/40 hover:shadow focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
            >
              <PlatformIcon platform={platform} className="size-9 text-xs ring-0" />
              <span className="min-w-0 flex-1">
                <span className="flex items-center gap-1 font-medium">
                  {platformLabel(platform)}
                  <ChevronRight className="size-4 text-muted-foreground transition group-hover:translate-x-0.5" aria-hidden />
                </span>
                <span className="mt-0.5 block text-sm text-muted-foreground">{t(`admin-channels.about.${platform}`)}</span>
                <span className="mt-2 block text-xs font-medium text-muted-foreground/90">{t(`admin-channels.pick.${webhook}`)}</span>
              </span>
            </Link>
          </li>
        ))}
      </ul>
    </AdminFrame>
  );
}
