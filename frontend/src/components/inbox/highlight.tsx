// Search matches, highlighted: the server matches words in any form and accent (stems, Portuguese
// and English), so a word is marked when, without accents and case, it starts with a searched word
// or shares its stem (the searched word less its last two letters, for words of five or more).
import { Fragment, type ReactNode } from "react";

export const fold = (s: string) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

export function terms(query: string): string[] {
  return fold(query).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 2);
}

export function isMatch(word: string, searched: string[]): boolean {
  const w = fold(word);
  return searched.some((t) => w.startsWith(t) || (t.length >= 5 && w.startsWith(t.slice(0, t.length - 2))) || (w.length >= 4 && t.startsWith(w)));
}

/** The text split into [piece, matched] runs. */
export function splitMatches(text: string, query: string): [string, boolean][] {
  const searched = terms(query);
  if (searched.length === 0) return [[text, false]];
  const out: [string, boolean][] = [];
  for (const piece of text.split(/([\p{L}\p{N}]+)/u)) {
    if (!piece) continue;
    const hit = /[\p{L}\p{N}]/u.test(piece) && isMatch(piece, searched);
    const last = out[out.length - 1];
    if (last && last[1] === hit) last[0] += piece;
    else out.push([piece, hit]);
  }
  return out;
}

/** A window of the text around its first match, so a long message shows why it was found. */
export function around(text: string, query: string, width = 90): string {
  const searched = terms(query);
  const words = [...text.matchAll(/[\p{L}\p{N}]+/gu)];
  const first = words.find((m) => isMatch(m[0], searched));
  if (!first || text.length <= width) return text;
  const start = Math.max(0, (first.index ?? 0) - 30);
  return `${start > 0 ? "…" : ""}${text.slice(start, start + width).trim()}${start + width < text.length ? "…" : ""}`;
}

export function Highlight({ text, query }: { text: string; query: string }): ReactNode {
  return splitMatches(text, query).map(([piece, hit], i) =>
    hit ? <mark key={i} className="rounded-sm bg-amber-200/80 px-0.5 text-foreground" data-match="">{piece}</mark> : <Fragment key={i}>{piece}</Fragment>,
  );
}
