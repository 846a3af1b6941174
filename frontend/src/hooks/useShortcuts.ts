import { useEffect } from "react";

export type ShortcutKey = "j" | "k" | "r" | "e" | "/" | "?";

/** Is the key press meant for a text field (or a menu), not for the app's shortcuts? */
export function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable || !!target.closest("[role=menu],[role=listbox],[role=dialog]");
}

/** The inbox's single-key shortcuts; ignored while typing, or with a modifier held. */
export function useShortcuts(handlers: Partial<Record<ShortcutKey, () => void>>): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (typingInto(event.target)) return;
      const handler = handlers[event.key as ShortcutKey];
      if (!handler) return;
      event.preventDefault();
      handler();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [handlers]);
}
