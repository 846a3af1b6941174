import { AlertTriangle } from "lucide-react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";

/** The backend's own list of what is wrong with a channel's settings (BAD_USER_INPUT's
 * `problems`), or the error's meaning for any other failure. */
export function serverProblems(error: unknown): string[] {
  const errors = (error as { graphQLErrors?: { extensions?: { problems?: unknown } }[] } | null)?.graphQLErrors ?? [];
  const problems = errors.flatMap((e) => (Array.isArray(e.extensions?.problems) ? e.extensions.problems : []));
  return problems.filter((p): p is string => typeof p === "string");
}

export function ServerProblems({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  const problems = serverProblems(error);
  const e = explain(error, t);
  return (
    <div role="alert" className="flex items-start gap-2.5 rounded-lg border border-red-200 bg-danger-soft px-3.5 py-3 text-sm">
      <AlertTriangle className="mt-0.5 size-4 shrink-0 text-red-600" aria-hidden />
      <div className="min-w-0">
        <p className="font-medium text-danger-strong">{problems.length ? t("admin-channels.form.problems") : e.message}</p>
        {problems.length > 0 ? (
          <ul className="mt-1 list-disc space-y-0.5 pl-4 text-danger-strong">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        ) : (
          <p className="mt-0.5 font-mono text-xs text-muted-foreground">
            {e.code}
            {e.detail ? ` · ${e.detail}` : ""}
          </p>
        )}
      </div>
    </div>
  );
}
