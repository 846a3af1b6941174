import { Loader2, Lock, Send } from "lucide-react";
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import type { ReplyTarget } from "@/api/types";
import { cn } from "@/lib/utils";
import { useUi } from "@/state/ui";
import { PlatformIcon, platformLabel } from "./PlatformIcon";
import { Button } from "./ui/button";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "./ui/select";

export interface ComposerProps {
  targets: ReplyTarget[];
  onSend: (text: string, mode: "reply" | "note", channelId: string | null) => Promise<boolean>;
  onTyping: () => void;
}

/** The reply box: reply or private note, the channel the reply goes through (the customer's other
 * platforms too, with why one is unavailable), Enter to send. The draft stays on failure. */
export function Composer({ targets, onSend, onTyping }: ComposerProps) {
  const { t } = useTranslation();
  const [mode, setMode] = useState<"reply" | "note">("reply");
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [target, setTarget] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  const focusComposer = useUi((s) => s.focusComposer);
  useEffect(() => {
    if (focusComposer) box.current?.focus();
  }, [focusComposer]);
  useEffect(() => {
    if (target === null && targets.length) setTarget(targets.find((x) => x.isDefault)?.channelId ?? targets[0].channelId);
  }, [targets, target]);

  const send = async () => {
    const text = draft.trim();
    if (!text || busy) return;
    setBusy(true);
    const ok = await onSend(text, mode, mode === "reply" ? target : null);
    setBusy(false);
    if (ok) setDraft("");
  };
  const onKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    } else if (event.key === "Escape") {
      event.currentTarget.blur(); // back to the list's shortcuts
    }
  };
  const note = mode === "note";

  return (
    <div className={cn("rounded-xl border bg-background shadow-sm focus-within:ring-2 focus-within:ring-ring/40", note && "border-amber-300 bg-amber-50/60")}>
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
      <textarea
        ref={box}
        value={draft}
        onChange={(e) => {
          setDraft(e.target.value);
          if (!note) onTyping();
        }}
        onKeyDown={onKey}
        rows={3}
        aria-label={t(note ? "composer.note" : "composer.reply")}
        placeholder={t(note ? "composer.notePlaceholder" : "composer.placeholder")}
        className="block w-full resize-none bg-transparent px-3 py-2.5 text-sm placeholder:text-muted-foreground focus:outline-none"
      />
      <div className="flex items-center justify-end px-2 pb-2">
        <Button size="sm" variant={note ? "outline" : "default"} onClick={() => void send()} disabled={busy || !draft.trim()}>
          {busy ? <Loader2 className="animate-spin" aria-hidden /> : note ? <Lock aria-hidden /> : <Send aria-hidden />}
          {t(note ? "composer.addNote" : "composer.send")}
        </Button>
      </div>
    </div>
  );
}
