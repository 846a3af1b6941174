// A searchable picker of a team, an agent or a template by name that stores its id (pickers.ts):
// type to filter (or to search the server, for templates), arrows and Enter or a click to pick.
import { ChevronsUpDown } from "lucide-react";
import { useId, useState, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import { cn } from "@/lib/utils";
import { filterItems, shownAs, type PickItem } from "./pickers";

export interface NamePickerProps {
  value: string;
  onChange: (id: string) => void;
  items: readonly PickItem[];
  /** The items are in: an id not among them names something deleted. */
  loaded: boolean;
  /** Searching on the server (the list is then what it answered for the text). */
  onQuery?: (text: string) => void;
  placeholder?: string;
  id?: string;
  "aria-invalid"?: boolean;
  "aria-describedby"?: string;
}

export function NamePicker({ value, onChange, items, loaded, onQuery, placeholder, id, ...aria }: NamePickerProps) {
  const { t } = useTranslation();
  const listId = useId();
  const [typed, setTyped] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const shown = shownAs(value, items, loaded);
  const text =
    shown.kind === "named" ? shown.name : shown.kind === "deleted" ? t("flows.picker.deleted", { id: shown.id }) : shown.kind === "loading" ? shown.id : "";
  const options = filterItems(items, typed ?? "");
  const listed = open && options.length > 0;

  const pick = (item: PickItem) => {
    onChange(item.id);
    setTyped(null);
    setOpen(false);
  };
  const type = (next: string) => {
    setTyped(next);
    setOpen(true);
    setActive(0);
    onQuery?.(next);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setOpen(true);
      if (options.length) setActive((a) => (listed ? (a + 1) % options.length : 0));
    } else if (e.key === "ArrowUp" && options.length) {
      e.preventDefault();
      setActive((a) => (a - 1 + options.length) % options.length);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (listed && options[active]) pick(options[active]);
    } else if (e.key === "Escape" && open) {
      e.stopPropagation();
      setOpen(false);
      setTyped(null);
    }
  };

  return (
    <div className="relative" data-picker-value={value || undefined} data-picker-state={shown.kind}>
      <input
        id={id}
        role="combobox"
        aria-expanded={listed}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={listed ? `${listId}-${active}` : undefined}
        {...aria}
        value={typed ?? text}
        placeholder={placeholder ?? t("flows.picker.search")}
        autoComplete="off"
        onChange={(e) => type(e.target.value)}
        onFocus={(e) => {
          e.currentTarget.select();
          setOpen(true);
        }}
        onBlur={() => {
          setOpen(false);
          setTyped(null);
        }}
        onKeyDown={onKeyDown}
        className={cn(
          "h-9 w-full rounded-md border border-input bg-background pl-2.5 pr-8 text-sm shadow-xs focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
          typed === null && shown.kind === "deleted" && "text-destructive",
        )}
      />
      <ChevronsUpDown className="pointer-events-none absolute right-2.5 top-2.5 size-4 text-muted-foreground" aria-hidden />
      {open && options.length > 0 && (
        <ul id={listId} role="listbox" aria-label={t("flows.picker.options")} className="absolute z-20 mt-1 max-h-56 w-full overflow-y-auto rounded-md border border-border bg-background p-1 shadow-lg">
          {options.map((item, i) => (
            <li
              key={item.id}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={item.id === value}
              data-active={i === active || undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(item);
              }}
              onMouseEnter={() => setActive(i)}
              className={cn("cursor-pointer rounded px-2 py-1.5 text-sm", i === active && "bg-muted")}
            >
              <span className={cn(item.id === value && "font-medium")}>{item.name}</span>
              {item.hint && <span className="block truncate text-xs text-muted-foreground">{item.hint}</span>}
            </li>
          ))}
        </ul>
      )}
      {open && !options.length && (
        <p role="status" className="absolute z-20 mt-1 w-full rounded-md border border-border bg-background px-3 py-2 text-sm text-muted-foreground shadow-lg">
          {loaded ? t("flows.picker.none") : t("flows.picker.loading")}
        </p>
      )}
    </div>
  );
}
