// @mentions in internal notes: typing "@" and part of a name in the note box offers the people who
// can be told (the server notifies "@Full Name" and "@mailbox"); ↑/↓ pick, Enter or Tab insert,
// Escape closes. It wraps the composer and works on its note box from outside (the composer keeps
// its own draft): the picked name is written through the box's input event, as typing would.
import { useId, useRef, useState, type ReactNode, type KeyboardEvent as ReactKeyboardEvent, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { Avatar } from "@/components/ui/misc";
import { cn } from "@/lib/utils";
import { fold } from "@/components/inbox/highlight";

/** The part of a name typed after "@" just before the caret, or null when not writing a mention. */
export function mentionQuery(text: string, caret: number): string | null {
  const m = /(?:^|\s)@([\p{L}\p{N}._-]{0,30}(?: [\p{L}\p{N}._-]{0,30})?)$/u.exec(text.slice(0, caret));
  return m ? m[1] : null;
}

/** The text with the mention being typed replaced by "@Name ", and where the caret goes. */
export function applyMention(text: string, caret: number, name: string): { text: string; caret: number } {
  const query = mentionQuery(text, caret) ?? "";
  const start = caret - query.length - 1;
  const inserted = `@${name} `;
  const after = text.slice(caret).replace(/^ /, "");
  return { text: text.slice(0, start) + inserted + after, caret: start + inserted.length };
}

export function matchPeople(people: string[], query: string, max = 6): string[] {
  const q = fold(query.trim());
  return people.filter((p) => !q || fold(p).split(/\s+/).some((w) => w.startsWith(q)) || fold(p).startsWith(q)).slice(0, max);
}

const setValue = (box: HTMLTextAreaElement, value: string) => {
  Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value")?.set?.call(box, value);
  box.dispatchEvent(new Event("input", { bubbles: true }));
};

export function MentionAssist({ people, isNoteBox, children }: { people: string[]; isNoteBox: (box: HTMLTextAreaElement) => boolean; children: ReactNode }) {
  const { t } = useTranslation();
  const listId = useId();
  const [state, setState] = useState<{ box: HTMLTextAreaElement; options: string[]; active: number } | null>(null);
  const last = useRef<HTMLTextAreaElement | null>(null);

  const close = () => {
    if (last.current) for (const a of ["aria-controls", "aria-activedescendant", "aria-autocomplete"]) last.current.removeAttribute(a);
    setState(null);
  };
  const update = (event: SyntheticEvent) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !isNoteBox(box)) return state && close();
    const query = mentionQuery(box.value, box.selectionStart ?? box.value.length);
    const options = query === null ? [] : matchPeople(people, query);
    if (options.length === 0) return state && close();
    last.current = box;
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", listId);
    setState((s) => ({ box, options, active: s && s.options[s.active] ? Math.max(0, options.indexOf(s.options[s.active])) : 0 }));
  };
  const pick = (name: string) => {
    if (!state) return;
    const { box } = state;
    const next = applyMention(box.value, box.selectionStart ?? box.value.length, name);
    close();
    setValue(box, next.text);
    box.focus();
    box.setSelectionRange(next.caret, next.caret);
  };
  const onKeyDownCapture = (event: ReactKeyboardEvent) => {
    if (!state || event.target !== state.box) return;
    const move = (step: number) => setState({ ...state, active: (state.active + step + state.options.length) % state.options.length });
    const handled: Record<string, () => void> = {
      ArrowDown: () => move(1),
      ArrowUp: () => move(-1),
      Enter: () => pick(state.options[state.active]),
      Tab: () => pick(state.options[state.active]),
      Escape: close,
    };
    const run = handled[event.key];
    if (!run || event.shiftKey) return;
    event.preventDefault();
    event.stopPropagation(); // the composer neither sends (Enter) nor leaves the box (Escape)
    run();
  };
  if (state) state.box.setAttribute("aria-activedescendant", `${listId}-${state.active}`);

  return (
    <div className="relative" onInput={update} onKeyUp={(e) => ["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key) && update(e)} onClick={update} onKeyDownCapture={onKeyDownCapture} onBlur={(e) => !e.currentTarget.contains(e.relatedTarget as Node | null) && state && close()}>
      {state && (
        <ul id={listId} role="listbox" aria-label={t("inbox-plus.mentionPeople")} className="absolute bottom-full left-3 z-30 mb-1 w-64 overflow-hidden rounded-lg border bg-popover py-1 shadow-lg" data-testid="mentions">
          {state.options.map((name, i) => (
            <li key={name} id={`${listId}-${i}`} role="option" aria-selected={i === state.active} data-mention-option={name}
              onMouseDown={(e) => { e.preventDefault(); pick(name); }}
              className={cn("flex cursor-pointer items-center gap-2 px-2.5 py-1.5 text-sm", i === state.active && "bg-muted")}>
              <Avatar name={name} className="size-6 text-[10px]" /> {name}
            </li>
          ))}
        </ul>
      )}
      {children}
    </div>
  );
}
