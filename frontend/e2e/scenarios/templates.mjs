// The templates screen and the composer's templates (src/routes/templates/, src/components/Composer.tsx).
import { gql, operation } from "../backend.mjs";
import { axe, customerWrites, expectTrue, signIn } from "../scenarios.mjs";

const unique = () => String(Date.now()).slice(-9);
const login = (backend, prefix) => {
  const email = Object.keys(backend.credentials).find((e) => e.startsWith(prefix));
  return [email, backend.credentials[email]];
};

async function adminToken(backend) {
  const [email, password] = login(backend, "admin");
  const r = await gql(backend.base, operation("LOGIN"), { email, password });
  return r.data.login.accessToken;
}

/** A template saved through the API (saveTemplate), as a supervisor would on the screen. */
async function saveTemplate(backend, input) {
  const r = await gql(backend.base, operation("TPL_SAVE"), { input }, await adminToken(backend));
  expectTrue(r.data?.saveTemplate?.id, `saveTemplate failed: ${JSON.stringify(r.errors ?? r)}`);
  return r.data.saveTemplate;
}

export const scenarios = [
  {
    name: "templates: create one with {{ autocompletion and a variant, a new version, the diff and a rollback",
    async run({ page, backend, shots, axeSource }) {
      const u = unique();
      await saveTemplate(backend, { name: `Boas-vindas ${u}`, shortcut: `/oi${u}`, category: "greetings", tags: ["welcome"], body: "Olá {{nome}}, sou {{agent.first_name}} da {{empresa}}. Como posso ajudar?" });
      await saveTemplate(backend, { name: `Horário ${u}`, shortcut: `/horario${u}`, category: "info", tags: ["hours", "store"], body: "Atendemos de segunda a sexta, das 9h às 18h." });
      const [email, password] = login(backend, "admin");
      await signIn(page, backend.base, email, password);
      await page.getByRole("link", { name: "Templates" }).click();
      await page.getByRole("heading", { name: "Templates", level: 1 }).waitFor();
      await page.locator(`[data-template="Horário ${u}"]`).waitFor();
      await page.screenshot({ path: `${shots}/templates-list.png` });
      await axe(page, axeSource, "templates list");

      // search narrows the list
      await page.getByRole("searchbox", { name: "Search templates" }).fill(`/horario${u}`);
      await page.locator(`[data-template="Boas-vindas ${u}"]`).waitFor({ state: "detached" });
      await page.locator(`[data-template="Horário ${u}"]`).waitFor();

      await page.getByRole("link", { name: "New template" }).click();
      await page.getByRole("heading", { name: "New template" }).waitFor();
      const name = `Pedido enviado ${u}`;
      const form = page.getByRole("form", { name: "Template editor" });
      await form.getByLabel("Name").fill(name);
      await form.getByLabel("Shortcut").fill(`/enviado${u}`);
      await form.getByLabel("Category").fill("orders");
      await form.getByLabel("Tags").fill("pedido, entrega");
      const body = form.getByRole("textbox", { name: "Universal text" });
      await body.click();
      await page.keyboard.type("Olá {{cust");
      const suggestions = page.getByRole("listbox", { name: "Variables" });
      await suggestions.waitFor();
      await suggestions.getByRole("option", { name: /customer\.first_name/ }).hover();
      await page.screenshot({ path: `${shots}/templates-editor-variables.png` });
      await page.getByRole("option", { name: /customer\.first_name/ }).click();
      await page.keyboard.type("! Seu pedido {{pedido}} saiu para entrega.");
      expectTrue((await body.inputValue()) === "Olá {{customer.first_name}}! Seu pedido {{pedido}} saiu para entrega.", `body is ${await body.inputValue()}`);
      await form.getByLabel("Label of the prompt pedido").fill("Order number");
      await page.getByRole("combobox", { name: "Platform" }).click();
      await page.getByRole("option").filter({ hasText: "SMS" }).click();
      await page.getByRole("button", { name: "Add variant" }).click();
      await page.getByRole("textbox", { name: "SMS text" }).fill("Pedido {{pedido}} enviado.");
      await page.getByRole("radio", { name: /SMS/ }).click();
      await page.getByTestId("template-preview").filter({ hasText: "Pedido ‹Order number› enviado." }).waitFor();
      await page.getByRole("radio", { name: /WhatsApp/ }).click();
      await page.getByTestId("template-preview").filter({ hasText: "Olá Maria! Seu pedido ‹Order number› saiu para entrega." }).waitFor();
      await body.scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${shots}/templates-editor.png` });
      await axe(page, axeSource, "template editor");

      await page.getByRole("button", { name: "Create template" }).click();
      await page.waitForURL((url) => /^\/templates\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith("/new"));
      await page.getByRole("heading", { name: new RegExp(name) }).waitFor();
      await form.getByRole("textbox", { name: "Universal text" }).fill("Oi {{customer.first_name}}! O pedido {{pedido}} já saiu.");
      await form.getByLabel("Version note").fill("Shorter");
      await page.getByRole("button", { name: "Save as version 2" }).click();
      await page.getByRole("button", { name: "Save as version 3" }).waitFor();

      await page.getByRole("tab", { name: /Versions/ }).click();
      const diff = page.getByTestId("template-diff");
      await diff.locator("[data-kind=add]", { hasText: "O pedido {{pedido}} já saiu." }).waitFor();
      await diff.locator("[data-kind=remove]", { hasText: "Seu pedido {{pedido}} saiu para entrega." }).waitFor();
      await page.screenshot({ path: `${shots}/templates-versions.png` });
      await axe(page, axeSource, "template versions");
      await page.getByRole("button", { name: "Roll back to version 1" }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "Roll back" }).click();
      await page.getByRole("tab", { name: "Versions (3)" }).waitFor();
      await page.getByRole("tab", { name: "Editor" }).click();
      await page.getByRole("textbox", { name: "Universal text" }).filter({ hasText: "Seu pedido {{pedido}} saiu para entrega." }).waitFor();

      await page.getByRole("tab", { name: "Experiments" }).click();
      await page.getByText("No experiments yet").waitFor();
      await page.getByRole("button", { name: "Start experiment" }).click();
      const dialog = page.getByRole("dialog", { name: "Start an experiment" });
      await dialog.getByRole("textbox", { name: "Text of arm B" }).fill("Oi {{customer.first_name}}, o pedido {{pedido}} está a caminho!");
      await dialog.getByRole("button", { name: "Start" }).click();
      await page.locator("[data-verdict=collecting]").waitFor();
      await page.locator("[data-arm=B]").waitFor();
      await page.screenshot({ path: `${shots}/templates-experiment.png` });
      await axe(page, axeSource, "template experiment");
      await page.getByRole("button", { name: "Promote arm B" }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "Promote" }).click();
      await page.getByText("Arm B was promoted to version 4.").waitFor();
      await page.getByRole("tab", { name: "Versions (4)" }).waitFor();

      await page.getByRole("link", { name: "All templates" }).click();
      await page.getByRole("link", { name: "WhatsApp approved" }).click();
      await page.getByRole("combobox", { name: "WhatsApp channel" }).waitFor();
      await page.getByText("No templates in this channel's catalogue").waitFor();
      await page.screenshot({ path: `${shots}/templates-whatsapp.png` });
      await axe(page, axeSource, "whatsapp templates");
      await page.getByRole("button", { name: "Sync from WhatsApp" }).click();
      await page.getByRole("alert").filter({ hasText: "waba_id" }).waitFor(); // the demo channel has no business account: said, not a 500

      // a refused save names its field: a shortcut already taken
      await page.getByRole("link", { name: "Response templates" }).click();
      await page.getByRole("link", { name: "New template" }).click();
      const again = page.getByRole("form", { name: "Template editor" });
      await again.getByLabel("Name").fill(`Outro ${u}`);
      await again.getByLabel("Shortcut").fill(`/horario${u}`);
      await again.getByRole("textbox", { name: "Universal text" }).fill("Abrimos às 9h.");
      await again.getByRole("button", { name: "Create template" }).click();
      await again.getByRole("alert").filter({ hasText: "is taken by another template" }).waitFor();
      expectTrue(await again.getByLabel("Shortcut").evaluate((el) => el.getAttribute("aria-invalid") === "true"), "the shortcut is not marked invalid");
    },
  },
  {
    name: "templates: a webhook arrives live, reply with /shortcut and a filled prompt, the read tick",
    async run({ page, backend, shots, axeSource }) {
      const u = unique();
      const shortcut = `/pedido${u}`;
      await saveTemplate(backend, {
        name: `Status do pedido ${u}`,
        shortcut,
        category: "orders",
        body: 'Olá {{customer.first_name | "cliente"}}! Seu pedido {{pedido}} saiu para entrega.',
        prompts: [{ name: "pedido", label: "Order number" }],
      });
      const [email, password] = login(backend, "agent1");
      await signIn(page, backend.base, email, password);
      const name = `Tina Template ${u}`;
      await customerWrites(backend, `55219${u}`, name, "Oi! Cadê meu pedido?");
      const first = page.locator("[data-conversation]").first();
      await first.filter({ hasText: name }).waitFor({ timeout: 15_000 }); // live, no reload
      await first.click();
      await page.locator("[data-direction=INBOUND]", { hasText: "Cadê meu pedido" }).waitFor();

      const reply = page.getByRole("textbox", { name: "Reply" });
      await reply.click();
      await page.keyboard.type(shortcut.slice(0, 7));
      const popover = page.getByRole("listbox", { name: "Templates" });
      await popover.getByRole("option", { name: new RegExp(`Status do pedido ${u}`) }).waitFor();
      await page.keyboard.type(shortcut.slice(7));
      await popover.getByRole("option").first().filter({ hasText: `Status do pedido ${u}` }).waitFor();
      await page.screenshot({ path: `${shots}/templates-composer-popover.png` });
      await axe(page, axeSource, "composer popover");
      await page.keyboard.press("Enter");

      const prompt = page.getByLabel("Order number");
      await prompt.waitFor();
      expectTrue(await prompt.evaluate((el) => el === document.activeElement), "the prompt is not focused");
      await page.getByTestId("composer-preview").filter({ hasText: "Seu pedido ‹Order number›" }).waitFor();
      await page.getByRole("button", { name: "Send template" }).isDisabled().then((d) => expectTrue(d, "sent without its prompt"));
      await page.keyboard.type("A-1023");
      await page.getByTestId("composer-preview").filter({ hasText: "Olá Tina! Seu pedido A-1023 saiu para entrega." }).waitFor();
      await page.screenshot({ path: `${shots}/templates-composer-prompt.png` });
      await axe(page, axeSource, "composer template");
      await page.keyboard.press("Enter");

      const bubble = page.locator("[data-direction=OUTBOUND]", { hasText: "Seu pedido A-1023 saiu para entrega." });
      await bubble.waitFor();
      await bubble.locator("[data-tick=READ]").waitFor({ timeout: 20_000 }); // the fake WhatsApp reads it: ✓✓
      await page.getByRole("textbox", { name: "Reply" }).waitFor(); // the composer is back to free text
      await page.screenshot({ path: `${shots}/templates-composer-read.png` });

      // agents read templates: the use is counted, nothing to edit
      await page.getByRole("link", { name: "Templates" }).click();
      await page.getByRole("heading", { name: "Templates", level: 1 }).waitFor();
      const row = page.locator(`[data-template="Status do pedido ${u}"]`);
      await row.and(page.locator('[data-uses="1"][data-mine="1"]')).waitFor(); // counted, for me too
      await row.click();
      await page.getByText("Used once").waitFor();
      await page.getByRole("tab", { name: "Content" }).waitFor();
      expectTrue((await page.getByRole("tab", { name: "Experiments" }).count()) === 0, "an agent sees the experiments tab");
      expectTrue((await page.getByRole("button", { name: "Archive" }).count()) === 0, "an agent may archive");
      expectTrue(await page.getByRole("textbox", { name: "Universal text" }).isDisabled(), "an agent may edit");
      await axe(page, axeSource, "template, read-only");
    },
  },
  {
    name: "templates: in Portuguese, the list and the editor's variable suggestions",
    locale: "pt-BR",
    async run({ page, backend, shots, axeSource }) {
      const u = unique();
      await saveTemplate(backend, { name: `Troca ${u}`, shortcut: `/troca${u}`, category: "trocas", tags: ["devolucao"], body: "Olá {{nome}}! A troca do pedido {{pedido}} foi aprovada.", prompts: [{ name: "pedido", label: "Número do pedido" }] });
      const [email, password] = login(backend, "admin");
      await signIn(page, backend.base, email, password);
      await page.getByRole("link", { name: "Modelos" }).click();
      await page.getByRole("heading", { name: "Modelos", level: 1 }).waitFor();
      await page.locator(`[data-template="Troca ${u}"]`).click();
      await page.getByRole("tab", { name: "Editor" }).waitFor();
      const body = page.getByRole("form", { name: "Editor de modelo" }).getByRole("textbox", { name: "Texto universal" });
      await body.click();
      await page.keyboard.press("End");
      await page.keyboard.type(" {{ped");
      await page.getByRole("listbox", { name: "Variáveis" }).getByRole("option", { name: /pedido/ }).waitFor();
      await page.screenshot({ path: `${shots}/templates-editor-pt-BR.png` });
      await axe(page, axeSource, "template editor pt-BR");
    },
  },
];
