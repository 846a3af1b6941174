// Skills as chips: type and press Enter (or comma) to add, pick from the skills and topics already
// in use (knownSkills) with the arrow keys, Backspace on an empty field removes the last one.
import { X } from "lucide-react";
import { useId, useState, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import { addSkill, MAX_SKILLS, normaliseSkill, suggestSkills } from "@/routes/admin-people/logic";

export function SkillsInput({ value, onChange, known, id, describedBy }: { value: string[]; onChange: (skills: string[]) => void; known: readonly string[]; id?: string; describedBy?: string }) {
  const { t } = useTranslation();
  const listId = useId();
  const [typed, setTyped] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const typedSkill = normaliseSkill(typed);
  const suggestions = suggestSkills(known, value, typed);
  const options = typedSkill && !suggestions.includes(typedSkill) && !value.includes(typedSkill) ? [...suggestions, typedSkill] : suggestions;
  const full = value.length >= MAX_SKILLS;
  const shown = open && options.length > 0 && !full;

  const add = (skill: string) => {
    onChange(addSkill(value, skill));
    setTyped("");
    setActive(0);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown" && options.length) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a + 1) % options.length);
    } else if (e.key === "ArrowUp" && options.length) {
      e.preventDefault();
      setActive((a) => (a - 1 + options.length) % options.length);
    } else if (e.key === "Enter" || e.key === ",") {
      if (!typedSkill && !(shown && e.key === "Enter")) return;
      e.preventDefault();
      add(shown && options[active] ? options[active] : typed);
    } else if (e.key === "Backspace" && !typed && value.length) {
      onChange(value.slice(0, -1));
    } else if (e.key === "Escape" && shown) {
      e.stopPropagation();
      setOpen(false);
    }
  };

  return (
    <div className="relative">
      <div className="flex min-h-9 flex-wrap items-center gap-1.5 rounded-md border border-input bg-background px-2 py-1.5 shadow-xs focus-within:ring-2 focus-within:ring-ring">
        {value.map((skill) => (
          <span key={skill} data-skill={skill} className="inline-flex items-center gap-1 rounded-full bg-primary/10 py-0.5 pl-2.5 pr-1 text-xs font-medium text-primary">
            {skill}
            <button type="button" onClick={() => onChange(value.filter((s) => s !== skill))} aria-label={t("people.workload.removeSkill", { skill })} className="rounded-full p-0.5 hover:bg-primary/15 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
              <X className="size-3" aria-hidden />
            </button>
          </span>
        ))}
        <input
          id={id}
          role="combobox"
          aria-expanded={shown}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-describedby={describedBy}
          aria-activedescendant={shown ? `${listId}-${active}` : undefined}
          value={typed}
          disabled={full}
          placeholder={full ? "" : t("people.workload.addSkill")}
          onChange={(e) => {
            setTyped(e.target.value.replace(/,/g, ""));
            setOpen(true);
            setActive(0);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setOpen(false)}
          onKeyDown={onKeyDown}
          className="min-w-28 flex-1 bg-transparent py-0.5 text-sm outline-none placeholder:text-muted-foreground"
        />
      </div>
      {shown && (
        <ul id={listId} role="listbox" aria-label={t("people.workload.suggestions")} className="absolute z-10 mt-1 max-h-52 w-full overflow-y-auto rounded-md border border-border bg-background p-1 shadow-lg">
          {options.map((option, i) => (
            <li
              key={option}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                add(option);
              }}
              onMouseEnter={() => setActive(i)}
              className={`cursor-pointer rounded px-2 py-1.5 text-sm ${i === active ? "bg-muted" : ""}`}
            >
              {option === typedSkill && !suggestions.includes(option) ? t("people.workload.create", { skill: option }) : option}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
