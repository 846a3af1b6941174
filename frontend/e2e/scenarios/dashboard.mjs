// The dashboard (src/routes/dashboard/), its alerts and the notification bell.
import { gql, operation } from "../backend.mjs";
import { axe, customerWrites, expectTrue, mailedToken, signIn } from "../scenarios.mjs";

const unique = () => String(Date.now()).slice(-9);
const admin = (backend) => {
  const email = Object.keys(backend.credentials).find((e) => e.startsWith("admin"));
  return [email, backend.credentials[email]];
};
const number = async (locator) => Number((await locator.textContent()).replace(/[^\d]/g, ""));

async function openDashboard(page, backend) {
  const [email, password] = admin(backend);
  await signIn(page, backend.base, email, password);
  await page.getByRole("link", { name: "Dashboard", exact: true }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.getByTestId("dashboard-updated").filter({ hasText: "Updated" }).waitFor({ timeout: 15_000 });
}

export const scenarios = [
  {
    name: "dashboard: the counters change after a webhook without reload; a bar opens the inbox filtered",
    async run({ page, backend, shots, axeSource, log }) {
      await openDashboard(page, backend);
      await page.getByTestId("kpi-messages-in").waitFor({ timeout: 15_000 });
      const open = await number(page.getByTestId("now-open"));
      const messagesIn = await number(page.getByTestId("kpi-messages-in"));
      const navigations = [];
      page.on("framenavigated", (f) => f === page.mainFrame() && navigations.push(f.url()));

      const name = `Dana Dashboard ${unique()}`;
      await customerWrites(backend, `55219${unique()}`, name, "Is the dashboard live?");
      const t0 = Date.now();
      await page.waitForFunction(
        (before) => Number(document.querySelector("[data-testid=now-open]")?.textContent?.replace(/[^\d]/g, "")) > before,
        open,
        { timeout: 15_000 },
      );
      log(`open conversations ${open} → more, ${Date.now() - t0} ms after the webhook`);
      await page.waitForFunction(
        (before) => Number(document.querySelector("[data-testid=kpi-messages-in]")?.textContent?.replace(/[^\d]/g, "")) > before,
        messagesIn,
        { timeout: 30_000 },
      );
      log(`messages in ${messagesIn} → more, ${Date.now() - t0} ms after the webhook`);
      expectTrue(navigations.length === 0, `the page navigated: ${navigations.join(", ")}`);
      await page.locator("[data-testid=chart-volume] .recharts-surface").first().waitFor();
      await page.screenshot({ path: `${shots}/dashboard.png` });
      await axe(page, axeSource, "dashboard");
      await page.getByTestId("chart-health").scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${shots}/dashboard-charts.png` });

      // drill-down: the WhatsApp bar's button opens the inbox filtered to WhatsApp, with the new conversation in it
      await page.locator("[data-testid=chart-platforms] [data-drill=WHATSAPP]").click();
      await page.waitForURL(/\/inbox$/);
      await page.locator("[data-conversation]", { hasText: name }).waitFor({ timeout: 15_000 });
      await page.getByRole("combobox").filter({ hasText: "WhatsApp" }).first().waitFor();
    },
  },
  {
    name: "dashboard: a channel's bar opens the inbox filtered to that channel",
    async run({ page, backend, shots, axeSource }) {
      await openDashboard(page, backend);
      const name = `Cleo Channel ${unique()}`;
      await customerWrites(backend, `55219${unique()}`, name, "Which channel am I on?");
      const channel = backend.customerSide.channel; // the demo's WhatsApp channel the customer wrote to
      const button = page.locator(`[data-testid=chart-channels] [data-drill="${channel}"]`);
      await button.waitFor({ timeout: 30_000 });
      await page.getByTestId("chart-channels").scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${shots}/dashboard-channels.png` });
      await axe(page, axeSource, "dashboard, channels and labels");
      await button.click();
      await page.waitForURL(/\/inbox$/);
      await page.locator("[data-conversation]", { hasText: name }).waitFor({ timeout: 15_000 });
      // the channel is on as a filter (its chip), the status cleared to any
      await page.locator("[data-chip]").first().waitFor();
      expectTrue((await page.locator("[data-chip]").count()) === 1, "the drill set more than the channel");
    },
  },
  {
    name: "dashboard: an agent's bar opens the inbox with the conversations assigned to them",
    async run({ page, backend, shots, axeSource }) {
      // agent1 takes a new conversation (their own token, as the inbox's "Assign to me" does)
      const email = Object.keys(backend.credentials).find((e) => e.startsWith("agent1"));
      const login = await gql(backend.base, operation("LOGIN"), { email, password: backend.credentials[email] });
      const { accessToken, user } = login.data.login;
      const mine = `Aldo Assigned ${unique()}`;
      await customerWrites(backend, `55219${unique()}`, mine, "Who is looking after me?");
      let conversation = null;
      for (let i = 0; i < 50 && !conversation; i += 1) {
        const listed = await gql(backend.base, operation("INBOX"), { filter: {} }, accessToken);
        conversation = (listed.data?.conversations.edges ?? []).map((e) => e.node).find((c) => c.customer.name === mine) ?? null;
        if (!conversation) await new Promise((r) => setTimeout(r, 200));
      }
      expectTrue(conversation, `${mine}'s conversation is not in the inbox`);
      const assigned = await gql(backend.base, operation("ASSIGN"), { id: conversation.id, user: user.id }, accessToken);
      expectTrue(assigned.data?.assignConversation?.assignee?.id === user.id, `not assigned: ${JSON.stringify(assigned)}`);
      // a newer conversation nobody has: the drilled list must leave it out
      const nobodys = `Una Unassigned ${unique()}`;
      await customerWrites(backend, `55219${unique()}`, nobodys, "Anyone there?");

      await openDashboard(page, backend);
      const button = page.locator(`[data-testid=chart-agents] [data-drill="${user.id}"]`);
      await button.waitFor({ timeout: 30_000 }); // assigned_now, once the roll-ups took the assignment
      await page.getByTestId("chart-agents").scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${shots}/dashboard-agents.png` });
      await axe(page, axeSource, "dashboard, agents");
      await button.click();
      await page.waitForURL(/\/inbox$/);
      await page.locator("[data-conversation]", { hasText: mine }).waitFor({ timeout: 15_000 });
      // the agent is on as the assignee filter (its chip); what they do not have is not listed
      await page.locator("[data-chip]", { hasText: user.name }).first().waitFor();
      await page.getByRole("tab", { name: "All" }).and(page.locator("[aria-selected=true]")).waitFor();
      expectTrue((await page.locator("[data-conversation]", { hasText: nobodys }).count()) === 0, `${nobodys} is listed under ${user.name}`);
      await page.screenshot({ path: `${shots}/dashboard-agent-drilled.png` });
    },
  },
  {
    name: "dashboard: a supervisor acknowledges an alert; the bell tells them; preferences",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = admin(backend);
      const login = await gql(backend.base, operation("LOGIN"), { email, password });
      const adminToken = login.data.login.accessToken;
      // a new supervisor (in no team: their dashboard's numbers are empty, alerts are everyone's)
      const supervisor = { email: `sam.${unique()}@pytake.local`, name: `Sam Supervisor ${unique()}`, password: `pw-${unique()}-x9!Q` };
      // invited and accepted the way people join (the app's own documents: the allow-list admits no other)
      const invited = await gql(backend.base, operation("PEOPLE_INVITE"), { input: { email: supervisor.email, name: supervisor.name, role: "SUPERVISOR", teamIds: [] } }, adminToken);
      expectTrue(invited.data?.inviteUser?.role === "SUPERVISOR", `supervisor not invited: ${JSON.stringify(invited)}`);
      const invitation = await mailedToken(backend, supervisor.email, "accept-invitation");
      const accepted = await gql(backend.base, operation("ACCOUNT_ACCEPT_INVITATION"), { token: invitation, password: supervisor.password });
      expectTrue(accepted.data?.acceptInvitation?.user?.role === "SUPERVISOR", `invitation not accepted: ${JSON.stringify(accepted)}`);
      const rule = `Queue watch ${unique()}`;
      // fires on any data: "fewer than a billion conversations queued" (Settings → Alert rules' document)
      const saved = await gql(
        backend.base,
        operation("ADMIN_SAVE_ALERT_RULE"),
        { input: { name: rule, kind: "queue_length", condition: "below", threshold: 1e9, windowSeconds: 300, severity: "critical" } },
        adminToken,
      );
      expectTrue(saved.data?.saveAlertRule?.id, `rule not saved: ${JSON.stringify(saved)}`);

      await page.goto(`${backend.base}/login`);
      await page.getByLabel(/e-mail/i).fill(supervisor.email);
      await page.getByLabel(/password/i).fill(supervisor.password);
      await page.getByRole("button", { name: /sign in/i }).click();
      await page.waitForURL(/\/inbox/);
      await page.getByRole("link", { name: "Dashboard", exact: true }).click();
      await page.getByTestId("dashboard-updated").filter({ hasText: "Updated" }).waitFor({ timeout: 15_000 });
      const row = page.locator(`[data-alert="${rule}"]`);
      await row.waitFor({ timeout: 60_000 }); // evaluated on the next upkeep tick (30 s), live on alertEvents
      expectTrue((await row.getAttribute("data-state")) === "open", "the alert is not open");
      await page.getByTestId("notification-bell").and(page.locator(":not([data-unread='0'])")).waitFor({ timeout: 15_000 });
      await page.waitForFunction(() => Number(document.querySelector("[data-testid=now-alerts]")?.textContent) >= 1, null, { timeout: 15_000 });
      await page.screenshot({ path: `${shots}/dashboard-alert.png` });
      await axe(page, axeSource, "dashboard (supervisor, empty numbers)");

      await row.getByRole("button", { name: /Acknowledge/ }).click();
      await page.locator(`[data-alert="${rule}"][data-state=acknowledged]`).waitFor({ timeout: 10_000 });
      const listed = await gql(backend.base, operation("DASHBOARD_ALERTS"), { states: ["acknowledged"] }, adminToken);
      const mine = listed.data.alerts.find((a) => a.ruleName === rule);
      expectTrue(mine?.acknowledgedAt && mine.acknowledgedById, `not acknowledged on the server: ${JSON.stringify(listed)}`);

      await page.getByTestId("notification-bell").click();
      const item = page.locator("[data-notification=alert]", { hasText: rule });
      await item.first().waitFor();
      await page.screenshot({ path: `${shots}/dashboard-notifications.png` });
      await axe(page, axeSource, "notifications");
      await page.getByRole("button", { name: "Mark all read" }).click();
      await page.getByTestId("notification-bell").and(page.locator("[data-unread='0']")).waitFor();

      await page.getByRole("button", { name: "Preferences" }).click();
      const dialog = page.getByRole("dialog", { name: "Notification preferences" });
      await dialog.getByLabel("Time zone").waitFor();
      await dialog.getByRole("checkbox", { name: "Slack" }).click();
      await dialog.getByRole("button", { name: "Save preferences" }).click();
      await dialog.getByText("Slack delivery needs a webhook URL.").waitFor(); // the form's rule, before the server's
      await dialog.getByRole("checkbox", { name: "Slack" }).click();
      await dialog.getByRole("checkbox", { name: "Mention" }).click();
      await page.screenshot({ path: `${shots}/dashboard-preferences.png` });
      await axe(page, axeSource, "notification preferences");
      await dialog.getByRole("button", { name: "Save preferences" }).click();
      await dialog.waitFor({ state: "detached" });
      const own = await gql(backend.base, operation("LOGIN"), { email: supervisor.email, password: supervisor.password });
      const prefs = await gql(backend.base, operation("NOTIFICATION_PREFERENCES"), {}, own.data.login.accessToken);
      expectTrue(JSON.stringify(prefs.data.notificationPreferences.mutedKinds) === '["mention"]', `preferences not saved: ${JSON.stringify(prefs)}`);
    },
  },
  {
    name: "dashboard: in Portuguese, the range filter in the URL, a refused filter shows its code",
    locale: "pt-BR",
    async run({ page, backend, shots }) {
      const [email, password] = admin(backend);
      await signIn(page, backend.base, email, password);
      await page.getByRole("link", { name: "Painel", exact: true }).click();
      await page.getByRole("heading", { name: "Painel" }).waitFor();
      await page.getByTestId("dashboard-updated").filter({ hasText: "Atualizado" }).waitFor({ timeout: 15_000 });
      await page.getByRole("combobox", { name: "Período" }).click();
      await page.getByRole("option", { name: "Últimas 24 horas" }).click();
      await page.waitForURL(/\/dashboard\?range=24h$/);
      await page.getByTestId("kpi-messages-in").waitFor();
      await page.screenshot({ path: `${shots}/dashboard-pt-BR.png` });
      // an agent id that is nobody's: the server refuses it, the charts say what that means
      await page.goto(`${backend.base}/dashboard?agent=${Buffer.from("Team:1").toString("base64")}`);
      await page.getByRole("alert").filter({ hasText: "BAD_USER_INPUT" }).first().waitFor({ timeout: 15_000 });
      await page.screenshot({ path: `${shots}/dashboard-error.png` });
    },
  },
];
