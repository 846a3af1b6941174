// Admin sections: SLA policies (business hours, a holiday, edit), routing rules, reporting settings.
import { axe, expectTrue, signIn } from "../scenarios.mjs";

const admin = (backend) => {
  const email = Object.keys(backend.credentials).find((e) => e.startsWith("admin"));
  return [email, backend.credentials[email]];
};
const unique = () => String(Date.now()).slice(-6);

export const scenarios = [
  {
    name: "admin-routing: an SLA policy with business hours and a holiday, edited, listed; a routing rule",
    async run({ page, backend, shots, axeSource, log }) {
      const [email, password] = admin(backend);
      await signIn(page, backend.base, email, password);

      // SLA: a new policy, Monday–Friday 09:00–18:00 plus Saturday morning, in São Paulo time,
      // with Christmas off.
      await page.goto(`${backend.base}/admin/sla`);
      await page.getByRole("heading", { name: "SLA policies" }).waitFor();
      await page.getByRole("link", { name: "New policy" }).first().click();
      await page.getByRole("heading", { name: "New SLA policy" }).waitFor();
      const name = `Gold customers ${unique()}`;
      const form = page.getByRole("form", { name: "New SLA policy" });
      await form.getByLabel("Name", { exact: true }).fill(name);
      await form.getByLabel("Time zone").fill("America/Sao_Paulo");
      await form.getByRole("switch", { name: /^Saturday/ }).click();
      await form.getByLabel("Saturday 1: Closes").fill("13:00");
      await form.getByLabel("Holiday date").fill("2026-12-25");
      await form.getByRole("button", { name: "Add holiday" }).click();
      await form.locator("[data-holiday='2026-12-25']").waitFor();
      await page.screenshot({ path: `${shots}/admin-sla-editor-hours.png` });
      await form.evaluate((el) => el.closest("main")?.scrollTo(0, 0));
      await page.screenshot({ path: `${shots}/admin-sla-editor.png` });
      expectTrue(await page.evaluate(() => document.scrollingElement.scrollTop === 0), "the page itself scrolled");
      await axe(page, axeSource, "SLA policy editor");
      await form.getByRole("button", { name: "Save changes" }).click();

      await page.waitForURL(/\/admin\/sla$/);
      const row = page.locator(`[data-policy="${name}"]`);
      await row.waitFor();
      const text = await row.innerText();
      expectTrue(/Mon–Fri 09:00–18:00/.test(text) && /Sat 09:00–13:00/.test(text), `hours not listed: ${text}`);
      expectTrue(/America\/Sao_Paulo/.test(text) && /1 holiday/.test(text), `zone or holiday not listed: ${text}`);

      // Edit: a 30-minute first response, and a new name.
      await row.getByRole("button", { name: `Edit ${name}` }).click();
      await page.getByRole("heading", { name }).waitFor();
      const editor = page.getByRole("form", { name });
      await editor.getByLabel("First response: Amount").fill("30");
      await editor.getByLabel("First response: Unit").click();
      await page.getByRole("option", { name: "minutes" }).click();
      const renamed = `${name} (edited)`;
      await editor.getByLabel("Name", { exact: true }).fill(renamed);
      await editor.getByRole("button", { name: "Save changes" }).click();
      await page.waitForURL(/\/admin\/sla$/);
      const edited = page.locator(`[data-policy="${renamed}"]`);
      await edited.waitFor();
      expectTrue(/First response\s*30m/.test(await edited.innerText()), `edit not listed: ${await edited.innerText()}`);
      await page.getByRole("status").filter({ hasText: "Policy saved" }).waitFor();
      await page.screenshot({ path: `${shots}/admin-sla.png` });
      log(`axe SLA list: ${await axe(page, axeSource, "SLA policies")} minor findings`);

      // Routing: a rule for WhatsApp conversations to a team made on the spot.
      await page.goto(`${backend.base}/admin/routing`);
      await page.getByRole("heading", { name: "Routing rules" }).waitFor();
      await page.getByRole("button", { name: "New rule" }).first().click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("Platform").click();
      await page.getByRole("option", { name: "WhatsApp" }).click();
      await dialog.getByLabel("Language").fill("pt-BR");
      await dialog.getByRole("button", { name: "New team" }).click();
      const team = `Brazil desk ${unique()}`;
      await dialog.getByLabel("New team's name").fill(team);
      await dialog.getByRole("button", { name: "Create team" }).click();
      await dialog.getByLabel("Team", { exact: true }).filter({ hasText: team }).waitFor();
      await page.screenshot({ path: `${shots}/admin-routing-dialog.png` });
      await axe(page, axeSource, "routing rule dialog");
      await dialog.getByRole("button", { name: "Save changes" }).click();
      await dialog.waitFor({ state: "detached" });
      const rule = page.locator("[data-rule]").filter({ hasText: team });
      await rule.waitFor();
      const ruleText = await rule.innerText();
      expectTrue(/WhatsApp/.test(ruleText) && /pt-BR/.test(ruleText), `rule not listed: ${ruleText}`);
      await page.screenshot({ path: `${shots}/admin-routing.png` });
      await axe(page, axeSource, "routing rules");

      // Reporting: the CSAT survey, prices and conversions.
      await page.goto(`${backend.base}/admin/reporting`);
      await page.getByRole("heading", { name: "Satisfaction survey" }).waitFor();
      await page.getByLabel("Question").waitFor();
      await page.screenshot({ path: `${shots}/admin-reporting.png` });
      await axe(page, axeSource, "reporting");
      await page.getByRole("tab", { name: "Platform prices" }).click();
      await page.getByRole("button", { name: "Add price" }).click();
      await page.getByLabel("Kind 1").fill("marketing");
      await page.getByLabel("Price 1").fill("0.0125");
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.getByRole("status").filter({ hasText: "Prices saved" }).waitFor();
      expectTrue((await page.getByLabel("Price 1").inputValue()) === "0.0125", "the saved price did not come back");
      await page.screenshot({ path: `${shots}/admin-reporting-prices.png` });
      await axe(page, axeSource, "reporting prices");
    },
  },
];
