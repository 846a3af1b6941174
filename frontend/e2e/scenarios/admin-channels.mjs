// Admin → Channels: an admin creates a Telegram channel through the guided form and copies its
// webhook URL; the clipboard holds exactly the URL the API reports for that channel. A fake Bot
// API (the channel's advanced "API base URL") answers setWebhook, so we also see PyTake register
// that URL with a secret token, and register it again, with a new token, on rotation (the old
// token accepted until the admin ends its grace). A fake Viber answers set_webhook: a Viber
// channel registers its webhook again from its page, and Viber's refusal shows its code.
import { createServer } from "node:http";
import { createHmac, randomUUID } from "node:crypto";
import { gql, operation } from "../backend.mjs";
import { axe, expectTrue, signIn } from "../scenarios.mjs";

async function fakeTelegram() {
  const calls = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const method = req.url.split("/").pop();
      calls.push({ method, body: body ? JSON.parse(body) : {} });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ ok: true, result: method === "getMe" ? { id: 1, is_bot: true, username: "acme_e2e_bot" } : true }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${server.address().port}`, calls, close: () => new Promise((r) => server.close(r)) };
}


/** A fake Viber REST Bot API (its wire format: platform-samples/viber): set_webhook checks the
 * token, then posts a signed `webhook` check to the URL and takes it only on a 200. */
async function fakeViber(token) {
  const calls = [];
  const state = { token };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", async () => {
      const answer = (json) => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify(json));
      };
      const request = body ? JSON.parse(body) : {};
      calls.push({ path: req.url, body: request });
      if (req.headers["x-viber-auth-token"] !== state.token) return answer({ status: 2, status_message: "invalidAuthToken", chat_hostname: "SN-CHAT-05_" });
      const check = `{"event":"webhook","timestamp":${Date.now()},"chat_hostname":"SN-548_","message_token":5741311803571721087}`;
      const signature = createHmac("sha256", state.token).update(check).digest("hex");
      const reply = await fetch(request.url, { method: "POST", headers: { "Content-Type": "application/json", "X-Viber-Content-Signature": signature }, body: check }).then((r) => r.status, () => 0);
      calls[calls.length - 1].check = reply;
      if (reply !== 200) return answer({ status: 1, status_message: `Result[HttpResponse status code: ${reply}]` });
      answer({ status: 0, status_message: "ok", event_types: request.event_types });
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${server.address().port}`, calls, state, close: () => new Promise((r) => server.close(r)) };
}

