// A template body's text box: typing `{{` proposes the known variables (the built-in ones and the
// template's prompts), ↑/↓ and Enter or Tab put one in, closed with `}}`.
import { forwardRef, useId, useImperativeHandle, useLayoutEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Textarea } from "@/components/ui/input";
import { insertVariable, matchVariables, openPlaceholder, SAMPLE_VALUES, type Token } from "./logic";
import { SuggestionList, useSuggestions } from "./Suggestions";

export interface VariableTextareaProps {
  value: string;
  onChange: (value: string) => void;
  prompts: string[];
  rows?: number;
  placeholder?: string;
  id?: string;
  "aria-invalid"?: boolean;
  "aria-describedby"?: string;
  "aria-label"?: string;
  onBlur?: () => void;
}

export const VariableTextarea = forwardRef<HTMLTextAreaElement, VariableTextareaProps>(function VariableTextarea(
  { value, onChange, prompts, rows = 6, onBlur, ...rest },
  ref,
) {
  const { t } = useTranslation();
  const box = useRef<HTMLTextAreaElement>(null);
  useImperativeHandle(ref, () => box.current as HTMLTextAreaElement);
  const listId = useId().replace(/:/g, "");
  const [token, setToken] = useState<Token | null>(null);
  const matches = token ? matchVariables(token.query, prompts).slice(0, 12) : [];
  const pick = (index: number) => {
    const name = matches[index];
    const el = box.current;
    if (!name || !token || !el) return;
    const next = insertVariable(value, el.selectionStart, token, name);
    caret.current = next.caret;
    onChange(next.text);
    setToken(null);
  };
  // After the new value is in the box (not a frame later: typing goes on at once), the caret goes
  // after the inserted variable.
  const caret = useRef<number | null>(null);
  useLayoutEffect(() => {
    if (caret.current !== null && box.current) {
      box.current.setSelectionRange(caret.current, caret.current);
      caret.current = null;
    }
  }, [value]);
  const { active, setActive, onKey } = useSuggestions(matches.length, token !== null, pick, () => setToken(null));
  const track = (el: HTMLTextAreaElement) => setToken(openPlaceholder(el.value, el.selectionStart));

  return (
    <div className="relative">
      <Textarea
        ref={box}
        {...rest}
        value={value}
        rows={rows}
        spellCheck
        className="font-mono text-[13px] leading-relaxed"
        aria-controls={token ? listId : undefined}
        aria-activedescendant={token && matches.length ? `${listId}-${active}` : undefined}
        onChange={(e) => {
          onChange(e.target.value);
          track(e.target);
        }}
        onKeyDown={(e) => {
          onKey(e);
        }}
        onKeyUp={(e) => {
          if (!["ArrowDown", "ArrowUp", "Enter", "Tab", "Escape"].includes(e.key)) track(e.currentTarget);
        }}
        onClick={(e) => track(e.currentTarget)}
        onBlur={() => {
          setToken(null);
          onBlur?.();
        }}
      />
      {token && (
        <SuggestionList
          id={listId}
          label={t("templates.editor.variables")}
          header={t("templates.editor.variables")}
          items={matches.map((name) => ({
            id: name,
            primary: <code className="font-mono text-[13px]">{name}</code>,
            secondary: prompts.includes(name) ? t("templates.editor.promptVariable") : SAMPLE_VALUES[name] ? t("templates.editor.example", { value: SAMPLE_VALUES[name] }) : undefined,
          }))}
          active={active}
          onPick={pick}
          onHover={setActive}
          empty={t("templates.editor.noVariable")}
        />
      )}
    </div>
  );
});
