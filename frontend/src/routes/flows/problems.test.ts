import { describe, expect, it } from "vitest";
import { graphProblems, serverProblems } from "./problems";

describe("the server's refusal on the nodes it names", () => {
  it("puts each problem on its node, the rest on the flow", () => {
    const error = {
      graphQLErrors: [{
        message: "the flow is not valid",
        extensions: { code: "BAD_USER_INPUT", node: "end", problems: [
          { node: "end", message: "no path from the trigger reaches this node" },
          { node: "ghost", message: "an edge leaves 'ghost', which is not a node" },
          { node: null, message: "a flow has exactly one trigger node" },
        ] },
      }],
    };
    expect(serverProblems(error, ["trigger", "end"])).toEqual({
      byNode: { end: ["no path from the trigger reaches this node"] },
      general: ["ghost: an edge leaves 'ghost', which is not a node", "a flow has exactly one trigger node"],
    });
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
