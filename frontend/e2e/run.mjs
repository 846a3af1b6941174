// End-to-end tests in a real browser: Debian's Chromium driven by playwright-core, against a real
// backend (e2e/backend.mjs). Skipped, saying why, when Chromium is missing. Screenshots of every
// screen go to E2E_SCREENSHOTS (default frontend/e2e/screenshots), printed at the end.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { startBackend } from "./backend.mjs";
import { scenarios as core } from "./scenarios.mjs";

// The inbox's scenarios, then each screen's (e2e/scenarios/<screen>.mjs, `export const scenarios`).
const folder = new URL("./scenarios/", import.meta.url);
const screens = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith(".mjs")).sort() : [];
const scenarios = [...core];
for (const file of screens) scenarios.push(...(await import(new URL(file, folder).href)).scenarios);

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.E2E_SCREENSHOTS || new URL("./screenshots/", import.meta.url).pathname;
const only = process.argv[2];

if (!existsSync(CHROMIUM)) {
  console.log(`e2e: SKIPPED: ${CHROMIUM} is missing (Debian: apt-get install -y chromium; .ci/run installs it)`);
  process.exit(0);
}
if (!existsSync(new URL("../dist/index.html", import.meta.url))) {
  console.error("e2e: the web app is not built (npm run build)");
  process.exit(1);
}

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
mkdirSync(SHOTS, { recursive: true });

const started = Date.now();
const log = (m) => console.log(`e2e: ${m}`);
const BULK = Number(process.env.E2E_BULK_CONVERSATIONS ?? 10_000);
const backend = await startBackend({ log, bulk: BULK });
backend.bulk = BULK;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});

let passed = 0;
let failed = 0;
try {
  for (const scenario of scenarios) {
    if (only && !scenario.name.includes(only)) continue;
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, locale: scenario.locale ?? "en-US" });
    const page = await context.newPage();
    const consoleErrors = [];
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    const t0 = Date.now();
    try {
      await scenario.run({ page, context, backend, shots: SHOTS, axeSource, log });
      if (consoleErrors.length) throw new Error(`uncaught errors in the page: ${consoleErrors.join(" | ")}`);
      passed += 1;
      log(`ok   ${scenario.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed += 1;
      log(`FAIL ${scenario.name}: ${error?.stack ?? error}`);
      await page.screenshot({ path: `${SHOTS}/FAILED-${scenario.name.replace(/\W+/g, "-")}.png` }).catch(() => undefined);
    } finally {
      await context.close();
    }
  }
} finally {
  await browser.close();
  await backend.stop();
}
log(`screenshots in ${SHOTS}`);
log(`${((Date.now() - started) / 1000).toFixed(0)} s in all`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
