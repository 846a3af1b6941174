import { FileText, Loader2, Lock, Send } from "lucide-react";
import { useContext, useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import type { TplPickQuery } from "@/api/graphql.generated";
import { TPL_PICK } from "@/api/ops/templates";
import type { ReplyTarget } from "@/api/types";
import { cn } from "@/lib/utils";
import { ServicesContext } from "@/services";
import { useUi } from "@/state/ui";
import { PlatformIcon, platformLabel } from "./PlatformIcon";
import { measure, requiredPrompts, slashToken, waComponents, waMissing, waPreview, type Token } from "./templates/logic";
import { ResponseTemplatePanel, useRendered, type PickedTemplate } from "./templates/ResponseTemplatePanel";
import { SuggestionList, useSuggestions } from "./templates/Suggestions";
import { useApprovedTemplates, WhatsappTemplatePanel, type WaTemplate } from "./templates/WhatsappTemplatePanel";
import { Button } from "./ui/button";
import { Kbd } from "./ui/misc";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "./ui/select";

/** What a send carries besides its text: one of our response templates, or an approved WhatsApp one. */
export interface SendExtra {
  responseTemplate?: { id: string; variables: Record<string, string> };
  template?: { name: string; language: string; components: Record<string, unknown>[] };
}

export interface ComposerProps {
  targets: ReplyTarget[];
  onSend: (text: string, mode: "reply" | "note", channelId: string | null, extra?: SendExtra) => Promise<boolean>;
  onTyping: () => void;
  /** Enables templates (renderTemplate needs the conversation). */
  conversationId?: string;
}

/** `/shortcut` matches from the server (templates(query:)), fetched as the shortcut is typed. */
function useShortcutMatches(token: Token | null) {
  const services = useContext(ServicesContext);
  const [matches, setMatches] = useState<PickedTemplate[]>([]);
  const [loading, setLoading] = useState(false);
  const query = token?.query ?? null;
  useEffect(() => {
    if (!services || query === null) return;
    let live = true;
    setLoading(true);
    const timer = setTimeout(() => {
      void services.client
        .query<TplPickQuery>(TPL_PICK, { query: query.length > 1 ? query : null }, { requestPolicy: "network-only" })
        .toPromise()
        .then((r) => {
          if (!live) return;
          setLoading(false);
          setMatches(r.data?.templates.edges.map((e) => e.node) ?? []);
        });
    }, 120);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [services, query]);
  return { matches: query === null ? [] : matches, loading };
}

/** The reply box: reply or private note, the channel the reply goes through (the customer's other
 * platforms too, with why one is unavailable), Enter to send. The draft stays on failure. Typing
 * `/` proposes our response templates (prompts to fill, a live preview); when WhatsApp's 24-hour
 * window is closed only its approved templates can be sent. The platform's length limit shows. */
export function Composer({ targets, onSend, onTyping, conversationId }: ComposerProps) {
  const { t, i18n } = useTranslation();
  const services = useContext(ServicesContext);
  const [mode, setMode] = useState<"reply" | "note">("reply");
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [target, setTarget] = useState<string | null>(null);
  const [slash, setSlash] = useState<Token | null>(null);
  const [picked, setPicked] = useState<PickedTemplate | null>(null);
  const [promptValues, setPromptValues] = useState<Record<string, string>>({});
  const [wa, setWa] = useState<WaTemplate | null>(null);
  const [waValues, setWaValues] = useState<Record<string, string>>({});
  const box = useRef<HTMLTextAreaElement>(null);
  const listId = useId().replace(/:/g, "");
  const focusComposer = useUi((s) => s.focusComposer);
  useEffect(() => {
    if (focusComposer) box.current?.focus();
  }, [focusComposer]);
  useEffect(() => {
    if (target === null && targets.length) setTarget(targets.find((x) => x.isDefault)?.channelId ?? targets[0].channelId);
  }, [targets, target]);

  const note = mode === "note";
  const current = targets.find((x) => x.channelId === target) ?? null;
  const templatesOn = Boolean(services && conversationId) && !note;
  const windowClosed = templatesOn && Boolean(current?.requiresTemplate);
  const { matches, loading: searching } = useShortcutMatches(templatesOn && !windowClosed && !picked ? slash : null);
  const { rendered, error: previewError, loading: rendering } = useRendered(services, windowClosed ? null : picked, conversationId, target, promptValues);
  const approved = useApprovedTemplates(services, target, windowClosed);

  const pick = (index: number) => {
    const chosen = matches[index];
    if (!chosen || !slash) return;
    setDraft((d) => (d.slice(0, slash.start) + d.slice(slash.start + slash.query.length)).trim());
    setSlash(null);
    setPromptValues({});
    setPicked(chosen);
  };
  const suggestions = useSuggestions(matches.length, slash !== null && templatesOn && !windowClosed, pick, () => setSlash(null));
  const track = (el: HTMLTextAreaElement) => setSlash(templatesOn ? slashToken(el.value, el.selectionStart) : null);

  const required = picked ? requiredPrompts(picked.body, picked.content.prompts.map((p) => p.name)) : [];
  const missingPrompts = required.filter((name) => !promptValues[name]?.trim());
  const limit = current && !note ? measure(draft, current.platform) : null;
  const showCount = limit !== null && limit.size > limit.max * 0.8;

  let ready: boolean;
  if (windowClosed) ready = wa !== null && waMissing(wa.parameters, waValues).length === 0;
  else if (picked && !note) ready = missingPrompts.length === 0 && !previewError && (rendered?.problems.length ?? 0) === 0;
  else ready = Boolean(draft.trim()) && !(limit?.over ?? false);

  const clearTemplates = () => {
    setPicked(null);
    setPromptValues({});
    setWa(null);
    setWaValues({});
  };
  const send = async () => {
    if (!ready || busy) return;
    setBusy(true);
    let ok: boolean;
    if (windowClosed && wa) {
      const components = waComponents(wa.parameters, waValues, wa.parameterFormat);
      ok = await onSend(waPreview(wa.components, waValues), "reply", target, { template: { name: wa.name, language: wa.language, components } });
    } else if (picked && !note) {
      const variables = Object.fromEntries(Object.entries(promptValues).filter(([, v]) => v.trim()).map(([k, v]) => [k, v.trim()]));
      ok = await onSend(rendered?.text ?? picked.body, "reply", target, { responseTemplate: { id: picked.id, variables } });
    } else {
      ok = await onSend(draft.trim(), mode, mode === "reply" ? target : null);
    }
    setBusy(false);
    if (ok) {
      if (picked || wa) clearTemplates();
      else setDraft("");
    }
  };
  const onKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggestions.onKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    } else if (event.key === "Escape") {
      event.currentTarget.blur(); // back to the list's shortcuts
    }
  };
  const panelKeys = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === "Enter" && !event.shiftKey && (event.target as HTMLElement).tagName === "INPUT") {
      event.preventDefault();
      void send();
    } else if (event.key === "Escape" && picked) {
      event.preventDefault();
      clearTemplates();
      requestAnimationFrame(() => box.current?.focus());
    }
  };

  const slashOpen = slash !== null && templatesOn && !windowClosed && !picked;
  return (
    <div className={cn("relative rounded-xl border bg-background shadow-sm focus-within:ring-2 focus-within:ring-ring/40", note && "border-amber-300 bg-amber-50/60")}>
      {slashOpen && (
        <SuggestionList
          id={listId}
          placement="above"
          label={t("templates.composer.matches")}
          header={searching && !matches.length ? t("templates.composer.searching") : t("templates.composer.matches")}
          empty={searching ? t("templates.composer.searching") : t("templates.composer.noMatch")}
          items={matches.map((m) => ({
            id: m.id,
            primary: (
              <span className="flex items-center gap-2">
                {m.name}
                {m.shortcut && <code className="rounded bg-muted px-1 font-mono text-[11px] font-normal text-muted-foreground">{m.shortcut}</code>}
              </span>
            ),
            secondary: m.body,
            aside: m.myUsageCount > 0 ? t("templates.composer.used", { count: m.myUsageCount }) : undefined,
          }))}
          active={suggestions.active}
          onPick={pick}
          onHover={suggestions.setActive}
        />
      )}
      <div className="flex items-center gap-1 border-b px-2 pt-1.5">
        <div role="tablist" aria-label={t("composer.label")} className="flex items-center gap-1">
        {(["reply", "note"] as const).map((m) => (
          <button
            key={m}
            role="tab"
            aria-selected={mode === m}
            onClick={() => setMode(m)}
            className={cn(
              "-mb-px flex items-center gap-1 border-b-2 border-transparent px-2.5 pb-1.5 text-xs font-medium text-muted-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
              mode === m && (m === "note" ? "border-amber-500 text-amber-900" : "border-primary text-foreground"),
            )}
          >
            {m === "note" && <Lock className="size-3" aria-hidden />}
            {t(m === "reply" ? "composer.reply" : "composer.note")}
          </button>
        ))}
        </div>
        {!note && targets.length > 0 && (
          <div className="ml-auto flex items-center gap-1.5 pb-1.5 text-xs text-muted-foreground">
            <Select value={target ?? undefined} onValueChange={setTarget}>
              <SelectTrigger
                className="h-7 w-auto min-w-44 max-w-80 border-transparent bg-muted/60"
                aria-label={`${t("composer.via")} ${targets.find((x) => x.channelId === target)?.channelName ?? ""}`}
              >
                <span className="shrink-0 text-muted-foreground">{t("composer.via")}</span>
                <SelectValue />
              </SelectTrigger>
              <SelectContent align="end" className="w-80">
                {targets.map((x) => (
                  <SelectItem key={x.channelId} value={x.channelId} disabled={!x.available}>
                    <span className="flex items-center gap-1.5">
                      <PlatformIcon platform={x.platform} />
                      {x.channelName}
                      <span className="text-muted-foreground">
                        {" "}· {platformLabel(x.platform)}
                        {x.requiresTemplate ? ` · ${t("composer.templateOnly")}` : ""}
                        {!x.available && x.reason ? ` · ${t("composer.unavailable", { reason: x.reason })}` : ""}
                      </span>
                    </span>
                  </SelectItem>
                ))}
              </SelectContent>
            </Select>
          </div>
        )}
      </div>
      {windowClosed ? (
        <div onKeyDown={panelKeys}>
          <WhatsappTemplatePanel
            list={approved.list}
            error={approved.error}
            selected={wa}
            onSelect={(w) => {
              setWa(w);
              setWaValues({});
            }}
            values={waValues}
            onValue={(k, v) => setWaValues((old) => ({ ...old, [k]: v }))}
          />
        </div>
      ) : picked && !note ? (
        <div onKeyDown={panelKeys}>
          <ResponseTemplatePanel
            template={picked}
            required={required}
            values={promptValues}
            onValue={(k, v) => setPromptValues((old) => ({ ...old, [k]: v }))}
            onRemove={() => {
              clearTemplates();
              requestAnimationFrame(() => box.current?.focus());
            }}
            rendered={rendered}
            previewError={previewError}
            loading={rendering}
            platform={current?.platform ?? null}
          />
        </div>
      ) : (
        <textarea
          ref={box}
          value={draft}
          onChange={(e) => {
            setDraft(e.target.value);
            track(e.target);
            if (!note) onTyping();
          }}
          onKeyDown={onKey}
          onKeyUp={(e) => {
            if (!["ArrowDown", "ArrowUp", "Enter", "Tab", "Escape"].includes(e.key)) track(e.currentTarget);
          }}
          onClick={(e) => track(e.currentTarget)}
          onBlur={() => setSlash(null)}
          rows={3}
          aria-label={t(note ? "composer.note" : "composer.reply")}
          aria-controls={slashOpen && matches.length ? listId : undefined}
          aria-activedescendant={slashOpen && matches.length ? `${listId}-${suggestions.active}` : undefined}
          placeholder={t(note ? "composer.notePlaceholder" : "composer.placeholder")}
          className="block w-full resize-none bg-transparent px-3 py-2.5 text-sm placeholder:text-muted-foreground focus:outline-none"
        />
      )}
      <div className="flex items-center justify-end gap-3 px-2 pb-2">
        {templatesOn && !windowClosed && !picked && (
          <span className="mr-auto flex items-center gap-1.5 pl-1 text-[11px] text-muted-foreground">
            <FileText className="size-3.5" aria-hidden /> {t("templates.composer.hint")} <Kbd>/</Kbd>
          </span>
        )}
        {picked && !note && missingPrompts.length > 0 && (
          <span className="mr-auto pl-1 text-[11px] text-muted-foreground">{t("templates.composer.fill", { count: missingPrompts.length })}</span>
        )}
        {showCount && limit && !picked && !windowClosed && (
          <span className={cn("text-[11px] tabular-nums", limit.over ? "font-semibold text-destructive" : "text-muted-foreground")} role={limit.over ? "alert" : undefined} data-testid="composer-count">
            {limit.over
              ? t("templates.composer.tooLong", { platform: platformLabel(current!.platform), max: limit.max.toLocaleString(i18n.language), unit: t(`templates.composer.unit.${limit.unit}`) })
              : t(limit.unit === "bytes" ? "templates.limit.bytes" : "templates.limit.chars", { size: limit.size.toLocaleString(i18n.language), max: limit.max.toLocaleString(i18n.language) })}
          </span>
        )}
        <Button size="sm" variant={note ? "outline" : "default"} onClick={() => void send()} disabled={busy || !ready}>
          {busy ? <Loader2 className="animate-spin" aria-hidden /> : note ? <Lock aria-hidden /> : <Send aria-hidden />}
          {t(note ? "composer.addNote" : picked || windowClosed ? "templates.composer.sendTemplate" : "composer.send")}
        </Button>
      </div>
    </div>
  );
}
