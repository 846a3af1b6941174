// The end-to-end scenarios (run by e2e/run.mjs), each in a fresh browser context at 1280 × 720.
import { gql, operation, startProxy } from "./backend.mjs";

export const expectTrue = (ok, message) => {
  if (!ok) throw new Error(message);
};

export async function axe(page, axeSource, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) {
    const detail = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")} ${n.html.slice(0, 160)}`).join(", ")}`);
    throw new Error(`axe-core on ${name}: ${detail.join("; ")}`);
  }
  return result.violations.length;
}

export async function signIn(page, base, email, password) {
  await page.goto(`${base}/`);
  await page.getByLabel(/e-mail/i).fill(email);
  await page.getByLabel(/password|senha/i).fill(password);
  await page.getByRole("button", { name: /sign in|entrar/i }).click();
  await page.waitForURL(/\/inbox/);
  await page.locator("[data-conversation]").first().waitFor({ timeout: 15_000 });
}

/** The token of the last `path` link mailed to `email` (`accept-invitation`, `reset-password`). The
 * e2e backend has no mail server: the embedded mailer logs every mail whole, so it is read there. */
export async function mailedToken(backend, email, path) {
  const pattern = new RegExp(`To: ${email.replace(/[.]/g, "\\.")}[\\s\\S]*?/${path}\\?token=([A-Za-z0-9_-]+)`, "g");
  for (let i = 0; i < 50; i += 1) {
    const found = [...backend.output().matchAll(pattern)];
    if (found.length) return found[found.length - 1][1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${path} mail to ${email} in the backend's log`);
}

/** A customer writes in: the demo's fake WhatsApp posts a signed webhook to the backend. */
export async function customerWrites(backend, waId, name, text) {
  return (await customerWritesTo(backend, waId, name, text)).channel;
}

export async function customerWritesTo(backend, waId, name, text) {
  if (!backend.customerSide) {
    const [email, password] = Object.entries(backend.credentials)[0];
    const login = await gql(backend.base, operation("LOGIN"), { email, password });
    const token = login.data.login.accessToken;
    const demo = await gql(backend.base, operation("DEMO"), {}, token);
    backend.customerSide = { token, channel: demo.data.demo.channels[0].channelId };
  }
  const { token, channel } = backend.customerSide;
  const sent = await gql(backend.base, operation("SIMULATE"), { channel, waId, name, text }, token);
  expectTrue(sent.data?.simulateInboundMessage === true, `webhook not accepted: ${JSON.stringify(sent)}`);
  return { channel };
}

const agent = (backend) => {
  const email = Object.keys(backend.credentials).find((e) => e.startsWith("agent1"));
  return [email, backend.credentials[email]];
};
const unique = () => String(Date.now()).slice(-9);

export const scenarios = [
  {
    name: "login, a webhook arrives live, reply, the read tick",
    async run({ page, backend, shots, axeSource }) {
      await page.goto(`${backend.base}/`);
      await page.waitForURL(/\/login/);
      await page.getByRole("heading", { name: "Sign in to PyTake" }).waitFor();
      await page.screenshot({ path: `${shots}/01-login.png` });
      await axe(page, axeSource, "login");

      const [email, password] = agent(backend);
      await signIn(page, backend.base, email, password);
      await page.getByRole("heading", { name: "Conversations" }).waitFor();
      await page.screenshot({ path: `${shots}/02-inbox.png` });
      await axe(page, axeSource, "inbox");

      const name = `Lena Live ${unique()}`;
      await customerWrites(backend, `55119${unique()}`, name, "Hi! Where is my order #A-1023?");
      const first = page.locator("[data-conversation]").first();
      await first.filter({ hasText: name }).waitFor({ timeout: 15_000 }); // live, on top, no reload
      await first.click();
      await page.waitForURL(/\/inbox\/.+/);
      await page.locator("[data-direction=INBOUND]", { hasText: "Where is my order" }).waitFor();
      await page.getByRole("heading", { name: new RegExp(name) }).waitFor();
      await page.screenshot({ path: `${shots}/03-conversation.png` });
      await axe(page, axeSource, "conversation");

      const reply = page.getByRole("textbox", { name: "Reply" });
      await reply.fill("It left our warehouse this morning and arrives tomorrow.");
      await reply.press("Enter");
      const bubble = page.locator("[data-direction=OUTBOUND]", { hasText: "arrives tomorrow" });
      await bubble.waitFor();
      await bubble.locator("[data-tick=READ]").waitFor({ timeout: 20_000 }); // the fake reads it: ✓✓ blue
      await page.screenshot({ path: `${shots}/04-read-tick.png` });
      const row = page.locator("[data-conversation]", { hasText: name });
      await row.filter({ hasText: "You: It left our warehouse" }).waitFor();
    },
  },
  {
    name: "keyboard only: move, reply and resolve",
    async run({ page, backend, shots }) {
      const [email, password] = agent(backend);
      await signIn(page, backend.base, email, password);
      const name = `Kai Keys ${unique()}`;
      await customerWrites(backend, `44770${unique()}`, name, "Can I pay by bank transfer?");
      await page.locator("[data-conversation]").first().filter({ hasText: name }).waitFor({ timeout: 15_000 });
      await page.locator("body").click({ position: { x: 900, y: 300 } }); // nothing focused
      await page.keyboard.press("j");
      await page.getByRole("heading", { name: new RegExp(name) }).waitFor();
      await page.keyboard.press("r");
      expectTrue(await page.evaluate(() => document.activeElement?.tagName === "TEXTAREA"), "r did not focus the reply box");
      await page.keyboard.type("Yes, bank transfer works.");
      await page.keyboard.press("Enter");
      await page.locator("[data-direction=OUTBOUND]", { hasText: "bank transfer works" }).waitFor();
      await page.keyboard.press("Escape");
      await page.keyboard.press("e");
      await page.locator('header [data-status="RESOLVED"]').waitFor({ timeout: 10_000 });
      await page.keyboard.press("?");
      await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
      await page.screenshot({ path: `${shots}/05-shortcuts.png` });
      await page.keyboard.press("Escape");
    },
  },
  {
    name: "Portuguese from the browser, switch to English, logout revokes the refresh token",
    locale: "pt-BR",
    async run({ page, backend, shots }) {
      await page.goto(`${backend.base}/login`);
      await page.getByRole("heading", { name: "Entrar no PyTake" }).waitFor();
      await page.screenshot({ path: `${shots}/06-login-pt-BR.png` });
      const [email, password] = agent(backend);
      await signIn(page, backend.base, email, password);
      await page.getByRole("heading", { name: "Conversas" }).waitFor();
      await page.screenshot({ path: `${shots}/07-inbox-pt-BR.png` });
      await page.getByRole("button", { name: "Conta" }).click();
      await page.getByRole("menuitemradio", { name: "English" }).click();
      await page.getByRole("heading", { name: "Conversations" }).waitFor();

      const saved = await page.evaluate(() => JSON.parse(localStorage.getItem("pytake.session") ?? "null"));
      expectTrue(saved?.refreshToken, "no session stored");
      await page.getByRole("button", { name: "Account" }).click();
      await page.getByRole("menuitem", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in to PyTake" }).waitFor();
      const reused = await gql(backend.base, operation("REFRESH"), { token: saved.refreshToken });
      expectTrue(!reused.data && reused.errors?.length, `the refresh token still works after logout: ${JSON.stringify(reused)}`);
    },
  },
  {
    name: "the network drops while two messages arrive: both shown once, in order, after it returns",
    async run({ page, context, backend, shots }) {
      const proxy = await startProxy(backend.base);
      try {
        const [email, password] = agent(backend);
        await signIn(page, proxy.base, email, password);
        const name = `Olga Offline ${unique()}`;
        const waId = `35191${unique()}`;
        await customerWrites(backend, waId, name, "First, before the drop");
        await page.locator("[data-conversation]").first().filter({ hasText: name }).click();
        await page.locator("[data-direction=INBOUND]", { hasText: "First, before the drop" }).waitFor();
        await page.locator('[data-link="online"]').waitFor();

        await context.setOffline(true); // HTTP fails...
        proxy.drop(); // ...and the open WebSocket is cut, as a real outage would
        await page.locator('[data-link="offline"]').waitFor({ timeout: 15_000 });
        await page.screenshot({ path: `${shots}/09-offline.png` });
        await customerWrites(backend, waId, name, "Second, while offline");
        await customerWrites(backend, waId, name, "Third, while offline");
        await page.waitForTimeout(1_500);
        await context.setOffline(false);
        proxy.restore();

        await page.locator('[data-link="online"]').waitFor({ timeout: 30_000 });
        const third = page.locator("[data-direction=INBOUND]", { hasText: "Third, while offline" });
        await third.waitFor({ timeout: 20_000 });
        const texts = await page.locator("[data-direction=INBOUND]").allTextContents();
        const mine = texts.filter((t) => /before the drop|while offline/.test(t)).map((t) => t.match(/(First|Second|Third)/)[1]);
        expectTrue(JSON.stringify(mine) === JSON.stringify(["First", "Second", "Third"]), `timeline after the outage: ${JSON.stringify(mine)}`);
      } finally {
        await proxy.close();
      }
    },
  },
  {
    name: "the inbox over 10,000 conversations: first page in under a second, paged as it scrolls",
    async run({ page, backend, shots, log }) {
      const [email, password] = agent(backend);
      await signIn(page, backend.base, email, password);
      await page.goto(`${backend.base}/inbox`); // a cold start with the session stored
      // the time the page itself reads when the rows are there: since the navigation started
      const ms = await (await page.waitForFunction(() => document.querySelectorAll("[data-conversation]").length >= 8 && performance.now(), null, { polling: "raf" })).jsonValue();
      const timings = await page.evaluate(() => [
        ...performance.getEntriesByType("mark").filter((e) => e.name.startsWith("pytake:")).map((e) => `${e.name} ${e.startTime.toFixed(0)}`),
        ...performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/graphql")).map((e) => `POST /graphql ${e.startTime.toFixed(0)}-${e.responseEnd.toFixed(0)}`),
      ]);
      log(`first page of the inbox (${backend.bulk} + demo conversations) rendered ${ms.toFixed(0)} ms after navigation; ${timings.join(", ")}`);
      expectTrue(ms < 1000, `first page took ${ms.toFixed(0)} ms`);
      const scroller = page.getByTestId("inbox-scroller");
      for (let i = 0; i < 4; i += 1) {
        await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
        await page.waitForTimeout(400);
      }
      await page.waitForFunction(() => /^(1[5-9]\d|[2-9]\d\d|\d{4,})/.test(document.querySelector("[data-testid=inbox-count]")?.textContent ?? ""));
      const rendered = await page.locator("[data-conversation]").count();
      expectTrue(rendered < 40, `${rendered} rows in the DOM: the list is not virtualised`);
      await page.screenshot({ path: `${shots}/10-inbox-bulk-scrolled.png` });
    },
  },
  {
    name: "an error shows what its code means",
    async run({ page, backend, shots }) {
      const [email, password] = agent(backend);
      await signIn(page, backend.base, email, password);
      const missing = Buffer.from("Conversation:987654321").toString("base64");
      await page.goto(`${backend.base}/inbox/${missing}`);
      const alert = page.getByRole("alert").filter({ hasText: "NOT_FOUND" });
      await alert.waitFor({ timeout: 15_000 });
      await alert.filter({ hasText: "It no longer exists, or you cannot see it." }).waitFor();
      await page.screenshot({ path: `${shots}/08-error-state.png` });
    },
  },
];
