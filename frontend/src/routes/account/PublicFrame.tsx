// The frame of the pages one opens from an e-mail or the sign-in page without being signed in:
// the brand panel of the sign-in page on the left, one card on the right.
import { ArrowLeft, MessagesSquare } from "lucide-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { LanguageSwitcher } from "@/components/LanguageSwitcher";

export function PublicFrame({ title, subtitle, icon, children, back = true }: { title: string; subtitle?: string; icon: ReactNode; children: ReactNode; back?: boolean }) {
  const { t } = useTranslation();
  return (
    <div className="grid min-h-full lg:grid-cols-2">
      <div className="hidden flex-col justify-between bg-gradient-to-br from-indigo-700 via-indigo-600 to-violet-600 p-10 text-white lg:flex">
        <div className="flex items-center gap-2 text-lg font-semibold">
          <MessagesSquare className="size-6" aria-hidden /> PyTake
        </div>
        <p className="max-w-md text-3xl font-semibold leading-tight">{t("login.tagline")}</p>
        <p className="text-sm text-indigo-100">{t("login.subtitle")}</p>
      </div>
      <main className="flex flex-col bg-canvas">
        <div className="flex items-center justify-between p-4">
          {back ? (
            <Link to="/login" className="inline-flex items-center gap-1.5 rounded-md px-2 py-1 text-sm text-muted-foreground hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
              <ArrowLeft className="size-4" aria-hidden /> {t("account.backToSignIn")}
            </Link>
          ) : <span />}
          <LanguageSwitcher />
        </div>
        <div className="flex flex-1 items-center justify-center p-6">
          <section className="w-full max-w-sm rounded-xl border bg-background p-8 shadow-sm" aria-labelledby="public-title">
            <span className="mb-5 flex size-10 items-center justify-center rounded-full bg-primary/10 text-primary [&_svg]:size-5" aria-hidden>
              {icon}
            </span>
            <h1 id="public-title" className="text-xl font-semibold">{title}</h1>
            {subtitle && <p className="mt-1 text-sm text-muted-foreground">{subtitle}</p>}
            <div className="mt-6">{children}</div>
          </section>
        </div>
      </main>
    </div>
  );
}

/** What a page shows instead of its form when its e-mailed link cannot be used. */
export function LinkProblem({ title, body, action }: { title: string; body: string; action?: ReactNode }) {
  return (
    <div role="alert" data-link-problem className="rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm">
      <p className="font-medium text-amber-900">{title}</p>
      <p className="mt-1 text-amber-800">{body}</p>
      {action && <div className="mt-3">{action}</div>}
    </div>
  );
}
