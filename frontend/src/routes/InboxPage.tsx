import { lazy, Suspense, useCallback, useEffect, useMemo } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";
import { SET_STATUS } from "@/api/operations";
import { explain } from "@/api/errors";
import type { Conversation } from "@/api/types";
import { ConversationList } from "@/components/ConversationList";
import { PageSpinner } from "@/components/PageSpinner";
import { Kbd } from "@/components/ui/misc";
import { useShortcuts } from "@/hooks/useShortcuts";
import { useServices } from "@/services";
import { useInbox } from "@/state/inbox";
import { searching, useSearch } from "@/state/search";
import { useSelection } from "@/state/selection";
import { useUi } from "@/state/ui";

const ConversationPane = lazy(() => import("./ConversationPane"));

export default function InboxPage() {
  const { t } = useTranslation();
  const { id } = useParams();
  const navigate = useNavigate();
  const { client } = useServices();
  const items = useInbox((s) => s.items);
  const hits = useSearch((s) => s.hits);
  const filter = useUi((s) => s.filter);
  const inSearch = searching(filter.text);
  // j and k move through what the list shows: the inbox, or the search's results
  const visible = useMemo(() => (inSearch ? hits.map((h) => h.node) : items), [inSearch, hits, items]);
  const { text: _text, ...listFilter } = filter;
  const listKey = JSON.stringify(listFilter);
  useEffect(() => useSelection.getState().clear(), [listKey, inSearch]); // a new list: nothing ticked
  const { requestComposer, requestSearch, setHelp, showError } = useUi.getState();

  const move = useCallback(
    (step: number) => {
      if (visible.length === 0) return;
      const at = visible.findIndex((c) => c.id === id);
      const next = at === -1 ? 0 : Math.min(visible.length - 1, Math.max(0, at + step));
      navigate(`/inbox/${visible[next].id}`);
    },
    [visible, id, navigate],
  );
  const handlers = useMemo(
    () => ({
      j: () => move(1),
      k: () => move(-1),
      r: () => id && requestComposer(),
      e: () => {
        if (!id) return;
        void client.mutation<{ setConversationStatus: Conversation }>(SET_STATUS, { id, status: "RESOLVED", until: null }).toPromise().then((r) => {
          if (r.error) {
            const e = explain(r.error, t);
            showError(e.message, e.code);
          } else if (r.data) useInbox.getState().touch(r.data.setConversationStatus);
        });
      },
      "/": () => requestSearch(),
      "?": () => setHelp(true),
    }),
    [move, id, client, requestComposer, requestSearch, setHelp, showError, t],
  );
  useShortcuts(handlers);

  return (
    <>
      <ConversationList visible={visible} selectedId={id ?? null} />
      <main id="conversation" className="flex min-w-0 flex-1 bg-canvas" aria-label={t("nav.inbox")}>
        {id ? (
          <Suspense fallback={<PageSpinner />}>
            <ConversationPane key={id} id={id} />
          </Suspense>
        ) : (
          <div className="flex flex-1 flex-col items-center justify-center gap-3 text-center text-muted-foreground">
            <div className="rounded-full bg-muted p-4">
              <svg viewBox="0 0 24 24" className="size-8" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden>
                <path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12Z" />
              </svg>
            </div>
            <p className="text-base font-medium text-foreground">{t("conversation.pick")}</p>
            <p className="text-sm">
              {t("conversation.pickHint")} <Kbd>?</Kbd>
            </p>
          </div>
        )}
      </main>
    </>
  );
}
