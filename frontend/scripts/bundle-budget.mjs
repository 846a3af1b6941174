// The bundle budget, checked after every `vite build`: the JavaScript a browser loads before the
// first screen (the entry script and every chunk index.html preloads) must stay under
// BUDGET_KB gzipped. Routes are lazy chunks and do not count. Fails the build when over.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

export const BUDGET_KB = 300;

export function initialScripts(html) {
  const found = new Set();
  for (const m of html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)) found.add(m[1]);
  for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) found.add(m[1]);
  return [...found];
}

export function measure(distUrl) {
  const html = readFileSync(new URL("index.html", distUrl), "utf8");
  const files = initialScripts(html).map((src) => {
    const body = readFileSync(new URL(`.${src}`, distUrl));
    return { src, raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
  });
  return { files, gzip: files.reduce((n, f) => n + f.gzip, 0) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dist = new URL("../dist/", import.meta.url);
  const { files, gzip } = measure(dist);
  if (files.length === 0) {
    console.error("bundle budget: no entry script found in dist/index.html");
    process.exit(1);
  }
  for (const f of files) console.log(`  ${f.src.padEnd(48)} ${(f.gzip / 1024).toFixed(1).padStart(7)} KB gzip`);
  const kb = gzip / 1024;
  const verdict = kb < BUDGET_KB ? "within" : "OVER";
  console.log(`bundle budget: initial JS ${kb.toFixed(1)} KB gzipped, ${verdict} the ${BUDGET_KB} KB budget`);
  if (kb >= BUDGET_KB) process.exit(1);
}
