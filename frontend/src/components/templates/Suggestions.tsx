// A list of suggestions under (or above) a text box that keeps the focus: the box moves the active
// option with ↑/↓ and picks it with Enter or Tab (useSuggestions), a click picks one too.
import { useState, type KeyboardEvent, type ReactNode } from "react";
import { cn } from "@/lib/utils";

export interface Suggestion {
  id: string;
  primary: ReactNode;
  secondary?: ReactNode;
  aside?: ReactNode;
}

export function SuggestionList({
  id,
  label,
  items,
  active,
  onPick,
  onHover,
  placement = "below",
  header,
  empty,
}: {
  id: string;
  label: string;
  items: Suggestion[];
  active: number;
  onPick: (index: number) => void;
  onHover: (index: number) => void;
  placement?: "below" | "above";
  header?: ReactNode;
  empty?: ReactNode;
}) {
  return (
    <div
      className={cn(
        "absolute left-0 z-40 w-full max-w-md overflow-hidden rounded-lg border border-border bg-popover text-popover-foreground shadow-lg",
        placement === "below" ? "top-full mt-1" : "bottom-full mb-1.5",
      )}
      data-testid={`${id}-popover`}
    >
      {header && <div className="border-b border-border bg-muted/50 px-3 py-1.5 text-[11px] font-medium uppercase tracking-wide text-muted-foreground">{header}</div>}
      {items.length === 0 ? (
        <div className="px-3 py-3 text-sm text-muted-foreground">{empty}</div>
      ) : (
        <ul id={id} role="listbox" aria-label={label} className="max-h-64 overflow-y-auto py-1">
          {items.map((item, index) => (
            <li
              key={item.id}
              id={`${id}-${index}`}
              role="option"
              aria-selected={index === active}
              onMouseDown={(e) => {
                e.preventDefault(); // the text box keeps the focus
                onPick(index);
              }}
              onMouseEnter={() => onHover(index)}
              className={cn("flex cursor-pointer items-start gap-3 px-3 py-2 text-sm", index === active && "bg-accent text-accent-foreground")}
            >
              <span className="min-w-0 flex-1">
                <span className="block truncate font-medium">{item.primary}</span>
                {item.secondary && <span className="block truncate text-xs text-muted-foreground">{item.secondary}</span>}
              </span>
              {item.aside && <span className="shrink-0 text-xs text-muted-foreground">{item.aside}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The active option of a suggestion list and the keys that move and pick it. `onKey` returns true
 * when it handled the key (the text box must then not act on it). */
export function useSuggestions(count: number, open: boolean, pick: (index: number) => void, close: () => void) {
  const [active, setActive] = useState(0);
  const clamped = count ? Math.min(active, count - 1) : 0;
  const onKey = (event: KeyboardEvent): boolean => {
    if (!open) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!count) return false;
      event.preventDefault();
      setActive((clamped + (event.key === "ArrowDown" ? 1 : count - 1)) % count);
      return true;
    }
    if ((event.key === "Enter" || event.key === "Tab") && count && !event.shiftKey) {
      event.preventDefault();
      pick(clamped);
      setActive(0);
      return true;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
      setActive(0);
      return true;
    }
    return false;
  };
  return { active: clamped, setActive, onKey };
}
