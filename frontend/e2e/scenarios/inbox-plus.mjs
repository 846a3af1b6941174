// Issue 16: the inbox's filters (a label and a date range), a saved view's live count, full-text
// search with highlighted matches, bulk resolve with per-row errors, snooze to a picked date and
// time, merging two customers and editing a customer's attributes from the customer panel. Axe on each state, screenshots.
import { gql, operation } from "../backend.mjs";
import { axe, customerWrites, expectTrue, signIn } from "../scenarios.mjs";

const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const digits = () => String(Date.now()).slice(-8) + String(Math.floor(Math.random() * 90 + 10));
const credentialsOf = (backend, prefix) => {
  const email = Object.keys(backend.credentials).find((e) => e.startsWith(prefix));
  return [email, backend.credentials[email]];
};
const localDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

async function tokenOf(backend, prefix) {
  const [email, password] = credentialsOf(backend, prefix);
  return (await gql(backend.base, operation("LOGIN"), { email, password })).data.login.accessToken;
}

/** The conversation a customer's message landed in, found by the customer's name (search). */
async function conversationOf(backend, token, name) {
  for (let i = 0; i < 40; i += 1) {
    const found = await gql(backend.base, operation("SEARCH"), { query: name, filter: null, after: null }, token);
    const hit = found.data?.search.edges.find((e) => e.node.customer.name === name);
    if (hit) return hit.node;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no conversation for ${name}`);
}

const row = (page, name) => page.locator("[data-conversation]", { hasText: name });

export const scenarios = [
  {
    name: "inbox-plus: filter by a label and a date range",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = credentialsOf(backend, "agent1");
      await signIn(page, backend.base, email, password);
      const tag = `vip${unique()}`;
      const name = `Lara Label ${unique()}`;
      await customerWrites(backend, `55219${digits()}`, name, "I need a refund for my last order");
      await row(page, name).first().click();
      // the label, added from the customer panel
      const add = page.getByRole("textbox", { name: "Add label" });
      await add.fill(tag);
      await add.press("Enter");
      await page.locator(`[data-label="${tag}"]`).waitFor();

      await page.getByTestId("filters-button").click();
      const labelBox = page.getByLabel("Labels (all of)");
      await labelBox.fill(tag);
      await labelBox.press("Enter");
      const today = localDay(new Date());
      await page.getByLabel("From", { exact: true }).fill(today);
      await page.getByLabel("To", { exact: true }).fill(today);
      await page.screenshot({ path: `${shots}/inbox-plus-filters.png` });
      await axe(page, axeSource, "filters popover");
      await page.keyboard.press("Escape");
      await page.waitForFunction((n) => {
        const rows = [...document.querySelectorAll("[data-conversation]")];
        return rows.length === 1 && rows[0].textContent.includes(n);
      }, name, { timeout: 15_000 });
      await page.locator("[data-chip]", { hasText: `#${tag}` }).waitFor();

      // a range that ended yesterday: nothing
      const yesterday = new Date(Date.now() - 86_400_000);
      await page.getByTestId("filters-button").click();
      await page.getByLabel("From", { exact: true }).fill(localDay(new Date(Date.now() - 3 * 86_400_000)));
      await page.getByLabel("To", { exact: true }).fill(localDay(yesterday));
      await page.keyboard.press("Escape");
      await page.getByText("No conversations here").waitFor({ timeout: 15_000 });
      await page.screenshot({ path: `${shots}/inbox-plus-filters-empty.png` });
      await axe(page, axeSource, "filtered inbox, empty");
    },
  },
  {
    name: "inbox-plus: a saved view's count moves when a webhook arrives",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = credentialsOf(backend, "agent1");
      await signIn(page, backend.base, email, password);
      const word = `parcel${unique()}`;
      await customerWrites(backend, `55319${digits()}`, `Vera View ${unique()}`, `Where is my ${word}?`);
      const search = page.getByRole("searchbox", { name: "Search conversations" });
      await search.fill(word);
      await page.locator("[data-hit]").first().waitFor({ timeout: 15_000 });
      await page.getByRole("button", { name: "Save view" }).click();
      const viewName = `Parcels ${unique()}`;
      await page.getByRole("textbox", { name: "Name" }).fill(viewName);
      await page.getByRole("button", { name: "Save", exact: true }).click();
      const count = page.locator(`[data-view="${viewName}"] [data-view-count]`);
      await page.locator(`[data-view="${viewName}"] [data-view-count="1"]`).waitFor({ timeout: 15_000 });
      await page.screenshot({ path: `${shots}/inbox-plus-saved-view.png` });
      await axe(page, axeSource, "saved views");

      await customerWrites(backend, `55319${digits()}`, `Otto View ${unique()}`, `My ${word} never came`);
      await page.locator(`[data-view="${viewName}"] [data-view-count="2"]`).waitFor({ timeout: 20_000 });
      expectTrue((await count.textContent()) === "2", "the view's count did not move to 2");
      // the view, picked again from a cleared search, shows its conversations
      await search.fill("");
      await page.locator(`[data-view="${viewName}"]`).click();
      await page.waitForFunction(() => document.querySelectorAll("[data-hit]").length === 2, null, { timeout: 15_000 });
    },
  },
  {
    name: "inbox-plus: search highlights a match",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = credentialsOf(backend, "agent1");
      await signIn(page, backend.base, email, password);
      const code = `zq${unique()}`;
      const name = `Sofia Search ${unique()}`;
      await customerWrites(backend, `55419${digits()}`, name, `O pedido ${code} chegou quebrado, quero trocar`);
      await page.keyboard.press("/");
      await page.keyboard.type(`quebrados ${code}`);
      const hit = page.locator("[data-hit]", { hasText: name });
      await hit.waitFor({ timeout: 15_000 });
      const marked = await hit.locator("mark[data-match]").allTextContents();
      expectTrue(marked.some((m) => m.toLowerCase() === "quebrado") && marked.includes(code), `marked: ${JSON.stringify(marked)}`);
      await page.screenshot({ path: `${shots}/inbox-plus-search.png` });
      await axe(page, axeSource, "search results");
      await hit.click();
      await page.getByRole("heading", { name: new RegExp(name) }).waitFor();
    },
  },
  {
    name: "inbox-plus: bulk-resolve three conversations, a failure shown on its row",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = credentialsOf(backend, "agent1");
      const token = await tokenOf(backend, "agent1");
      await signIn(page, backend.base, email, password);
      const batch = unique();
      const names = [1, 2, 3].map((i) => `Bulk ${i} ${batch}`);
      for (const n of names) await customerWrites(backend, `55519${digits()}`, n, `Bulk test ${batch}`);
      const closedName = `Bulk closed ${batch}`;
      await customerWrites(backend, `55519${digits()}`, closedName, `Bulk test ${batch}`);
      const closed = await conversationOf(backend, token, closedName);
      const shut = await gql(backend.base, operation("SET_STATUS"), { id: closed.id, status: "CLOSED", until: null }, token);
      expectTrue(shut.data?.setConversationStatus.status === "CLOSED", `could not close: ${JSON.stringify(shut)}`);

      await page.getByRole("combobox", { name: "Status" }).click();
      await page.getByRole("option", { name: "Any status" }).click();
      for (const n of [...names, closedName]) await row(page, n).waitFor({ timeout: 15_000 });
      for (const n of [...names, closedName]) await page.getByRole("checkbox", { name: `Select ${n}` }).click();
      await page.getByTestId("bulk-count").filter({ hasText: "4 selected" }).waitFor();
      await page.screenshot({ path: `${shots}/inbox-plus-bulk-selected.png` });
      await axe(page, axeSource, "bulk selection");
      await page.getByRole("region", { name: "Bulk actions" }).getByRole("button", { name: "Resolve" }).click();
      await page.getByTestId("bulk-result").filter({ hasText: "3 conversations changed." }).waitFor({ timeout: 15_000 });
      await row(page, closedName).locator("[data-row-error]").waitFor();
      for (const n of names) await row(page, n).getByText("Resolved").waitFor({ timeout: 15_000 });
      await page.screenshot({ path: `${shots}/inbox-plus-bulk-result.png` });
      for (const n of names) {
        const c = await conversationOf(backend, token, n);
        expectTrue(c.status === "RESOLVED", `${n} is ${c.status}`);
      }
    },
  },
  {
    name: "inbox-plus: snooze to a picked date and time",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = credentialsOf(backend, "agent1");
      const token = await tokenOf(backend, "agent1");
      await signIn(page, backend.base, email, password);
      const name = `Sam Snooze ${unique()}`;
      await customerWrites(backend, `55619${digits()}`, name, "Call me back on Thursday please");
      await row(page, name).first().click();
      await page.getByRole("heading", { name: new RegExp(name) }).waitFor();
      await page.getByTestId("snooze-button").click();
      const at = new Date(Date.now() + 3 * 86_400_000);
      at.setHours(10, 30, 0, 0);
      const picked = `${localDay(at)}T10:30`;
      await page.getByLabel("Pick a date and time").fill(picked);
      await page.screenshot({ path: `${shots}/inbox-plus-snooze.png` });
      await axe(page, axeSource, "snooze picker");
      await page.getByRole("button", { name: "Snooze", exact: true }).last().click();
      await page.locator('header [data-status="SNOOZED"]').waitFor({ timeout: 10_000 });
      const banner = page.locator("[data-snoozed-until]");
      await banner.waitFor();
      const until = await banner.getAttribute("data-snoozed-until");
      expectTrue(Date.parse(until) === at.getTime(), `snoozed until ${until}, picked ${at.toISOString()}`);
      const c = await conversationOf(backend, token, name);
      expectTrue(Date.parse(c.snoozedUntil) === at.getTime(), `the server has ${c.snoozedUntil}`);
      await page.screenshot({ path: `${shots}/inbox-plus-snoozed.png` });

      // escalate, with a reason, into the escalated queue: priority at least High, the reason in the timeline
      await page.getByRole("button", { name: "More actions" }).click();
      await page.getByRole("menuitem", { name: "Escalate…" }).click();
      const dialog = page.getByRole("dialog", { name: "Escalate the conversation" });
      await dialog.getByRole("button", { name: "Escalate" }).click();
      await dialog.getByText("Say why.").waitFor(); // the reason is required
      await dialog.getByLabel("Reason").fill("Customer threatens to cancel");
      await page.screenshot({ path: `${shots}/inbox-plus-escalate.png` });
      await axe(page, axeSource, "escalate dialog");
      await dialog.getByRole("button", { name: "Escalate" }).click();
      await page.locator('[data-activity="escalated"]', { hasText: "Customer threatens to cancel" }).waitFor({ timeout: 10_000 });
      await page.getByRole("button", { name: /Priority: High|Priority: Urgent/ }).waitFor();
    },
  },
  {
    name: "inbox-plus: merge two customers from the customer panel",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = credentialsOf(backend, "agent1");
      await signIn(page, backend.base, email, password);
      const family = `Merge${unique()}`;
      const first = `Maya ${family}`;
      const second = `Mayara ${family}`;
      await customerWrites(backend, `55719${digits()}`, first, "Hi, this is my personal number");
      await customerWrites(backend, `55719${digits()}`, second, "Hi again, from my work phone");
      await row(page, first).first().click();
      await page.getByRole("heading", { name: new RegExp(first) }).waitFor();
      const panel = page.getByTestId("customer-panel");
      await panel.locator("[data-identity]").first().waitFor();
      await page.screenshot({ path: `${shots}/inbox-plus-conversation.png` });
      await axe(page, axeSource, "conversation with the customer panel");
      await panel.getByRole("button", { name: "Merge" }).click();
      await page.getByRole("textbox", { name: "Name, phone, e-mail or handle" }).fill(second);
      await page.locator(`[data-candidate="${second}"]`).click();
      await page.getByRole("alertdialog").waitFor();
      await page.screenshot({ path: `${shots}/inbox-plus-merge-confirm.png` });
      await axe(page, axeSource, "merge confirmation");
      await page.getByRole("alertdialog").getByRole("button", { name: "Merge" }).click();
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=customer-panel] [data-identity]").length === 2, null, { timeout: 15_000 });
      await panel.getByTestId("other-conversations").getByText("from my work phone").waitFor({ timeout: 15_000 });
      await page.screenshot({ path: `${shots}/inbox-plus-merged.png` });

      // split the second identity off again, after a confirmation
      await panel.locator(`[data-identity]`, { hasText: second }).getByRole("button", { name: `Split off ${second}` }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "Split off" }).click();
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=customer-panel] [data-identity]").length === 1, null, { timeout: 15_000 });
      await panel.getByText("No other conversations.").waitFor({ timeout: 15_000 });
    },
  },
  {
    name: "inbox-plus: edit a customer attribute in the panel, still there after a reload",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = credentialsOf(backend, "agent1");
      await signIn(page, backend.base, email, password);
      const name = `Alba Attr ${unique()}`;
      await customerWrites(backend, `55319${digits()}`, name, "Can you upgrade my plan?");
      await row(page, name).first().click();
      await page.getByRole("heading", { name: new RegExp(name) }).waitFor();
      const panel = page.getByTestId("customer-panel");
      const attributes = panel.getByTestId("custom-attributes");

      // a name the server would refuse is caught before sending
      await attributes.getByRole("button", { name: "Add attribute" }).click();
      await attributes.getByRole("textbox", { name: "Attribute name" }).fill("Plan Name");
      await attributes.getByRole("textbox", { name: "Attribute value" }).fill("gold");
      await attributes.getByRole("textbox", { name: "Attribute value" }).press("Enter");
      await attributes.getByRole("alert").filter({ hasText: /lower-case letters/ }).waitFor();
      await page.screenshot({ path: `${shots}/inbox-plus-attribute-invalid.png` });
      await axe(page, axeSource, "attribute form with an error");
      await attributes.getByRole("textbox", { name: "Attribute name" }).fill("plan");
      await attributes.getByRole("textbox", { name: "Attribute value" }).press("Enter");
      // shown at once (pending), then confirmed by the server
      await attributes.locator('[data-attribute="plan"] button', { hasText: "gold" }).waitFor();
      await attributes.locator('[data-attribute="plan"] button:not([data-pending])', { hasText: "gold" }).waitFor({ timeout: 10_000 });

      // edited in place
      await attributes.getByRole("button", { name: "Edit plan: gold" }).click();
      const box = attributes.getByRole("textbox", { name: "Value of plan" });
      await box.fill("platinum");
      await box.press("Enter");
      await attributes.locator('[data-attribute="plan"] button:not([data-pending])', { hasText: "platinum" }).waitFor({ timeout: 10_000 });
      await page.screenshot({ path: `${shots}/inbox-plus-attribute.png` });
      await axe(page, axeSource, "customer panel with an edited attribute");

      // a second one, then removed
      await attributes.getByRole("button", { name: "Add attribute" }).click();
      await attributes.getByRole("textbox", { name: "Attribute name" }).fill("city");
      await attributes.getByRole("textbox", { name: "Attribute value" }).fill("Recife");
      await attributes.getByRole("button", { name: "Save" }).click();
      await attributes.locator('[data-attribute="city"] button:not([data-pending])', { hasText: "Recife" }).waitFor({ timeout: 10_000 });
      await attributes.getByRole("button", { name: "Remove city" }).click();
      await attributes.locator('[data-attribute="city"]').waitFor({ state: "detached", timeout: 10_000 });

      // the server kept it: after a reload the panel reads it back
      await page.reload();
      await page.getByRole("heading", { name: new RegExp(name) }).waitFor({ timeout: 15_000 });
      await page.getByTestId("custom-attributes").locator('[data-attribute="plan"] button', { hasText: "platinum" }).waitFor({ timeout: 15_000 });
      expectTrue((await page.getByTestId("custom-attributes").locator('[data-attribute="city"]').count()) === 0, "the removed attribute came back");
    },
  },
];

