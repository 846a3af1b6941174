// /account (every role, from the account menu): one's name, availability and password.
import { useQuery } from "urql";
import { useTranslation } from "react-i18next";
import type { AccountMeQuery } from "@/api/graphql.generated";
import { ACCOUNT_ME } from "@/api/ops/account";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Avatar, Skeleton } from "@/components/ui/misc";
import { PasswordCard } from "./PasswordCard";
import { PresenceCard } from "./PresenceCard";
import { ProfileCard } from "./ProfileCard";
import { Section } from "./Section";

export default function AccountPage() {
  const { t } = useTranslation();
  const [{ data, fetching, error }, reload] = useQuery<AccountMeQuery>({ query: ACCOUNT_ME });
  const me = data?.me;
  return (
    <main className="min-w-0 flex-1 overflow-y-auto bg-canvas" aria-labelledby="account-title">
      <div className="mx-auto max-w-5xl px-8 py-8">
        <header className="flex items-center gap-4 border-b border-border pb-6">
          {me ? <Avatar name={me.name} className="size-14 text-lg" /> : <Skeleton className="size-14 rounded-full" />}
          <div className="min-w-0">
            <h1 id="account-title" className="text-xl font-semibold">{t("account.title")}</h1>
            {me ? (
              <p className="mt-0.5 flex items-center gap-2 text-sm text-muted-foreground">
                <span className="truncate">{me.email}</span>
                {me.role && <Badge variant="secondary">{t(`account.roles.${me.role}`)}</Badge>}
              </p>
            ) : (
              <p className="mt-0.5 text-sm text-muted-foreground">{t("account.subtitle")}</p>
            )}
          </div>
        </header>
        {error && !me ? (
          <div className="mt-8 rounded-xl border border-border bg-background">
            <ErrorState error={error} onRetry={() => reload({ requestPolicy: "network-only" })} />
          </div>
        ) : !me || fetching && !data ? (
          <div className="mt-8 space-y-6" role="status" aria-label={t("account.loading")}>
            {[0, 1, 2].map((i) => <Skeleton key={i} className="h-40 w-full rounded-xl" />)}
          </div>
        ) : (
          <div className="divide-y divide-border">
            <Section title={t("account.profile.title")} description={t("account.profile.description")}>
              <ProfileCard me={me} />
            </Section>
            <Section title={t("account.presence.title")} description={t("account.presence.description")}>
              <PresenceCard current={me.presence ?? null} />
            </Section>
            <Section title={t("account.password.title")} description={t("account.password.description")}>
              <PasswordCard />
            </Section>
          </div>
        )}
      </div>
    </main>
  );
}
