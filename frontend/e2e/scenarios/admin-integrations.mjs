// Admin integrations: an API key is created, shown once, works as a Bearer, is revoked (then
// refused), and the audit log shows it all; webhooks, modules and alert rules open. Axe on each.
import { gql, operation } from "../backend.mjs";
import { axe, expectTrue, signIn } from "../scenarios.mjs";

const admin = (backend) => {
  const email = Object.keys(backend.credentials).find((e) => e.startsWith("admin"));
  return [email, backend.credentials[email]];
};
const unique = () => String(Date.now()).slice(-9);
const KEY_CHECK = "query KeyCheck { conversations(first: 1) { edges { node { id } } } }";

export const scenarios = [
  {
    name: "admin integrations: an API key shown once, used, revoked, audited",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = admin(backend);
      await signIn(page, backend.base, email, password);

      await page.goto(`${backend.base}/admin/api-keys`);
      await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();
      const name = `E2E key ${unique()}`;
      await page.getByRole("button", { name: "New API key" }).first().click();
      const dialog = page.getByRole("dialog", { name: "New API key" });
      await dialog.waitFor();
      await dialog.getByRole("button", { name: "Create key" }).click();
      await dialog.getByText("Give the key a name.").waitFor(); // the form's own checks first
      await dialog.getByText("Pick at least one scope.").waitFor();
      await dialog.getByLabel("Name").fill(name);
      await dialog.getByRole("checkbox", { name: "conversations:read" }).click();
      await dialog.getByRole("checkbox", { name: "audit:read" }).click();
      await page.screenshot({ path: `${shots}/admin-api-keys-create.png` });
      await axe(page, axeSource, "create API key");
      await dialog.getByRole("button", { name: "Create key" }).click();

      const shown = page.getByRole("dialog", { name: "Your new API key" });
      await shown.waitFor();
      const key = (await shown.locator("[data-secret]").textContent()).trim();
      expectTrue(/^pk_/.test(key), `the key shown is ${key}`);
      await shown.getByText("It is shown only this once").waitFor();
      await page.screenshot({ path: `${shots}/admin-api-keys-shown-once.png` });
      await axe(page, axeSource, "API key shown once");
      await shown.getByRole("button", { name: "I have copied it" }).click();
      await shown.waitFor({ state: "detached" });
      const row = page.locator(`[data-api-key="${name}"]`);
      await row.waitFor();
      await row.locator('[data-status="active"]').waitFor();
      expectTrue(!(await page.content()).includes(key), "the key is still on the page after it was closed");

      const used = await gql(backend.base, KEY_CHECK, {}, key);
      expectTrue(Array.isArray(used.data?.conversations?.edges), `the new key was refused: ${JSON.stringify(used)}`);
      const outOfScope = await gql(backend.base, "query { apiKeys { id } }", {}, key);
      expectTrue(outOfScope.errors?.[0]?.extensions?.code === "FORBIDDEN", `a field outside the key's scopes: ${JSON.stringify(outOfScope)}`);

      await page.reload();
      await row.locator("text=/\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}/").waitFor({ timeout: 10_000 }); // last used from an address
      await page.screenshot({ path: `${shots}/admin-api-keys.png` });
      await axe(page, axeSource, "API keys");

      await row.getByRole("button", { name: `Revoke ${name}` }).click();
      const confirm = page.getByRole("alertdialog");
      await confirm.getByText("cannot be undone").waitFor();
      await confirm.getByRole("button", { name: "Revoke" }).click();
      await row.locator('[data-status="revoked"]').waitFor();
      const refused = await gql(backend.base, KEY_CHECK, {}, key);
      expectTrue(!refused.data && refused.errors?.length, `the revoked key still works: ${JSON.stringify(refused)}`);
      // a registered document gets past the allow-list, so the answer says why the key is refused
      const named = await gql(backend.base, operation("ME"), {}, key);
      expectTrue(named.errors?.[0]?.extensions?.code === "UNAUTHENTICATED" && /revoked/.test(named.errors[0].message), `the revoked key: ${JSON.stringify(named)}`);

      await page.getByRole("link", { name: "Audit log" }).click();
      await page.getByRole("heading", { name: "Audit log", level: 1 }).waitFor();
      await page.getByLabel("Action").fill("api_key.");
      await page.getByRole("button", { name: "Apply" }).click();
      for (const action of ["api_key.create", "api_key.read", "api_key.revoke"]) {
        await page.locator(`[data-audit-action="${action}"]`).first().waitFor({ timeout: 10_000 });
      }
      const created = page.locator('[data-audit-action="api_key.create"]').first();
      await created.getByRole("button", { name: "Show what api_key.create changed" }).click();
      await page.locator("[data-audit-details]", { hasText: name }).waitFor();
      await page.screenshot({ path: `${shots}/admin-audit.png` });
      await axe(page, axeSource, "audit log");
    },
  },
];