scenarios.push({
  name: "inbox-plus: an admin mentions a teammate in a note, exports and erases a customer",
  async run({ page, backend, shots, axeSource }) {
    const [email, password] = credentialsOf(backend, "admin");
    await signIn(page, backend.base, email, password);
    const name = `Erin Erase ${unique()}`;
    await customerWrites(backend, `55819${digits()}`, name, "Please delete everything you have about me");
    await row(page, name).first().click();
    await page.getByRole("heading", { name: new RegExp(name) }).waitFor();

    await page.getByRole("tab", { name: "Private note" }).click();
    const note = page.getByRole("textbox", { name: "Private note" });
    await note.click();
    await page.keyboard.type("Can you check this, @Be");
    await page.getByRole("listbox", { name: "People to mention" }).getByRole("option", { name: "Bea Agent" }).waitFor();
    await page.screenshot({ path: `${shots}/inbox-plus-mention.png` });
    await axe(page, axeSource, "mention suggestions");
    await page.keyboard.press("Enter"); // picks the name, does not send
    expectTrue((await note.inputValue()) === "Can you check this, @Bea Agent ", `note box: ${await note.inputValue()}`);
    await page.keyboard.type("before we erase?");
    await page.keyboard.press("Enter");
    await page.locator("[data-direction=NOTE] [data-mention]", { hasText: "@Bea Agent" }).waitFor({ timeout: 10_000 });

    const panel = page.getByTestId("customer-panel");
    await panel.getByRole("button", { name: "Export data" }).click();
    await panel.getByRole("link", { name: "Download the export (JSON)" }).waitFor({ timeout: 30_000 });

    await panel.getByRole("button", { name: "Erase" }).click();
    const dialog = page.getByRole("alertdialog");
    const confirm = dialog.getByRole("button", { name: "Erase for good" });
    await dialog.getByLabel("Reason (kept in the audit log)").fill("Data deletion request received by e-mail");
    expectTrue(await confirm.isDisabled(), "erase is possible before the word is typed");
    await dialog.getByLabel("Type ERASE to confirm").fill("erase");
    await page.screenshot({ path: `${shots}/inbox-plus-erase.png` });
    await axe(page, axeSource, "erase confirmation");
    await confirm.click();
    await panel.getByText(/^Erased: 1 conversation,/).waitFor({ timeout: 15_000 });
    await page.waitForFunction((n) => !document.querySelector("[data-testid=customer-name]")?.textContent?.includes(n), name, { timeout: 15_000 });
  },
});
