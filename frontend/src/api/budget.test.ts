import { describe, expect, it } from "vitest";
// @ts-expect-error a plain ES module script without types
import { BUDGET_KB, initialScripts } from "../../scripts/bundle-budget.mjs";

describe("bundle budget", () => {
  it("counts the entry script and what index.html preloads, not the lazy routes", () => {
    const html = `<script type="module" crossorigin src="/assets/index-abc.js"></script>
      <link rel="modulepreload" crossorigin href="/assets/vendor-def.js"><link rel="stylesheet" href="/assets/index.css">`;
    expect(initialScripts(html)).toEqual(["/assets/index-abc.js", "/assets/vendor-def.js"]);
    expect(BUDGET_KB).toBe(300);
  });
});
