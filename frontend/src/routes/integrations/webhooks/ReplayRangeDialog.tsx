// Replay an endpoint's deliveries made in [since, until): new deliveries, the same events and bodies.
import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import { z } from "zod";
import type { AdminReplayWebhookDeliveriesMutation, AdminReplayWebhookDeliveriesMutationVariables } from "@/api/graphql.generated";
import { ADMIN_REPLAY_WEBHOOK_DELIVERIES } from "@/api/ops/integrations";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { serverProblem } from "../common";

// resolvers/outgoing_webhooks.replay: since < until.
export const rangeSchema = z
  .object({ since: z.string().min(1, "since"), until: z.string().min(1, "until") })
  .refine((v) => new Date(v.since) < new Date(v.until), { path: ["until"], message: "order" });
type Values = z.infer<typeof rangeSchema>;

export function ReplayRangeDialog({ endpointId, open, onOpenChange, onReplayed }: { endpointId: string; open: boolean; onOpenChange: (o: boolean) => void; onReplayed: (count: number) => void }) {
  const { t } = useTranslation();
  const [{ fetching, error }, replay] = useMutation<AdminReplayWebhookDeliveriesMutation, AdminReplayWebhookDeliveriesMutationVariables>(ADMIN_REPLAY_WEBHOOK_DELIVERIES);
  const form = useForm<Values>({ resolver: zodResolver(rangeSchema), defaultValues: { since: "", until: "" } });
  const msg = (m: string | undefined) => (m ? t(`integrations.webhooks.errors.${m}`) : undefined);
  const submit = form.handleSubmit(async (v) => {
    const r = await replay({ endpointId, since: new Date(v.since).toISOString(), until: new Date(v.until).toISOString() });
    if (r.data) {
      onOpenChange(false);
      form.reset();
      onReplayed(r.data.replayWebhookDeliveries);
    }
  });
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent title={t("integrations.webhooks.replayRange")} description={t("integrations.webhooks.replayRangeText")} closeLabel={t("integrations.common.close")}>
        <form onSubmit={submit} noValidate className="space-y-4">
          <div className="grid grid-cols-2 gap-3">
            <Field label={t("integrations.webhooks.since")} error={msg(form.formState.errors.since?.message)}>
              <Input type="datetime-local" {...form.register("since")} />
            </Field>
            <Field label={t("integrations.webhooks.until")} error={msg(form.formState.errors.until?.message)}>
              <Input type="datetime-local" {...form.register("until")} />
            </Field>
          </div>
          {error && (
            <p role="alert" className="text-sm text-destructive">
              {serverProblem(error, t)}
            </p>
          )}
          <div className="flex justify-end gap-2">
            <Button type="button" variant="outline" onClick={() => onOpenChange(false)}>
              {t("integrations.common.cancel")}
            </Button>
            <Button type="submit" disabled={fetching}>
              {t("integrations.webhooks.replayShort")}
            </Button>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  );
}
