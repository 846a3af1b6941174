// Registers every GraphQL document of the web app by hash: writes persisted-operations.json
// ({sha256 hex of the exact text: {name, query}}), which the server's allow-list mode admits
// (GRAPHQL_ALLOWLIST=1). Run by `npm run build`; the file is committed, so a server never needs
// Node. src/api/operations.ts holds only string constants, so it is evaluated as plain JS.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const here = new URL("..", import.meta.url);
const source = readFileSync(new URL("src/api/operations.ts", here), "utf8");
const names = [...source.matchAll(/^(?:export )?const (\w+) =/gm)].map((m) => m[1]);
const values = new Function(`${source.replace(/^export /gm, "")}\nreturn { ${names.join(", ")} };`)();

const manifest = {};
for (const name of names.sort()) {
  const query = values[name];
  if (!/^\s*(query|mutation|subscription)\b/.test(query)) continue; // a fragment of fields
  manifest[createHash("sha256").update(query, "utf8").digest("hex")] = { name, query };
}
const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(new URL("persisted-operations.json", here), JSON.stringify(sorted, null, 2) + "\n");
console.log(`persisted-operations.json: ${Object.keys(sorted).length} operations`);
