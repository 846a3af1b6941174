// The flow builder: a three-node flow built by drag and drop (trigger with a keyword → send
// message → end), simulated, published with a note, then triggered by a customer's webhook; the
// bot's reply shows in the conversation's timeline in the inbox.
import { gql, operation } from "../backend.mjs";
import { axe, customerWrites, expectTrue, signIn } from "../scenarios.mjs";

const unique = () => String(Date.now()).slice(-7);
const admin = (backend) => {
  const email = Object.keys(backend.credentials).find((e) => e.startsWith("admin"));
  return [email, backend.credentials[email]];
};

async function dropBlock(page, kind, x, y) {
  await page.locator(`[data-palette="${kind}"]`).dragTo(page.locator("[data-flow-canvas] .react-flow__pane"), { targetPosition: { x, y } });
  await page.locator(`[data-node="${kind}"]`).waitFor();
}

async function connect(page, from, port, to) {
  const handle = page.locator(`.react-flow__node[data-id="${from}"] .react-flow__handle.source[data-handleid="${port}"]`);
  const target = page.locator(`.react-flow__node[data-id="${to}"] .react-flow__handle.target`);
  const a = await handle.boundingBox();
  const b = await target.boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.locator(`.react-flow__edge[data-id="${from}:${port}->${to}"], .react-flow__edge[aria-label*="${from}"]`).first().waitFor({ timeout: 5_000 });
}

const edgeCount = (page) => page.locator(".react-flow__edge").count();

