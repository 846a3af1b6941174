import { describe, expect, it } from "vitest";
import i18n from "@/i18n";
import { en } from "@/i18n/screens/flows";
import { generalText, graphProblems, problemText, serverProblems } from "./problems";

const refusal = (problems: unknown[]) => ({
  graphQLErrors: [{ message: "the flow is not valid", extensions: { code: "BAD_USER_INPUT", node: "end", problems } }],
});

// Every code resolvers/flow_validation.py (and resolvers/flows.py) gives a problem; a new one
// there needs its strings here (tests/test_flows.py checks the server's side of the codes);
// MODULE_CONFIG_INVALID is left out on purpose: it carries a module's own words, shown as they are.
const SERVER_CODES = [
  "NO_NODES", "TOO_BIG", "DUPLICATE_NODE_ID", "NODE_ID_INVALID", "UNKNOWN_NODE_TYPE", "POSITION_INVALID",
  "CONFIG_NOT_OBJECT", "REQUIRED", "TEXT_TOO_LONG", "NAME_INVALID", "NUMBER_OUT_OF_RANGE", "REGEX_INVALID",
  "ID_INVALID", "ID_NOT_FOUND", "TRIGGER_ONE_KIND", "WORDS_INVALID", "SCHEDULE_INVALID", "CRON_INVALID",
  "TIME_ZONE_INVALID", "TRIGGER_EVENT_INVALID", "SEND_ONE_KIND", "TEMPLATE_INVALID", "VALIDATION_KIND_INVALID",
  "OPTIONS_REQUIRED", "BUTTONS_INVALID", "BUTTON_ID_INVALID", "BUTTON_TITLE_INVALID", "BUTTON_IDS_DUPLICATE",
  "CONDITION_INVALID", "OPERATOR_INVALID", "PLATFORMS_INVALID", "CONDITION_UNKNOWN", "BUSINESS_HOURS_INVALID",
  "BUSINESS_DAYS_INVALID", "BRANCHES_INVALID", "BRANCH_PORTS_DUPLICATE", "SET_ONE_TARGET", "VALUE_INVALID",
  "METHOD_INVALID", "URL_INVALID", "HEADERS_INVALID", "RESPONSE_MAP_INVALID", "TRANSFER_ONE_TARGET",
  "NODE_CONFIG_MISMATCH", "EDGE_FROM_NOWHERE", "EDGE_TO_NOWHERE", "PORT_UNKNOWN", "EDGE_INTO_TRIGGER",
  "TRIGGERS_MANY", "TRIGGER_MISSING", "PORT_TWO_EDGES", "UNREACHABLE", "LOOP_WITHOUT_PAUSE", "NOT_A_VARIABLE",
  "READ_BEFORE_SET",
];

describe("the server's refusal on the nodes it names", () => {
  it("puts each problem on its node, the rest on the flow", () => {
    const error = refusal([
      { node: "end", code: "UNREACHABLE", message: "no path from the trigger reaches this node", params: {} },
      { node: "ghost", code: "EDGE_FROM_NOWHERE", message: "an edge leaves 'ghost', which is not a node", params: { source: "ghost" } },
      { node: null, message: "a flow has exactly one trigger node" },
    ]);
    const found = serverProblems(error, ["trigger", "end"]);
    expect(found?.byNode.end.map((p) => p.code)).toEqual(["UNREACHABLE"]);
    expect(found?.general.map((p) => [p.node, p.code])).toEqual([["ghost", "EDGE_FROM_NOWHERE"], [null, null]]);
  });

  it("is no node problem when the error is something else", () => {
    expect(serverProblems({ graphQLErrors: [{ message: "no", extensions: { code: "FORBIDDEN" } }] }, [])).toBeNull();
    expect(serverProblems(new Error("offline"), [])).toBeNull();
  });

  it("needs exactly one trigger", () => {
    expect(graphProblems([])).toEqual(["noTrigger"]);
    expect(graphProblems(["trigger", "end", "trigger"])).toEqual(["twoTriggers"]);
    expect(graphProblems(["trigger", "end"])).toEqual([]);
  });
});

describe("a server problem in the reader's language, by its code", () => {
  const found = serverProblems(
    refusal([
      { node: "q", code: "NUMBER_OUT_OF_RANGE", message: "config.seconds is a whole number from 1 to 2592000", params: { key: "seconds", low: 1, high: 2592000 } },
      { node: "s", code: "READ_BEFORE_SET", message: "reads the variable 'nome' before every path to it has set it", params: { name: "nome" } },
      { node: "x", code: "SOMETHING_NEW", message: "a rule the builder has not heard of, about {{ nome }}", params: {} },
      { node: "y", message: "an older server's problem, no code" },
    ]),
    ["q", "s", "x", "y"],
  )!;
  const texts = (lng: string) => {
    const t = i18n.getFixedT(lng);
    return ["q", "s", "x", "y"].map((id) => problemText(found.byNode[id][0], t));
  };

  it("translates a known code with its params, in English and in Portuguese", () => {
    expect(texts("en").slice(0, 2)).toEqual([
      "seconds is a whole number from 1 to 2592000.",
      "Reads the variable nome before every path to it has set it.",
    ]);
    expect(texts("pt-BR").slice(0, 2)).toEqual([
      "seconds é um número inteiro de 1 a 2592000.",
      "Lê a variável nome antes que todo caminho até aqui a tenha definido.",
    ]);
  });

  it("falls back to the server's message for a code it does not know, or none", () => {
    for (const lng of ["en", "pt-BR"]) expect(texts(lng).slice(2)).toEqual(["a rule the builder has not heard of, about {{ nome }}", "an older server's problem, no code"]);
  });

  it("names the node of a problem of the flow as a whole", () => {
    const t = i18n.getFixedT("pt-BR");
    expect(generalText({ node: "ghost", code: "EDGE_FROM_NOWHERE", message: "x", params: { source: "ghost" } }, t)).toBe("ghost: Uma conexão sai de ghost, que não é um bloco.");
  });

  it("has a string for every code the server gives", () => {
    expect(Object.keys(en.serverProblem).sort()).toEqual([...SERVER_CODES].sort());
  });
});