export const scenarios = [
  {
    name: "admin channels: an admin creates a Telegram channel and copies its webhook URL",
    async run({ page, context, backend, shots, axeSource }) {
      const telegram = await fakeTelegram();
      try {
        await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: backend.base });
        const email = Object.keys(backend.credentials).find((e) => e.startsWith("admin"));
        const password = backend.credentials[email];
        await signIn(page, backend.base, email, password);

        // Settings → Channels (the admin hub lists the section).
        await page.goto(`${backend.base}/admin`);
        await page.getByRole("link", { name: /Channels/ }).first().click();
        await page.waitForURL(/\/admin\/channels$/);
        await page.getByRole("heading", { name: "Channels" }).waitFor();
        await page.locator("[data-channel]").first().waitFor(); // the demo's WhatsApp channel
        await axe(page, axeSource, "channels list");

        // Guided creation: pick Telegram, get exactly its fields.
        await page.getByRole("link", { name: "Connect a channel" }).click();
        await page.getByRole("heading", { name: "Connect a channel" }).waitFor();
        await page.screenshot({ path: `${shots}/admin-channels-pick.png` });
        await axe(page, axeSource, "channels: pick a platform");
        await page.locator('[data-platform="TELEGRAM"]').click();
        await page.getByRole("heading", { name: "Connect Telegram" }).waitFor();
        expectTrue((await page.getByLabel(/Phone number ID/).count()) === 0, "a WhatsApp field on the Telegram form");

        // The form's own checks (the connector's rules) before the server's.
        await page.getByRole("button", { name: "Create channel" }).click();
        await page.getByText("Required.").first().waitFor();
        const tokenBox = page.getByLabel("Bot token", { exact: true });
        await tokenBox.fill("not-a-token");
        await page.getByRole("button", { name: "Create channel" }).click();
        await page.getByText("Does not look like a @BotFather token").waitFor();

        const name = `Telegram e2e ${randomUUID().slice(0, 8)}`;
        const token = `123456789:AAH${randomUUID().replace(/-/g, "")}`;
        await page.getByLabel("Channel name").fill(name);
        await tokenBox.fill(token);
        await page.getByLabel(/Bot username/).fill("@acme_e2e_bot");
        await page.locator("main").evaluate((m) => m.scrollTo(0, 0));
        await page.screenshot({ path: `${shots}/admin-channels-form.png` });
        await page.getByText("Advanced").click();
        await page.getByLabel(/API base URL/).fill(telegram.base);
        await axe(page, axeSource, "channels: Telegram form");
        await page.getByRole("button", { name: "Create channel" }).click();

        // The channel's page: the webhook URL to copy, and the steps.
        await page.waitForURL(/\/admin\/channels\/(?!new)[^/]+$/);
        await page.getByText(`${name} is connected.`).waitFor();
        await page.getByRole("button", { name: "Copy Webhook URL" }).click();
        await page.getByRole("button", { name: "Copied Webhook URL" }).waitFor();
        await axe(page, axeSource, "channel page, just copied");
        const copied = await page.evaluate(() => navigator.clipboard.readText());

        const login = await gql(backend.base, operation("LOGIN"), { email, password });
        const list = await gql(backend.base, operation("ADMIN_CHANNELS"), {}, login.data.login.accessToken);
        const channel = list.data.channels.find((c) => c.name === name);
        expectTrue(channel && channel.platform === "TELEGRAM", `the API does not list ${name}: ${JSON.stringify(list).slice(0, 300)}`);
        expectTrue(copied === channel.webhookUrl, `clipboard ${JSON.stringify(copied)} is not the API's webhookUrl ${channel.webhookUrl}`);
        expectTrue(page.url().endsWith(`/admin/channels/${encodeURIComponent(channel.id)}`), `on ${page.url()}, not the channel's page`);
        expectTrue(JSON.stringify(channel.secretsSet) === JSON.stringify(["bot_token", "secret_token"]), `secrets set: ${channel.secretsSet}`);

        // PyTake handed Telegram that very URL with a secret token (setWebhook).
        const registered = telegram.calls.filter((c) => c.method === "setWebhook");
        expectTrue(registered.length === 1 && registered[0].body.url === channel.webhookUrl && registered[0].body.secret_token, `setWebhook calls: ${JSON.stringify(telegram.calls)}`);

        // Secrets are write-only: the token is nowhere on the page, only "Set".
        await page.locator('[data-secret-set="bot_token"]').waitFor();
        expectTrue(!(await page.content()).includes(token.split(":")[1]), "the bot token is shown on the page");
        await page.screenshot({ path: `${shots}/admin-channels.png`, fullPage: false });
        await axe(page, axeSource, "channel page");

        // Rotation: a new secret_token, registered again; the old one is still accepted for the
        // grace period, which the admin ends at once.
        await page.getByRole("button", { name: "Rotate secret" }).click();
        await page.getByRole("alertdialog").getByRole("button", { name: "Rotate" }).click();
        await page.locator("[data-rotated]").waitFor();
        const grace = page.locator('[data-grace="open"]');
        await grace.getByText(/The previous secret is still accepted until/).waitFor();
        const again = telegram.calls.filter((c) => c.method === "setWebhook");
        expectTrue(again.length === 2 && again[1].body.secret_token && again[1].body.secret_token !== again[0].body.secret_token, "rotation did not register a new secret_token");
        // Telegram's in-flight updates still carry the old secret: accepted during the grace.
        const hook = (secret, n) =>
          fetch(channel.webhookUrl, {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret },
            body: JSON.stringify({ update_id: n, message: { message_id: n, date: Math.floor(Date.now() / 1000), chat: { id: 777001, type: "private", first_name: "Gil" }, from: { id: 777001, is_bot: false, first_name: "Gil" }, text: `grace ${n}` } }),
          }).then((r) => r.status);
        const oldSecret = again[0].body.secret_token;
        expectTrue((await hook(oldSecret, 9001)) === 200, "the old secret is refused during its grace");
        await page.locator("main").evaluate((m) => m.scrollTo(0, m.scrollHeight));
        await page.screenshot({ path: `${shots}/admin-channels-detail-lower.png` });
        await axe(page, axeSource, "channel page, previous secret in its grace");
        await grace.getByRole("button", { name: "Stop accepting it now" }).click();
        await page.getByRole("alertdialog").getByRole("button", { name: "Stop accepting" }).click();
        await page.locator('[data-grace="ended"]').waitFor();
        expectTrue((await hook(oldSecret, 9002)) === 401, "the old secret is still accepted after ending its grace");

        // Retention: message bodies removed after 30 days.
        await page.getByLabel("Remove after").check();
        await page.getByLabel("Days to keep message bodies").fill("0");
        await page.getByRole("button", { name: "Save retention" }).click();
        await page.getByText("A whole number of days from 1 to 36500.").waitFor();
        await page.getByLabel("Days to keep message bodies").fill("30");
        await page.getByRole("button", { name: "Save retention" }).click();
        await page.locator('[data-retention="30"]').waitFor();

        // Disable, after a confirmation.
        await page.getByRole("button", { name: "Disable channel" }).click();
        await page.getByRole("alertdialog").getByRole("button", { name: "Disable" }).click();
        await page.getByRole("button", { name: "Enable channel" }).waitFor();
        await page.locator('header [data-health="DISABLED"]').waitFor();

        // A channel whose webhook registration fails shows as failing, with the reason.
        const token2 = login.data.login.accessToken;
        const broken = await gql(backend.base, operation("ADMIN_CREATE_CHANNEL"), {
          input: { platform: "TELEGRAM", name: `Telegram broken ${randomUUID().slice(0, 8)}`, config: { api_base: "http://127.0.0.1:9" }, secrets: { bot_token: "42:AAAAAAAAAAAAAAAAAAAA" } },
        }, token2);
        expectTrue(broken.data?.createChannel?.id, `could not create the failing channel: ${JSON.stringify(broken)}`);

        // Back on the list: the new channel disabled, the broken one failing since just now.
        await page.getByRole("link", { name: "All channels" }).click();
        await page.locator(`[data-channel="${channel.id}"] [data-health="DISABLED"]`).waitFor();
        const brokenRow = page.locator(`[data-channel="${broken.data.createChannel.id}"]`);
        await brokenRow.locator('[data-health="ERROR"]').waitFor();
        await brokenRow.getByText(/Failing since/).waitFor();
        await brokenRow.getByText(/webhook registration failed/).waitFor();
        await page.screenshot({ path: `${shots}/admin-channels-list.png` });
        await axe(page, axeSource, "channels list with a failing channel");

        // Another platform's form has its own fields: e-mail read from a mailbox asks for IMAP's.
        await page.goto(`${backend.base}/admin/channels/new/email`);
        await page.getByRole("heading", { name: "Connect E-mail" }).waitFor();
        expectTrue((await page.getByLabel(/IMAP server/).count()) === 0, "IMAP fields before choosing a mailbox");
        await page.getByRole("combobox", { name: "How e-mail arrives" }).click();
        await page.getByRole("option", { name: "Poll a mailbox (IMAP)" }).click();
        await page.getByLabel(/IMAP server/).waitFor();
        expectTrue((await page.getByLabel(/Mailgun webhook signing key/).count()) === 0, "Mailgun's key on a mailbox form");
        await page.screenshot({ path: `${shots}/admin-channels-email.png` });
        await axe(page, axeSource, "channels: e-mail form");
      } finally {
        await telegram.close();
      }
    },
  },
  {
    name: "admin channels in Portuguese: a WhatsApp channel, its verify token shown once",
    locale: "pt-BR",
    async run({ page, backend, shots, axeSource }) {
      const email = Object.keys(backend.credentials).find((e) => e.startsWith("admin"));
      await signIn(page, backend.base, email, backend.credentials[email]);
      await page.goto(`${backend.base}/admin/channels/new`);
      await page.getByRole("heading", { name: "Conectar um canal" }).waitFor();
      await page.locator('[data-platform="WHATSAPP"]').click();
      await page.getByRole("heading", { name: "Conectar WhatsApp" }).waitFor();
      const name = `WhatsApp Vendas ${randomUUID().slice(0, 8)}`;
      await page.getByLabel("Nome do canal").fill(name);
      await page.getByLabel("ID do número de telefone").fill(String(Date.now()));
      await page.getByLabel("Token de acesso").fill("EAAG-e2e-token");
      await page.getByLabel("Chave secreta do app").fill("e2e-app-secret");
      await page.getByRole("button", { name: "Criar canal" }).click();

      // The verify token PyTake made up, shown this once: it is the one the webhook accepts.
      const once = page.locator("[data-shown-once]");
      await once.waitFor();
      const token = await once.getByLabel("Token de verificação").inputValue();
      const url = await page.getByLabel("URL do webhook").inputValue();
      const challenge = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=4242`).then((r) => r.text());
      expectTrue(challenge === "4242", `Meta's handshake with the shown verify token answered ${JSON.stringify(challenge)}`);
      await page.screenshot({ path: `${shots}/admin-channels-pt-BR.png` });
      await axe(page, axeSource, "channel page (pt-BR)");

      // Shown once: a reload does not show it again; the secret reads "Definido".
      await page.reload();
      await page.getByRole("heading", { name }).waitFor();
      await page.locator('[data-secret-set="verify_token"]').waitFor();
      expectTrue((await page.locator("[data-shown-once]").count()) === 0, "the verify token is shown again after a reload");
      expectTrue(!(await page.content()).includes(token), "the verify token is on the page after a reload");
    },
  },
  {
    name: "admin channels: a Viber channel registers its webhook again; Viber's refusal shows its code",
    async run({ page, backend, shots, axeSource }) {
      const token = randomUUID().replace(/-/g, "");
      const viber = await fakeViber(token);
      try {
        const email = Object.keys(backend.credentials).find((e) => e.startsWith("admin"));
        const password = backend.credentials[email];
        const login = await gql(backend.base, operation("LOGIN"), { email, password });
        const name = `Viber e2e ${randomUUID().slice(0, 8)}`;
        const created = await gql(backend.base, operation("ADMIN_CREATE_CHANNEL"), {
          input: { platform: "VIBER", name, config: { api_base: viber.base, sender_name: "Acme" }, secrets: { auth_token: token } },
        }, login.data.login.accessToken);
        const channel = created.data?.createChannel;
        expectTrue(channel?.registersWebhook, `Viber channel not created: ${JSON.stringify(created)}`);
        expectTrue(viber.calls.length === 1 && viber.calls[0].body.url === channel.webhookUrl && viber.calls[0].check === 200, `set_webhook on creation: ${JSON.stringify(viber.calls)}`);

        await signIn(page, backend.base, email, password);
        await page.goto(`${backend.base}/admin/channels/${encodeURIComponent(channel.id)}`);
        await page.getByRole("heading", { name }).waitFor();
        await page.getByRole("button", { name: "Register webhook again" }).click();
        await page.locator("[data-registered]").getByText(/Viber accepted the webhook at/).waitFor();
        expectTrue(viber.calls.length === 2 && viber.calls[1].body.url === channel.webhookUrl && viber.calls[1].check === 200, `set_webhook again: ${JSON.stringify(viber.calls)}`);
        await axe(page, axeSource, "Viber channel page, registered again");

        // The token was revoked in Viber's panel: Viber refuses, and the page says so in Viber's words.
        viber.state.token = "revoked-elsewhere";
        await page.getByRole("button", { name: "Register webhook again" }).click();
        const refused = page.locator('[data-register-error="invalidAuthToken"]');
        await refused.getByText("PLATFORM_ERROR").waitFor();
        await refused.getByText("Viber's answer: invalidAuthToken").waitFor();
        await page.locator('header [data-health="ERROR"]').waitFor({ timeout: 15_000 });
        await page.screenshot({ path: `${shots}/admin-channels-viber-refused.png` });
        await axe(page, axeSource, "Viber channel page, registration refused");
      } finally {
        await viber.close();
      }
    },
  },
];