export const scenarios = [
  {
    name: "flows: build by drag and drop, simulate, publish, a webhook triggers it, the bot replies in the inbox",
    async run({ page, backend, shots, axeSource }) {
      const [email, password] = admin(backend);
      await signIn(page, backend.base, email, password);
      await page.getByRole("link", { name: "Flows" }).click();
      await page.getByRole("heading", { name: "Flows" }).waitFor();
      await page.screenshot({ path: `${shots}/flows-list-empty.png` });
      await axe(page, axeSource, "flows list");

      const keyword = `rastreio${unique()}`;
      const name = `Order tracking ${unique()}`;
      await page.getByRole("button", { name: "New flow" }).first().click();
      await page.waitForURL(/\/flows\/new$/);
      const title = page.getByRole("textbox", { name: "Flow name" });
      await title.fill(name);

      // three blocks dragged from the palette onto the canvas
      await dropBlock(page, "trigger", 260, 90);
      await page.getByRole("textbox", { name: "Keywords" }).fill(keyword);
      await dropBlock(page, "send_message", 260, 260);
      await page.getByRole("textbox", { name: "Message" }).fill("Your order is on its way, {{customer.name}}!");
      await dropBlock(page, "end", 260, 440);

      // edges drawn from the ports' handles
      await connect(page, "trigger", "next", "send_message");
      await connect(page, "send_message", "next", "end");
      expectTrue((await edgeCount(page)) === 2, "two edges expected");

      // undo / redo from the keyboard (focus on the canvas, not in a text field)
      await page.locator("[data-flow-canvas] .react-flow__pane").click({ position: { x: 40, y: 40 } });
      await page.keyboard.press("Control+z");
      await page.waitForFunction(() => document.querySelectorAll(".react-flow__edge").length === 1);
      await page.keyboard.press("Control+Shift+z");
      await page.waitForFunction(() => document.querySelectorAll(".react-flow__edge").length === 2);

      // the draft is saved by itself (the flow is created, the route becomes its id)
      await page.locator("[data-save-status=saved]").waitFor({ timeout: 15_000 });
      await page.waitForURL(/\/flows\/(?!new)[^/]+$/);
      await page.screenshot({ path: `${shots}/flows-editor.png` });
      await axe(page, axeSource, "flow editor");

      // a node the server refuses shows the server's words on it: the end block unreachable
      // (the builder cannot tell; the server names the node)
      await page.locator(".react-flow__edge").nth(1).click({ force: true });
      await page.keyboard.press("Delete");
      await page.locator('[data-node="end"][data-problems]').waitFor({ timeout: 15_000 });
      const said = await page.locator('[data-node="end"] [data-node-problems]').innerText();
      expectTrue(/no path from the trigger/i.test(said), `the server's problem is not on the node: ${said}`);
      await page.screenshot({ path: `${shots}/flows-server-problem.png` });
      await page.locator("[data-flow-canvas] .react-flow__pane").click({ position: { x: 40, y: 40 } });
      await page.keyboard.press("Control+z");
      await page.waitForFunction(() => document.querySelectorAll(".react-flow__edge").length === 2);
      await page.locator("[data-save-status=saved]").waitFor({ timeout: 15_000 });

      // the simulator: the customer's line, the bot's answer, step by step
      await page.getByRole("tab", { name: "Test" }).click();
      await page.getByLabel("The customer says").fill(`Hi, I need ${keyword} please`);
      await page.keyboard.press("Enter");
      await page.getByRole("button", { name: "Run test" }).click();
      await page.locator('[data-transcript] [data-from="bot"]', { hasText: "Your order is on its way" }).waitFor();
      await page.locator("[data-sim-status=ended]").waitFor();
      await page.getByRole("button", { name: "Next step" }).click().catch(() => undefined);
      await page.screenshot({ path: `${shots}/flows-simulator.png` });
      await axe(page, axeSource, "flow simulator");

      // publish with a note; the version history shows it
      await page.getByRole("button", { name: "Publish" }).click();
      await page.getByRole("dialog").getByLabel("Version note").fill("First version: answers order tracking");
      await page.getByRole("dialog").getByRole("button", { name: "Publish" }).click();
      await page.locator("[data-published]").waitFor({ timeout: 15_000 });
      await page.getByRole("tab", { name: "Versions" }).click();
      await page.getByText("First version: answers order tracking").waitFor();
      await page.screenshot({ path: `${shots}/flows-versions.png` });

      // an edit saved as v3, then v2 restored: the canvas shows v2's text again (saved as v4)
      await page.locator('[data-node="send_message"]').click();
      await page.getByRole("textbox", { name: "Message" }).fill("A draft nobody should see");
      await page.locator("[data-save-status=saved]", { hasText: "v3" }).waitFor({ timeout: 15_000 });
      await page.getByRole("tab", { name: "Versions" }).click();
      await page.getByRole("button", { name: "Restore version 2" }).click();
      await page.locator('[data-node="send_message"]', { hasText: "Your order is on its way" }).waitFor();
      await page.locator("[data-save-status=saved]", { hasText: "v4" }).waitFor({ timeout: 15_000 });
      expectTrue((await page.locator("[data-published]").getAttribute("data-published")) === "2", "the published version changed");

      // a customer writes the keyword: the webhook starts the flow, the bot answers
      const customer = `Flora Flow ${unique()}`;
      await customerWrites(backend, `55219${unique()}`, customer, `Hello! ${keyword}`);
      await page.getByRole("tab", { name: "Runs" }).click();
      await page.locator("[data-run=completed]").first().waitFor({ timeout: 20_000 });
      await page.screenshot({ path: `${shots}/flows-runs.png` });
      await axe(page, axeSource, "flow runs");

      await page.getByRole("link", { name: "Open conversation" }).first().click();
      await page.waitForURL(/\/inbox\/.+/);
      await page.locator("[data-direction=INBOUND]", { hasText: keyword }).waitFor({ timeout: 15_000 });
      await page.locator("[data-direction=OUTBOUND]", { hasText: `Your order is on its way, ${customer}!` }).waitFor({ timeout: 20_000 });
      await page.screenshot({ path: `${shots}/flows-bot-reply.png` });

      await page.getByRole("link", { name: "Flows" }).click();
      await page.locator(`[data-flow-row="${name}"]`).getByText("Live").waitFor();
      await page.screenshot({ path: `${shots}/flows-list.png` });
    },
  },
];

