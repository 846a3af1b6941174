// The customer's custom attributes, edited in place: a value opens in a text box (Enter saves, Esc
// cancels), × removes, "Add attribute" takes a name and a value. Each change shows at once and is
// put back, with the server's reason, if setCustomerAttribute refuses it.
import { Plus, X } from "lucide-react";
import { useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import { SET_CUSTOMER_ATTRIBUTE } from "@/api/ops/inbox-plus";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { useServices } from "@/services";
import { attributeProblem, unsettled, withPending, type Attribute, type Pending } from "./attributes";

type Editing = { name: string; value: string; isNew: boolean } | null;

export function AttributeEditor({ customerId, attributes }: { customerId: string; attributes: readonly Attribute[] }) {
  const { t, i18n } = useTranslation();
  const { client } = useServices();
  const [pending, setPending] = useState<Pending>({});
  const [editing, setEditing] = useState<Editing>(null);
  const [problem, setProblem] = useState<{ field: "name" | "value" | "server"; message: string } | null>(null);
  // The server's answer lands in the cache: the changes it now shows are no longer pending.
  useEffect(() => {
    setPending((p) => {
      const left = unsettled(attributes, p); // only ever drops entries: same size, same changes
      return Object.keys(left).length === Object.keys(p).length ? p : left;
    });
  }, [attributes]);
  const shown = withPending(attributes, pending);

  const send = async (name: string, value: string | null) => {
    setPending((p) => ({ ...p, [name]: value }));
    const r = await client.mutation(SET_CUSTOMER_ATTRIBUTE, { customerId, name, value }).toPromise();
    if (r.error) {
      setPending((p) => Object.fromEntries(Object.entries(p).filter(([k]) => k !== name))); // back to what the server has
      setProblem({ field: "server", message: explain(r.error, t).message });
    }
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    const found = attributeProblem({ name: editing.name, value: editing.value });
    if (found) return setProblem({ field: found.field, message: t(`inbox-plus.${found.key}`) });
    const name = editing.name.trim();
    if (editing.isNew && shown.some((a) => a.name === name)) return setProblem({ field: "name", message: t("inbox-plus.attrErrors.taken") });
    setEditing(null);
    setProblem(null);
    void send(name, editing.value);
  };
  const cancel = () => {
    setEditing(null);
    setProblem(null);
  };
  const valueBox = (label: string) => (
    <Input
      autoFocus={!editing?.isNew}
      value={editing?.value ?? ""}
      onChange={(e) => setEditing((x) => x && { ...x, value: e.target.value })}
      onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), cancel())}
      aria-label={label}
      aria-invalid={problem?.field === "value" || undefined}
      className="h-7 text-xs"
    />
  );

  return (
    <div className="space-y-1.5" data-testid="custom-attributes">
      {shown.length > 0 && (
        <dl className="grid grid-cols-[auto_1fr_auto] items-center gap-x-2 gap-y-1 text-xs">
          {shown.map((a) =>
            editing && !editing.isNew && editing.name === a.name ? (
              <div key={a.name} className="contents" data-attribute-form={a.name}>
                <dt className="truncate text-muted-foreground">{a.name}</dt>
                <dd className="col-span-2">
                  <form className="flex items-center gap-1" onSubmit={save}>
                    {valueBox(t("inbox-plus.attrValueOf", { name: a.name }))}
                    <Button type="submit" size="sm" className="h-7 px-2 text-[11px]">{t("inbox-plus.attrSave")}</Button>
                  </form>
                </dd>
              </div>
            ) : (
              <div key={a.name} className="group contents" data-attribute={a.name} data-pending={a.pending || undefined}>
                <dt className="truncate text-muted-foreground" title={t("inbox-plus.attr.updated", { when: new Date(a.updatedAt).toLocaleString(i18n.language) })}>{a.name}</dt>
                <dd className="min-w-0">
                  <button
                    type="button"
                    className="block w-full truncate rounded px-1 text-right font-medium hover:bg-muted focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring data-[pending]:opacity-60"
                    data-pending={a.pending || undefined}
                    title={a.value}
                    aria-label={t("inbox-plus.attrEdit", { name: a.name, value: a.value })}
                    onClick={() => { setProblem(null); setEditing({ name: a.name, value: a.value, isNew: false }); }}
                  >
                    {a.value}
                  </button>
                </dd>
                <dd className="flex">
                  <Button variant="ghost" size="icon" className="size-5 opacity-50 hover:opacity-100 focus-visible:opacity-100" aria-label={t("inbox-plus.attrRemove", { name: a.name })} onClick={() => { setProblem(null); void send(a.name, null); }}>
                    <X className="size-3" aria-hidden />
                  </Button>
                </dd>
              </div>
            ),
          )}
        </dl>
      )}
      {editing?.isNew ? (
        <form className="space-y-1" onSubmit={save} data-attribute-form="new">
          <div className="flex gap-1">
            <Input
              autoFocus
              value={editing.name}
              onChange={(e) => setEditing((x) => x && { ...x, name: e.target.value })}
              onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), cancel())}
              placeholder={t("inbox-plus.attrNamePlaceholder")}
              aria-label={t("inbox-plus.attrName")}
              aria-invalid={problem?.field === "name" || undefined}
              className="h-7 w-28 text-xs"
            />
            {valueBox(t("inbox-plus.attrValue"))}
          </div>
          <div className="flex justify-end gap-1">
            <Button type="button" variant="ghost" size="sm" className="h-6 px-2 text-[11px]" onClick={cancel}>{t("inbox-plus.cancel")}</Button>
            <Button type="submit" size="sm" className="h-6 px-2 text-[11px]">{t("inbox-plus.attrSave")}</Button>
          </div>
        </form>
      ) : (
        <Button variant="ghost" size="sm" className="h-6 gap-1 px-1.5 text-[11px]" onClick={() => { setProblem(null); setEditing({ name: "", value: "", isNew: true }); }}>
          <Plus className="size-3" aria-hidden /> {t("inbox-plus.attrAdd")}
        </Button>
      )}
      {problem && <p role="alert" className="text-[11px] font-medium text-destructive">{problem.message}</p>}
    </div>
  );
}
