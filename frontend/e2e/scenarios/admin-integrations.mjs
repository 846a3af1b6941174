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
      await page.screenshot({ path: `${shots}/admin-api-keys-create.png`, animations: "disabled" });
      await axe(page, axeSource, "create API key");
      await dialog.getByRole("button", { name: "Create key" }).click();

      const shown = page.getByRole("dialog", { name: "Your new API key" });
      await shown.waitFor();
      const key = (await shown.locator("[data-secret]").textContent()).trim();
      expectTrue(/^pk_/.test(key), `the key shown is ${key}`);
      await shown.getByText("It is shown only this once").waitFor();
      await page.screenshot({ path: `${shots}/admin-api-keys-shown-once.png`, animations: "disabled" });
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
      await page.screenshot({ path: `${shots}/admin-api-keys.png`, animations: "disabled" });
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
      await page.screenshot({ path: `${shots}/admin-audit.png`, animations: "disabled" });
      await axe(page, axeSource, "audit log");
    },
  },
];

/** A receiver for outgoing webhooks on a loopback port: answers 200 and keeps what it got. */
async function receiver() {
  const { createServer } = await import("node:http");
  const got = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/pytake`, got, close: () => new Promise((r) => server.close(r)) };
}

scenarios.push(
  {
    name: "admin integrations: a webhook endpoint, its secret once, a delivery, replay",
    async run({ page, backend, shots, axeSource }) {
      const hook = await receiver();
      try {
        const [email, password] = admin(backend);
        await signIn(page, backend.base, email, password);
        await page.goto(`${backend.base}/admin/webhooks`);
        await page.getByRole("heading", { name: "Outgoing webhooks", level: 1 }).waitFor();
        await page.getByRole("link", { name: "New endpoint" }).first().click();
        await page.getByRole("heading", { name: "New endpoint", level: 1 }).waitFor();
        await page.getByLabel("URL").fill(hook.url);
        await page.getByRole("button", { name: "Create endpoint" }).click();
        // loopback is refused by the server unless the admin allows private addresses
        await page.getByRole("alert").filter({ hasText: /private|loopback|address/i }).waitFor();
        await page.getByLabel("Description").fill("E2E receiver");
        await page.getByRole("switch", { name: "All events" }).click();
        await page.getByRole("checkbox", { name: "message.created" }).click();
        await page.getByRole("switch", { name: "Allow private network addresses" }).click();
        await page.getByRole("switch", { name: "Allow private network addresses", checked: true }).waitFor();
        await page.screenshot({ path: `${shots}/admin-webhooks-form.png`, animations: "disabled" });
        await axe(page, axeSource, "webhook endpoint form");
        await page.getByRole("button", { name: "Create endpoint" }).click();
        const shown = page.getByRole("dialog", { name: "Signing secret" });
        await shown.waitFor();
        const secret = (await shown.locator("[data-secret]").textContent()).trim();
        expectTrue(secret.startsWith("whsec_"), `secret ${secret}`);
        await shown.getByRole("button", { name: "I have copied it" }).click();
        const row = page.locator(`[data-endpoint="${hook.url}"]`);
        await row.locator('[data-health="healthy"]').waitFor();
        await page.screenshot({ path: `${shots}/admin-webhooks.png`, animations: "disabled" });
        await axe(page, axeSource, "webhook endpoints");

        const { customerWrites } = await import("../scenarios.mjs");
        await customerWrites(backend, `55219${unique()}`, `Hook Hana ${unique()}`, "Is the store open on Sunday?");
        const deadline = Date.now() + 20_000;
        while (!hook.got.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        expectTrue(hook.got.length > 0, "no delivery reached the receiver");
        expectTrue(/v1=/.test(hook.got[0].headers["pytake-signature"] ?? ""), "the delivery is not signed");

        await row.getByRole("link", { name: "Deliveries" }).click();
        await page.getByRole("heading", { name: "Delivery log", level: 1 }).waitFor();
        const delivery = page.locator('[data-delivery="message.created"]').first();
        await delivery.getByText("Succeeded").waitFor({ timeout: 15_000 });
        await delivery.getByRole("button", { name: /Show the attempts/ }).click();
        await page.getByText("Is the store open on Sunday?").first().waitFor();
        await page.screenshot({ path: `${shots}/admin-webhook-deliveries.png`, animations: "disabled" });
        await axe(page, axeSource, "webhook deliveries");
        const before = hook.got.length;
        await delivery.getByRole("button", { name: /Replay this/ }).click();
        await page.getByRole("status").filter({ hasText: "1 delivery queued again." }).waitFor();
        const until = Date.now() + 20_000;
        while (hook.got.length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
        expectTrue(hook.got.length > before, "the replay never arrived");
        expectTrue(JSON.parse(hook.got.at(-1).body).event_id === JSON.parse(hook.got[0].body).event_id, "the replay is another event");

        // rotate the secret (the old one keeps signing for the overlap), then delete the endpoint
        await page.getByRole("link", { name: "Endpoints" }).click();
        await row.getByRole("button", { name: `More actions for ${hook.url}` }).click();
        await page.getByRole("menuitem", { name: "Rotate secret" }).click();
        await page.getByRole("alertdialog").getByRole("button", { name: "Rotate secret" }).click();
        const rotated = page.getByRole("dialog", { name: "Signing secret" });
        const next = (await rotated.locator("[data-secret]").textContent()).trim();
        expectTrue(next.startsWith("whsec_") && next !== secret, "the rotation gave no new secret");
        await rotated.getByRole("button", { name: "I have copied it" }).click();
        await row.getByText(/Old secret signs until/).waitFor();
        await row.getByRole("button", { name: `More actions for ${hook.url}` }).click();
        await page.getByRole("menuitem", { name: "Delete" }).click();
        await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
        await row.waitFor({ state: "detached" });
      } finally {
        await hook.close();
      }
    },
  },
  {
    name: "admin integrations: modules and alert rules; a supervisor sees alert rules only",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = admin(backend);
      await signIn(page, backend.base, email, password);
      await page.goto(`${backend.base}/admin/modules`);
      await page.getByRole("heading", { name: "Modules", level: 1 }).waitFor();
      const slack = page.locator('[data-module="slack_alerts"]');
      await slack.waitFor();
      await slack.getByRole("link", { name: /Configure/ }).click();
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText("Required.").waitFor(); // the write-only URL must be typed
      await page.getByLabel(/Webhook URL/).fill("hooks.slack.com/services/T0/B0/x");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText("Must match ^https?://.").waitFor();
      await page.getByLabel(/Webhook URL/).fill("https://hooks.slack.com/services/T0/B0/x");
      await page.getByRole("checkbox", { name: "conversation.escalated" }).click();
      await page.screenshot({ path: `${shots}/admin-module-config.png`, animations: "disabled" });
      await axe(page, axeSource, "module configuration");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByRole("heading", { name: "Modules", level: 1 }).waitFor();
      await slack.getByRole("switch").click();
      await slack.locator('[data-module-status="ENABLED"]').waitFor();
      await slack.locator('[role=switch][data-state=checked]:not([disabled])').waitFor();
      await page.screenshot({ path: `${shots}/admin-modules.png`, animations: "disabled" });
      await axe(page, axeSource, "modules");
      await slack.getByRole("switch").click();
      await slack.locator('[data-module-status="DISABLED"]').waitFor();

      await page.getByRole("link", { name: "Alert rules" }).click();
      await page.getByRole("heading", { name: "Alert rules", level: 1 }).waitFor();
      await page.getByRole("link", { name: "New rule" }).first().click();
      const name = `Queue too long ${unique()}`;
      await page.locator("form").getByLabel("Name", { exact: true }).fill(name);
      await page.getByLabel("Threshold").fill("25");
      await page.getByLabel("Scope").click();
      await page.getByRole("option", { name: "Platform" }).click();
      await page.getByRole("button", { name: "Create rule" }).click();
      await page.getByText("Pick what it is narrowed to.").waitFor();
      await page.getByLabel("Platform", { exact: true }).click();
      await page.getByRole("option", { name: "WhatsApp" }).click();
      await page.getByLabel("Severity").click();
      await page.getByRole("option", { name: "Critical" }).click();
      await page.screenshot({ path: `${shots}/admin-alert-rule-form.png`, animations: "disabled" });
      await axe(page, axeSource, "alert rule form");
      await page.getByRole("button", { name: "Create rule" }).click();
      const rule = page.locator(`[data-alert-rule="${name}"]`);
      await rule.getByText("above 25 conversations over 15 min").waitFor();
      await rule.getByText("Platform: WhatsApp").waitFor();
      await page.screenshot({ path: `${shots}/admin-alert-rules.png`, animations: "disabled" });
      await axe(page, axeSource, "alert rules");
      await rule.getByRole("button", { name: `Delete ${name}` }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
      await rule.waitFor({ state: "detached" });

      // a supervisor (when the demo seeds one) is offered alert rules and none of the admins' sections
      const supervisor = Object.keys(backend.credentials).find((e) => e.startsWith("supervisor"));
      if (supervisor) {
        await page.evaluate(() => localStorage.clear());
        await signIn(page, backend.base, supervisor, backend.credentials[supervisor]);
        await page.goto(`${backend.base}/admin`);
        await page.getByRole("link", { name: /Alert rules/ }).first().waitFor();
        expectTrue((await page.getByRole("link", { name: /API keys/ }).count()) === 0, "a supervisor is offered API keys");
      }
    },
  },
  {
    name: "admin integrations in Portuguese: the hub and the audit log",
    locale: "pt-BR",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = admin(backend);
      await signIn(page, backend.base, email, password);
      await page.goto(`${backend.base}/admin`);
      for (const section of ["Chaves de API", "Webhooks", "Módulos", "Regras de alerta", "Registro de auditoria"]) {
        await page.getByRole("main").getByRole("link", { name: new RegExp(section) }).waitFor();
      }
      await page.screenshot({ path: `${shots}/admin-integrations-hub-pt.png`, animations: "disabled" });
      await page.getByRole("main").getByRole("link", { name: /Registro de auditoria/ }).click();
      await page.getByRole("heading", { name: "Registro de auditoria", level: 1 }).waitFor();
      await page.locator("[data-audit-action]").first().waitFor();
      await page.screenshot({ path: `${shots}/admin-audit-pt.png`, animations: "disabled" });
      await axe(page, axeSource, "audit log (pt-BR)");
    },
  },
);