scenarios.push({
  name: "flows: built from the keyboard in Portuguese, buttons with their ports, a form's problem on its field",
  locale: "pt-BR",
  async run({ page, backend, shots, axeSource }) {
    const [email, password] = admin(backend);
    await signIn(page, backend.base, email, password);
    await page.goto(`${backend.base}/flows/new`);
    await page.getByText("Comece com um gatilho").waitFor();
    // palette blocks added by pressing them, edges chosen in the node's "next steps"
    await page.getByRole("button", { name: "Adicionar Gatilho" }).press("Enter");
    await page.getByRole("textbox", { name: "Palavras-chave" }).fill(`menu${unique()}`);
    await page.getByRole("button", { name: "Adicionar Botões" }).press("Enter");
    await page.getByRole("textbox", { name: "Mensagem" }).fill("Como podemos ajudar?");
    await page.getByRole("button", { name: "Adicionar Fazer pergunta" }).press("Enter");
    await page.getByRole("textbox", { name: "Pergunta" }).fill("Qual é o número do pedido?");
    await page.getByRole("textbox", { name: "Guardar a resposta em" }).fill("Pedido");
    await page.getByText("variable: a name of lower-case letters").first().waitFor();
    await page.locator('[data-node="ask"][data-problems]').waitFor();
    await page.getByRole("textbox", { name: "Guardar a resposta em" }).fill("pedido");
    await page.locator('[data-node="ask"]:not([data-problems])').waitFor();

    const fit = () => page.locator(".react-flow__controls-fitview").click();
    await fit();
    await page.locator('[data-node="trigger"]').click();
    await page.getByLabel("next", { exact: true }).selectOption("buttons");
    await page.locator('[data-node="buttons"]').click();
    await page.getByLabel("yes", { exact: true }).selectOption("ask");
    await page.getByRole("button", { name: "Adicionar Fim" }).press("Enter");
    await fit();
    await page.locator('[data-node="buttons"]').click();
    await page.getByLabel("no", { exact: true }).selectOption("end");
    await page.locator('[data-node="ask"]').click();
    await page.getByLabel("next", { exact: true }).selectOption("end");
    await page.locator('[data-node="ask"]').click();
    await page.locator("[data-save-status=saved]").waitFor({ timeout: 15_000 });
    expectTrue((await page.locator(".react-flow__edge").count()) === 4, "four edges expected");
    await page.screenshot({ path: `${shots}/flows-keyboard-pt-BR.png` });
    await axe(page, axeSource, "flow editor (pt-BR)");

    // a condition's branches: a test per branch, its problem under it
    await page.getByRole("button", { name: "Adicionar Condição" }).press("Enter");
    await page.locator('[data-branch="0"]').getByRole("textbox", { name: "Nome" }).fill("VIP");
    await page.locator('[data-branch="0"]').getByText("label: a name of lower-case letters").waitFor();
    await page.locator('[data-branch="0"]').getByRole("textbox", { name: "Nome" }).fill("vip");
    await page.getByRole("button", { name: "Adicionar ramo" }).click();
    await page.locator('[data-branch="1"]').getByRole("combobox", { name: "Quando" }).selectOption("business_hours");
    await page.locator(`[data-node="condition"] .react-flow__handle[data-handleid="branch_2"]`).waitFor();
    await page.screenshot({ path: `${shots}/flows-condition-pt-BR.png` });
    await axe(page, axeSource, "condition form (pt-BR)");
  },
});

