// Conversion labels: a label that, put on a conversation, records a conversion worth its value.
import { zodResolver } from "@hookform/resolvers/zod";
import { Plus, Tag, Trash2 } from "lucide-react";
import { useState } from "react";
import { useFieldArray, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import type { AdminReportingSettingsQuery } from "@/api/graphql.generated";
import { ADMIN_SAVE_CONVERSION_LABELS } from "@/api/ops/admin-routing";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { IconAction } from "../IconAction";
import { useMutate } from "../useAdminData";
import { labelsSchema, type LabelsForm } from "./schemas";

const K = "admin-routing.reporting.conversions";
type Label = AdminReportingSettingsQuery["conversionLabels"][number];

export function ConversionsPanel({ labels, onSaved }: { labels: Label[]; onSaved: () => void }) {
  const { t } = useTranslation();
  const mutate = useMutate();
  const [failure, setFailure] = useState<unknown>(null);
  const { control, register, handleSubmit, formState, reset } = useForm<LabelsForm>({
    resolver: zodResolver(labelsSchema),
    defaultValues: { rows: labels.map((l) => ({ label: l.label, value: l.value, currency: l.currency })) },
  });
  const rows = useFieldArray({ control, name: "rows" });
  const message = (m?: string) => (m ? t(`${K}.errors.${m}`) : undefined);
  const submit = handleSubmit(async (v) => {
    setFailure(null);
    const clean = v.rows.map((r) => ({ label: r.label.trim().toLowerCase(), value: r.value.trim(), currency: r.currency.trim().toUpperCase() }));
    try {
      await mutate(ADMIN_SAVE_CONVERSION_LABELS, { labels: clean });
      reset({ rows: clean });
      onSaved();
    } catch (err) {
      setFailure(err);
    }
  });
  return (
    <Card>
      <CardHeader title={t(`${K}.title`)} description={t(`${K}.text`)} />
      <CardBody>
        <form onSubmit={(ev) => void submit(ev)} noValidate className="relative space-y-4">
          {failure != null && <div className="rounded-lg border border-red-200 bg-red-50/50"><ErrorState error={failure} compact /></div>}
          {rows.fields.length === 0 ? (
            <p className="flex items-center gap-2 rounded-lg border border-dashed border-border px-4 py-6 text-sm text-muted-foreground">
              <Tag className="size-4" aria-hidden /> {t(`${K}.empty`)}
            </p>
          ) : (
            <Table>
              <THead>
                <tr>
                  <Th>{t(`${K}.label`)}</Th>
                  <Th numeric>{t(`${K}.value`)}</Th>
                  <Th>{t(`${K}.currency`)}</Th>
                  <Th className="w-12"><span className="sr-only">{t("admin-routing.common.actions")}</span></Th>
                </tr>
              </THead>
              <TBody>
                {rows.fields.map((row, i) => {
                  const err = formState.errors.rows?.[i];
                  return (
                    <Tr key={row.id}>
                      <Td className="align-top">
                        <Input aria-label={`${t(`${K}.label`)} ${i + 1}`} aria-invalid={err?.label ? true : undefined} placeholder="purchase" {...register(`rows.${i}.label`)} />
                        {err?.label?.message && <p role="alert" className="mt-1 text-xs text-destructive">{message(err.label.message)}</p>}
                      </Td>
                      <Td className="w-40 align-top">
                        <Input inputMode="decimal" className="text-right tabular-nums" aria-label={`${t(`${K}.value`)} ${i + 1}`} aria-invalid={err?.value ? true : undefined} placeholder="49.90" {...register(`rows.${i}.value`)} />
                        {err?.value?.message && <p role="alert" className="mt-1 text-xs text-destructive">{message(err.value.message)}</p>}
                      </Td>
                      <Td className="w-32 align-top">
                        <Input maxLength={3} className="uppercase" aria-label={`${t(`${K}.currency`)} ${i + 1}`} aria-invalid={err?.currency ? true : undefined} {...register(`rows.${i}.currency`)} />
                        {err?.currency?.message && <p role="alert" className="mt-1 text-xs text-destructive">{message(err.currency.message)}</p>}
                      </Td>
                      <Td className="align-top">
                        <IconAction label={t(`${K}.remove`, { n: i + 1 })} onClick={() => rows.remove(i)}><Trash2 aria-hidden /></IconAction>
                      </Td>
                    </Tr>
                  );
                })}
              </TBody>
            </Table>
          )}
          <div className="flex justify-between">
            <Button type="button" variant="outline" onClick={() => rows.append({ label: "", value: "", currency: labels[0]?.currency ?? "USD" })}>
              <Plus aria-hidden /> {t(`${K}.add`)}
            </Button>
            <Button type="submit" disabled={formState.isSubmitting || !formState.isDirty}>
              {formState.isSubmitting ? t("admin-routing.common.saving") : t("admin-routing.common.save")}
            </Button>
          </div>
        </form>
      </CardBody>
    </Card>
  );
}
