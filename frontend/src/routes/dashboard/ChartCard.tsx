// A chart's frame: title, hint, and its loading, error and empty states, so each chart only draws.
import { BarChart3 } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ErrorState } from "@/components/ErrorState";
import { Card, CardHeader } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";
import { cn } from "@/lib/utils";

export function ChartCard({ title, hint, loading, error, empty, onRetry, children, footer, className, testId }: {
  title: string;
  hint?: string;
  loading?: boolean;
  error?: unknown;
  empty?: boolean;
  onRetry?: () => void;
  children: ReactNode;
  footer?: ReactNode;
  className?: string;
  testId?: string;
}) {
  const { t } = useTranslation();
  return (
    <Card className={cn("flex min-w-0 flex-col", className)} data-testid={testId}>
      <CardHeader title={title} description={hint} />
      <div className="flex-1 p-4">
        {error && loading ? (
          <ErrorState error={error} onRetry={onRetry} compact />
        ) : loading ? (
          <Skeleton className="h-56 w-full" />
        ) : empty ? (
          <div className="flex h-56 flex-col items-center justify-center gap-2 text-center">
            <span className="flex size-10 items-center justify-center rounded-full bg-muted text-muted-foreground" aria-hidden>
              <BarChart3 className="size-5" />
            </span>
            <p className="text-sm font-medium">{t("dashboard.charts.empty")}</p>
            <p className="max-w-xs text-xs text-muted-foreground">{t("dashboard.charts.emptyHint")}</p>
          </div>
        ) : (
          <div className="h-56 w-full">{children}</div>
        )}
      </div>
      {footer && !loading && !empty && <div className="border-t border-border px-4 py-2.5">{footer}</div>}
    </Card>
  );
}

/** Chart colours: the brand's indigo, then distinct hues that stay readable on white. */
export const COLORS = { primary: "#4f46e5", secondary: "#06b6d4", tertiary: "#f59e0b", success: "#16a34a", danger: "#dc2626", muted: "#cbd5e1" };

export const AXIS = { fontSize: 11, fill: "#64748b" };
