// Online or away (setMyPresence). Offline is not a choice: it is what closing the app makes you,
// and an open inbox brings you back online (resolvers/assignment.seen).
import { Circle, Moon } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import type { AccountSetPresenceMutation, AccountSetPresenceMutationVariables, AgentPresence } from "@/api/graphql.generated";
import { ACCOUNT_SET_PRESENCE } from "@/api/ops/account";
import { ErrorState } from "@/components/ErrorState";
import { cn } from "@/lib/utils";
import { Saved } from "./Section";

const CHOICES = [
  { value: "ONLINE", icon: Circle, tone: "text-emerald-500 fill-emerald-500" },
  { value: "AWAY", icon: Moon, tone: "text-amber-500" },
] as const;

export function PresenceCard({ current }: { current: AgentPresence | null }) {
  const { t } = useTranslation();
  const [presence, setPresence] = useState<AgentPresence | null>(current);
  const [saved, setSaved] = useState(false);
  const [{ fetching, error }, save] = useMutation<AccountSetPresenceMutation, AccountSetPresenceMutationVariables>(ACCOUNT_SET_PRESENCE);

  const choose = async (value: AgentPresence) => {
    if (value === presence || fetching) return;
    setSaved(false);
    const result = await save({ presence: value });
    if (result.data) {
      setPresence(result.data.setMyPresence);
      setSaved(true);
    }
  };

  return (
    <div className="space-y-4">
      {error && (
        <div className="rounded-md border border-red-200 bg-red-50">
          <ErrorState error={error} compact />
        </div>
      )}
      <fieldset>
        <legend className="mb-3 text-sm font-medium">{t("account.presence.legend")}</legend>
        <div className="grid gap-3 sm:grid-cols-2">
          {CHOICES.map(({ value, icon: Icon, tone }) => {
            const checked = presence === value;
            return (
              <label
                key={value}
                className={cn(
                  "flex cursor-pointer items-start gap-3 rounded-lg border p-4 transition-colors hover:bg-accent/50 has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-ring",
                  checked ? "border-primary bg-primary/5" : "border-border",
                )}
              >
                <input
                  type="radio"
                  name="presence"
                  value={value}
                  checked={checked}
                  disabled={fetching}
                  onChange={() => void choose(value)}
                  className="sr-only"
                />
                <Icon className={cn("mt-0.5 size-4 shrink-0", tone)} aria-hidden />
                <span>
                  <span className="block text-sm font-medium">{t(`account.presence.${value}`)}</span>
                  <span className="mt-0.5 block text-xs text-muted-foreground">{t(`account.presence.${value}_HINT`)}</span>
                </span>
              </label>
            );
          })}
        </div>
      </fieldset>
      {saved && presence ? (
        <Saved>{t("account.presence.saved", { status: t(`account.presence.${presence}`) })}</Saved>
      ) : presence === "OFFLINE" ? (
        <p className="text-xs text-muted-foreground">{t("account.presence.current", { status: t("account.presence.OFFLINE") })}</p>
      ) : null}
    </div>
  );
}