scenarios.push({
  name: "flows: a run waiting for the customer is cancelled from the flow's runs",
  async run({ page, backend, shots, axeSource }) {
    const [email, password] = admin(backend);
    const login = await gql(backend.base, operation("LOGIN"), { email, password });
    const token = login.data.login.accessToken;
    const keyword = `pedido${unique()}`;
    const definition = {
      nodes: [
        { id: "trigger", type: "trigger", position: { x: 0, y: 0 }, config: { keywords: [keyword] } },
        { id: "ask", type: "ask", position: { x: 0, y: 180 }, config: { text: "What is your order number?", variable: "order", validation: { kind: "number" } } },
        { id: "end", type: "end", position: { x: 0, y: 360 }, config: {} },
      ],
      edges: [{ from: "trigger", to: "ask" }, { from: "ask", to: "end" }, { from: "ask", to: "end", port: "invalid" }],
    };
    const saved = await gql(backend.base, operation("SAVE_FLOW"), { input: { name: `Order number ${unique()}`, definition } }, token);
    const id = saved.data?.saveFlow?.id;
    expectTrue(id, `saveFlow: ${JSON.stringify(saved)}`);
    const published = await gql(backend.base, operation("PUBLISH_FLOW"), { id, version: null }, token);
    expectTrue(published.data?.publishFlow?.publishedVersion === 1, `publishFlow: ${JSON.stringify(published)}`);
    await customerWrites(backend, `55319${unique()}`, `Walter Wait ${unique()}`, `oi ${keyword}`);

    await signIn(page, backend.base, email, password);
    await page.goto(`${backend.base}/flows/${id}`);
    await page.getByRole("tab", { name: "Runs" }).click();
    await page.locator("[data-run=waiting]").waitFor({ timeout: 20_000 });
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Cancel run" }).click();
    await page.locator("[data-run=cancelled]").waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${shots}/flows-run-cancelled.png` });
    await axe(page, axeSource, "flow runs after a cancel");
  },
});

scenarios.push({
  name: "flows: a transfer block's team picked by name (stored as its id), published",
  async run({ page, backend, shots, axeSource }) {
    const [email, password] = admin(backend);
    const login = await gql(backend.base, operation("LOGIN"), { email, password });
    const token = login.data.login.accessToken;
    const teamName = `Entregas ${unique()}`;
    const team = await gql(backend.base, operation("ADMIN_ROUTING_CREATE_TEAM"), { name: teamName }, token);
    const teamId = team.data?.saveTeam?.id;
    expectTrue(teamId, `saveTeam: ${JSON.stringify(team)}`);

    await signIn(page, backend.base, email, password);
    await page.goto(`${backend.base}/flows/new`);
    await page.getByRole("textbox", { name: "Flow name" }).fill(`Hand-off ${unique()}`);
    await page.getByRole("button", { name: "Add Trigger" }).press("Enter");
    await page.getByRole("textbox", { name: "Keywords" }).fill(`entrega${unique()}`);
    await page.getByRole("button", { name: "Add Transfer" }).press("Enter");

    // the team by its name: typed, offered, picked; the node keeps the team's id
    const picker = page.getByRole("combobox", { name: "Team" });
    await picker.click();
    await picker.fill(teamName.split(" ")[1]);
    await page.getByRole("option", { name: teamName }).click();
    expectTrue((await picker.inputValue()) === teamName, `the picker shows ${await picker.inputValue()}`);
    await page.locator(`[data-picker-value="${teamId}"][data-picker-state=named]`).waitFor();
    await page.screenshot({ path: `${shots}/flows-team-picker.png` });
    await axe(page, axeSource, "transfer block with its team picker");

    await page.locator('[data-node="trigger"]').click();
    await page.getByLabel("next", { exact: true }).selectOption("transfer");
    await page.locator("[data-save-status=saved]").waitFor({ timeout: 15_000 });
    await page.getByRole("button", { name: "Publish" }).click();
    await page.getByRole("dialog").getByLabel("Version note").fill("Hands off to the delivery team");
    await page.getByRole("dialog").getByRole("button", { name: "Publish" }).click();
    await page.locator("[data-published]").waitFor({ timeout: 15_000 });

    const flowId = page.url().split("/").pop();
    const saved = await gql(backend.base, operation("FLOW"), { id: flowId }, token);
    const transfer = saved.data?.flow?.definition?.nodes?.find((n) => n.type === "transfer");
    expectTrue(transfer?.config?.team_id === teamId, `the published transfer: ${JSON.stringify(transfer)}`);
    expectTrue(saved.data.flow.publishedVersion >= 1, "not published");

    // opened again, the block reads the team's name, not its id
    await page.reload();
    await page.locator('[data-node="transfer"]').click();
    await page.locator(`[data-picker-value="${teamId}"][data-picker-state=named]`).waitFor();
    expectTrue((await page.getByRole("combobox", { name: "Team" }).inputValue()) === teamName, "the name is not shown after a reload");
  },
});

scenarios.push({
  name: "flows: an enabled module's node type in the palette, its form drawn from its JSON Schema",
  async run({ page, backend, shots, axeSource }) {
    const [email, password] = admin(backend);
    const login = await gql(backend.base, operation("LOGIN"), { email, password });
    const token = login.data.login.accessToken;
    // posts no event (events: []), so the URL is never reached
    const config = { webhook_url: "https://hooks.slack.com/services/T0/B0/e2e", events: [] };
    const configured = await gql(backend.base, operation("ADMIN_CONFIGURE_MODULE"), { name: "slack_alerts", config }, token);
    expectTrue(configured.data?.configureModule, `configureModule: ${JSON.stringify(configured)}`);
    const enabled = await gql(backend.base, operation("ADMIN_ENABLE_MODULE"), { name: "slack_alerts" }, token);
    expectTrue(enabled.data?.enableModule?.status === "ENABLED", `enableModule: ${JSON.stringify(enabled)}`);
    try {
      await signIn(page, backend.base, email, password);
      await page.goto(`${backend.base}/flows/new`);
      await page.locator('[data-palette-group="module:slack_alerts"]').getByText("Slack alerts (module)").waitFor();
      await page.getByRole("button", { name: "Add Trigger" }).press("Enter");
      await page.getByRole("textbox", { name: "Keywords" }).fill(`slack${unique()}`);
      await page.getByRole("button", { name: "Add slack_notify" }).press("Enter");
      // the schema's required text: the form (Settings → Modules' component) and the block say so
      await page.locator('[data-node-form="slack_notify"]').getByText("Required.").waitFor();
      await page.locator('[data-node="slack_notify"][data-problems]').waitFor();
      await page.getByRole("textbox", { name: "Text" }).fill("A VIP customer wrote");
      await page.locator('[data-node="slack_notify"]:not([data-problems])').waitFor();
      // its ports are the server's
      await page.locator('.react-flow__node[data-id="slack_notify"] .react-flow__handle.source[data-handleid="error"]').waitFor();
      await page.screenshot({ path: `${shots}/flows-module-node.png` });
      await axe(page, axeSource, "a module's node in the flow editor");
    } finally {
      await gql(backend.base, operation("ADMIN_DISABLE_MODULE"), { name: "slack_alerts" }, token);
    }
  },
});
