// The conversation's right-hand panel: the conversation's labels, then the customer: who they are
// on every platform (split one off, merge another customer in), their attributes (edited in place),
// what else we know about them,
// their other conversations and, for admins, their data export and erasure.
import { GitMerge, Scissors } from "lucide-react";
import { useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useQuery } from "urql";
import { explain } from "@/api/errors";
import type { CustomerConversationsQuery } from "@/api/graphql.generated";
import { CUSTOMER_CONVERSATIONS } from "@/api/operations";
import { SPLIT_IDENTITY } from "@/api/ops/inbox-plus";
import type { Conversation, ConversationDetail } from "@/api/types";
import { PlatformIcon, platformLabel } from "@/components/PlatformIcon";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Avatar, Skeleton } from "@/components/ui/misc";
import { useNow } from "@/hooks/useNow";
import { listTime } from "@/lib/time";
import { useServices } from "@/services";
import { useUi } from "@/state/ui";
import { AttributeEditor } from "./AttributeEditor";
import { LabelEditor } from "./LabelEditor";
import { MergeDialog } from "./MergeDialog";
import { PrivacyActions } from "./PrivacyActions";

type Identity = ConversationDetail["customer"]["identities"][number];

function Section({ title, children, action }: { title: string; children: ReactNode; action?: ReactNode }) {
  return (
    <section className="border-b px-4 py-3.5 last:border-b-0" aria-label={title}>
      <div className="mb-2 flex items-center justify-between">
        <h3 className="text-[11px] font-semibold uppercase tracking-wide text-muted-foreground">{title}</h3>
        {action}
      </div>
      {children}
    </section>
  );
}

