// The price table: per platform and message kind, a price per message or per conversation, all in
// one currency (the server replaces the whole table).
import { zodResolver } from "@hookform/resolvers/zod";
import { Coins, Plus, Trash2 } from "lucide-react";
import { useState } from "react";
import { Controller, useFieldArray, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import type { AdminReportingSettingsQuery, Platform } from "@/api/graphql.generated";
import { ADMIN_SAVE_PLATFORM_PRICES } from "@/api/ops/admin-routing";
import { ErrorState } from "@/components/ErrorState";
import { platformLabel } from "@/components/PlatformIcon";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { Choice } from "../Choice";
import { IconAction } from "../IconAction";
import { useMutate } from "../useAdminData";
import { pricesSchema, type PricesForm } from "./schemas";

const K = "admin-routing.reporting.prices";
const PLATFORMS = ["WHATSAPP", "MESSENGER", "INSTAGRAM", "TELEGRAM", "DISCORD", "SLACK", "WEBCHAT", "SMS", "EMAIL", "LINE", "VIBER", "WECHAT"];
type Price = AdminReportingSettingsQuery["platformPrices"][number];

export function PricesPanel({ prices, onSaved }: { prices: Price[]; onSaved: () => void }) {
  const { t } = useTranslation();
  const mutate = useMutate();
  const [failure, setFailure] = useState<unknown>(null);
  const { control, register, handleSubmit, formState, reset } = useForm<PricesForm>({
    resolver: zodResolver(pricesSchema),
    defaultValues: {
      currency: prices[0]?.currency ?? "USD",
      rows: prices.map((p) => ({ platform: p.platform, kind: p.kind, unit: p.unit === "conversation" ? "conversation" : "message", price: p.price })),
    },
  });
  const rows = useFieldArray({ control, name: "rows" });
  const e = formState.errors;
  const message = (m?: string) => (m ? t(`${K}.errors.${m}`) : undefined);
  const submit = handleSubmit(async (v) => {
    setFailure(null);
    const currency = v.currency.trim().toUpperCase();
    try {
      await mutate(ADMIN_SAVE_PLATFORM_PRICES, {
        prices: v.rows.map((r) => ({ platform: r.platform as Platform, kind: r.kind.trim(), unit: r.unit, price: r.price.trim(), currency })),
      });
      reset({ ...v, currency });
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
          <Field label={t(`${K}.currency`)} error={message(e.currency?.message)} className="w-32">
            <Input maxLength={3} className="uppercase" autoComplete="off" {...register("currency")} />
          </Field>
          {rows.fields.length === 0 ? (
            <p className="flex items-center gap-2 rounded-lg border border-dashed border-border px-4 py-6 text-sm text-muted-foreground">
              <Coins className="size-4" aria-hidden /> {t(`${K}.empty`)}
            </p>
          ) : (
            <Table>
              <THead>
                <tr>
                  <Th>{t(`${K}.platform`)}</Th>
                  <Th>{t(`${K}.kind`)}</Th>
                  <Th>{t(`${K}.unit`)}</Th>
                  <Th numeric>{t(`${K}.price`)}</Th>
                  <Th className="w-12"><span className="sr-only">{t("admin-routing.common.actions")}</span></Th>
                </tr>
              </THead>
              <TBody>
                {rows.fields.map((row, i) => {
                  const err = e.rows?.[i];
                  return (
                    <Tr key={row.id}>
                      <Td className="w-44 align-top">
                        <Controller control={control} name={`rows.${i}.platform`} render={({ field }) => (
                          <Choice aria-label={`${t(`${K}.platform`)} ${i + 1}`} value={field.value} onChange={field.onChange} options={PLATFORMS.map((p) => ({ value: p, label: platformLabel(p) }))} />
                        )} />
                      </Td>
                      <Td className="align-top">
                        <Input aria-label={`${t(`${K}.kind`)} ${i + 1}`} aria-invalid={err?.kind ? true : undefined} placeholder="marketing" title={t(`${K}.kindHint`)} {...register(`rows.${i}.kind`)} />
                        {err?.kind?.message && <p role="alert" className="mt-1 text-xs text-destructive">{message(err.kind.message)}</p>}
                      </Td>
                      <Td className="w-40 align-top">
                        <Controller control={control} name={`rows.${i}.unit`} render={({ field }) => (
                          <Choice aria-label={`${t(`${K}.unit`)} ${i + 1}`} value={field.value} onChange={field.onChange} options={(["message", "conversation"] as const).map((u) => ({ value: u, label: t(`${K}.units.${u}`) }))} />
                        )} />
                      </Td>
                      <Td className="w-36 align-top">
                        <Input inputMode="decimal" className="text-right tabular-nums" aria-label={`${t(`${K}.price`)} ${i + 1}`} aria-invalid={err?.price ? true : undefined} placeholder="0.0125" {...register(`rows.${i}.price`)} />
                        {err?.price?.message && <p role="alert" className="mt-1 text-xs text-destructive">{message(err.price.message)}</p>}
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
            <Button type="button" variant="outline" onClick={() => rows.append({ platform: "WHATSAPP", kind: "", unit: "message", price: "" })}>
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
