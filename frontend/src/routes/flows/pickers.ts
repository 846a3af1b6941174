// What the name pickers (NamePicker.tsx) show and offer: a node stores an id (a team, an agent, a
// template); people see its name, and an id that names nothing any more reads "deleted (id)".
export interface PickItem {
  id: string;
  name: string;
  /** A second line: an e-mail, a shortcut. */
  hint?: string;
}

export type Shown =
  | { kind: "empty" }
  | { kind: "named"; name: string }
  | { kind: "loading"; id: string }
  | { kind: "deleted"; id: string };

/** Lower case without accents, so "joao" finds "João". */
export const fold = (text: string): string => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

/** The items whose name (or hint) holds every word typed, names starting with the text first. */
export function filterItems(items: readonly PickItem[], query: string): PickItem[] {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (!words.length) return [...items];
  const q = fold(query.trim());
  const hits = items.filter((item) => {
    const text = fold(`${item.name} ${item.hint ?? ""}`);
    return words.every((w) => text.includes(w));
  });
  return hits.sort((a, b) => Number(!fold(a.name).startsWith(q)) - Number(!fold(b.name).startsWith(q)));
}

/** How a stored id reads: its item's name, the id while the names load, else deleted. */
export function shownAs(value: string, items: readonly PickItem[], loaded: boolean): Shown {
  if (!value) return { kind: "empty" };
  const found = items.find((item) => item.id === value);
  if (found) return { kind: "named", name: found.name };
  return loaded ? { kind: "deleted", id: value } : { kind: "loading", id: value };
}