function OtherConversations({ customerId, currentId }: { customerId: string; currentId: string }) {
  const { t, i18n } = useTranslation();
  const now = useNow();
  const [{ data, error, fetching }] = useQuery<CustomerConversationsQuery>({ query: CUSTOMER_CONVERSATIONS, variables: { filter: { customerId } }, requestPolicy: "cache-and-network" });
  const others = (data?.conversations.edges ?? []).map((e) => e.node).filter((c) => c.id !== currentId);
  if (error) return <p className="text-xs text-destructive">{explain(error, t).message}</p>;
  if (!data && fetching) return <Skeleton className="h-10 w-full" />;
  if (others.length === 0) return <p className="text-xs text-muted-foreground">{t("inbox-plus.noOtherConversations")}</p>;
  return (
    <ul className="space-y-1" data-testid="other-conversations">
      {others.map((c) => (
        <li key={c.id}>
          <Link to={`/inbox/${c.id}`} className="flex items-center gap-2 rounded-md px-1.5 py-1 text-xs hover:bg-muted focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
            <PlatformIcon platform={c.platform} className="ring-0" />
            <span className="min-w-0 flex-1 truncate">{c.lastMessage?.text ?? platformLabel(c.platform)}</span>
            <Badge variant={c.status === "OPEN" ? "success" : "secondary"}>{t(`status.${c.status}`)}</Badge>
            <span className="shrink-0 text-[11px] text-muted-foreground">{listTime(c.lastMessageAt, now, i18n.language, t("time.now"))}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

/** `epoch` changes when the conversation's stream says its customer changed (another agent's edit,
 * a merge, a split): `detail` is read again by the caller, the other conversations here. */
export function CustomerPanel({ c, detail, reload, epoch = 0 }: { c: Conversation; detail: ConversationDetail | null; reload: () => void; epoch?: number }) {
  const { t, i18n } = useTranslation();
  const { client, me } = useServices();
  const showError = useUi((s) => s.showError);
  const [merging, setMerging] = useState(false);
  const [splitting, setSplitting] = useState<Identity | null>(null);
  const [version, setVersion] = useState(0); // bumped after a merge or split: the other conversations change
  const customer = detail?.customer;
  const name = c.customer.name || c.customer.phone || "—";
  const admin = me.role === "ADMIN";
  const changed = () => {
    reload();
    setVersion((v) => v + 1);
  };
  const split = async () => {
    if (!splitting) return;
    const r = await client.mutation(SPLIT_IDENTITY, { identityId: splitting.id }).toPromise();
    setSplitting(null);
    if (r.error) {
      const e = explain(r.error, t);
      return showError(e.message, e.code);
    }
    changed();
  };
  const attributes: [string, string | null | undefined][] = [
    [t("inbox-plus.attr.phone"), customer?.phone ?? c.customer.phone],
    [t("inbox-plus.attr.email"), customer?.email],
    [t("inbox-plus.attr.language"), detail?.language],
    [t("inbox-plus.attr.firstContact"), detail?.createdAt ? new Date(detail.createdAt).toLocaleDateString(i18n.language, { day: "numeric", month: "short", year: "numeric" }) : null],
    [t("inbox-plus.attr.escalation"), detail?.escalationLevel ? String(detail.escalationLevel) : null],
  ];

  return (
    <aside aria-label={t("inbox-plus.customerPanel")} className="hidden w-72 shrink-0 flex-col overflow-y-auto border-l bg-background xl:flex" data-testid="customer-panel">
      <div className="flex flex-col items-center gap-2 border-b px-4 py-4 text-center">
        <Avatar name={name} className="size-14 text-base" />
        <div className="min-w-0">
          <p className="truncate font-semibold" data-testid="customer-name">{name}</p>
          {c.customer.phone && <p className="text-xs text-muted-foreground">{c.customer.phone}</p>}
        </div>
      </div>
      <Section title={t("conversation.labels")}>
        <LabelEditor c={c} />
      </Section>
      <Section
        title={t("inbox-plus.identities")}
        action={
          customer && (
            <Button variant="ghost" size="sm" className="h-6 gap-1 px-1.5 text-[11px]" onClick={() => setMerging(true)}>
              <GitMerge className="size-3.5" aria-hidden /> {t("inbox-plus.mergeAction")}
            </Button>
          )
        }
      >
        {!customer ? (
          <Skeleton className="h-8 w-full" />
        ) : (
          <ul className="space-y-1.5" data-testid="identities">
            {customer.identities.map((i) => (
              <li key={i.id} className="group flex items-center gap-2 text-sm" data-identity={i.externalId}>
                <PlatformIcon platform={i.platform} className="ring-0" />
                <span className="min-w-0 flex-1">
                  <span className="block truncate text-xs font-medium">{i.displayName ?? i.externalId}</span>
                  <span className="block truncate text-[11px] text-muted-foreground">{platformLabel(i.platform)} · {i.phone ?? i.email ?? i.externalId}</span>
                </span>
                {customer.identities.length > 1 && (
                  <Button variant="ghost" size="icon" className="size-6 opacity-60 hover:opacity-100 focus-visible:opacity-100" onClick={() => setSplitting(i)} aria-label={t("inbox-plus.splitNamed", { name: i.displayName ?? i.externalId })} title={t("inbox-plus.split")}>
                    <Scissors className="size-3.5" aria-hidden />
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title={t("inbox-plus.attributes")}>
        {customer ? <AttributeEditor key={customer.id} customerId={customer.id} attributes={customer.attributes} /> : <Skeleton className="h-6 w-full" />}
        <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs" data-testid="attributes">
          {attributes.filter(([, v]) => v).map(([k, v]) => (
            <div key={k} className="contents">
              <dt className="text-muted-foreground">{k}</dt>
              <dd className="truncate text-right font-medium">{v}</dd>
            </div>
          ))}
        </dl>
      </Section>
      <Section title={t("inbox-plus.otherConversations")}>
        {customer ? <OtherConversations key={`${customer.id}-${version}-${epoch}`} customerId={customer.id} currentId={c.id} /> : <Skeleton className="h-8 w-full" />}
      </Section>
      {admin && customer && (
        <Section title={t("inbox-plus.privacy")}>
          <PrivacyActions customerId={customer.id} onErased={changed} />
        </Section>
      )}
      {customer && <MergeDialog customer={customer} open={merging} onOpenChange={setMerging} onMerged={changed} />}
      <AlertDialog open={splitting !== null} onOpenChange={(o) => !o && setSplitting(null)}>
        <AlertDialogContent
          title={t("inbox-plus.splitTitle")}
          description={t("inbox-plus.splitConfirm", { identity: splitting ? `${splitting.displayName ?? splitting.externalId} (${platformLabel(splitting.platform)})` : "" })}
          cancelLabel={t("inbox-plus.cancel")}
          confirmLabel={t("inbox-plus.split")}
          onConfirm={() => void split()}
        />
      </AlertDialog>
    </aside>
  );
}
