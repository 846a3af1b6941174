// Transfer (to a person or a team's queue) or escalate (a tier up, priority at least HIGH, to a
// supervisor or the escalated queue), always with a reason: the timeline shows it.
import { zodResolver } from "@hookform/resolvers/zod";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { z } from "zod";
import { explain } from "@/api/errors";
import { ESCALATE, TRANSFER } from "@/api/operations";
import type { Conversation } from "@/api/types";
import { useDirectory } from "@/components/inbox/useDirectory";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Textarea } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { useServices } from "@/services";
import { useInbox } from "@/state/inbox";

const NONE = "none";
// The server's rules (resolvers/lifecycle.py): a reason; a transfer goes to a user or a team, not both.
export const transferSchema = z
  .object({ reason: z.string().trim().min(1, "reasonRequired").max(500, "reasonLong"), to: z.string() })
  .refine((v) => v.to !== NONE, { message: "pickTarget", path: ["to"] });
export const escalateSchema = z.object({ reason: z.string().trim().min(1, "reasonRequired").max(500, "reasonLong"), to: z.string() });
type Values = z.infer<typeof escalateSchema>;

export function TransferDialog({ c, mode, onClose }: { c: Conversation; mode: "transfer" | "escalate" | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { client, me } = useServices();
  const { people, teams, lead } = useDirectory();
  const form = useForm<Values>({ resolver: zodResolver(mode === "transfer" ? transferSchema : escalateSchema), defaultValues: { reason: "", to: NONE } });
  const { register, handleSubmit, control, formState, setError, reset } = form;
  const close = () => {
    reset();
    onClose();
  };
  const submit = handleSubmit(async ({ reason, to }) => {
    const [kind, id] = to.split(":");
    const variables =
      mode === "transfer"
        ? { id: c.id, reason, toUserId: kind === "user" ? id : null, toTeamId: kind === "team" ? id : null }
        : { id: c.id, reason, toUserId: kind === "user" ? id : null };
    const r = await client.mutation<Record<string, Conversation>>(mode === "transfer" ? TRANSFER : ESCALATE, variables).toPromise();
    if (r.error || !r.data) return setError("root", { message: explain(r.error, t).message });
    useInbox.getState().touch(Object.values(r.data)[0]);
    close();
  });
  const message = (key?: string) => (key ? t(`inbox-plus.form.${key}`) : undefined);
  const others = people.filter((p) => p.id !== me.id);

  return (
    <Dialog open={mode !== null} onOpenChange={(open) => !open && close()}>
      <DialogContent title={t(mode === "escalate" ? "inbox-plus.escalateTitle" : "inbox-plus.transferTitle")} description={t(mode === "escalate" ? "inbox-plus.escalateHint" : "inbox-plus.transferHint")} closeLabel={t("shortcuts.close")}>
        <form className="space-y-4" onSubmit={(e) => void submit(e)}>
          <Field label={t(mode === "escalate" ? "inbox-plus.escalateTo" : "inbox-plus.transferTo")} error={message(formState.errors.to?.message)}>
            <Controller
              control={control}
              name="to"
              render={({ field }) => (
                <Select value={field.value} onValueChange={field.onChange}>
                  <SelectTrigger className="h-9 text-sm" aria-label={t(mode === "escalate" ? "inbox-plus.escalateTo" : "inbox-plus.transferTo")}><SelectValue /></SelectTrigger>
                  <SelectContent>
                    <SelectItem value={NONE}>{mode === "escalate" ? t("inbox-plus.escalatedQueue") : t("inbox-plus.pickTarget")}</SelectItem>
                    {mode === "transfer" && teams.map((x) => <SelectItem key={x.id} value={`team:${x.id}`}>{t("inbox-plus.teamQueue", { name: x.name })}</SelectItem>)}
                    {(mode === "transfer" || lead) && others.map((p) => <SelectItem key={p.id} value={`user:${p.id}`}>{p.name}</SelectItem>)}
                  </SelectContent>
                </Select>
              )}
            />
          </Field>
          <Field label={t("inbox-plus.reason")} error={message(formState.errors.reason?.message)}>
            <Textarea rows={3} placeholder={t("inbox-plus.reasonPlaceholder")} {...register("reason")} />
          </Field>
          {formState.errors.root && <p role="alert" className="text-sm text-destructive">{formState.errors.root.message}</p>}
          <div className="flex justify-end gap-2">
            <Button type="button" variant="outline" onClick={close}>{t("inbox-plus.cancel")}</Button>
            <Button type="submit" disabled={formState.isSubmitting}>
              {t(mode === "escalate" ? "inbox-plus.escalate" : "inbox-plus.transfer")}
            </Button>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  );
}
