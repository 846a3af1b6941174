// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ReplyTarget } from "../api/types";
import { ServicesContext, type Services } from "../services";
import { Composer } from "./Composer";
import { TooltipProvider } from "./ui/tooltip";

afterEach(cleanup);

const target = (over: Partial<ReplyTarget> = {}): ReplyTarget => ({
  __typename: "ReplyTarget", channelId: "c1", channelName: "Sales WhatsApp", platform: "WHATSAPP", address: "5511", available: true, reason: null, requiresTemplate: false, isDefault: true, ...over,
});

const picked = {
  __typename: "ResponseTemplate", id: "t1", name: "Order status", shortcut: "/pedido", body: "Seu pedido {{pedido}} saiu.", usageCount: 3, myUsageCount: 2,
  content: { __typename: "TemplateContent", prompts: [{ __typename: "TemplatePrompt", name: "pedido", label: "Order number" }] },
};

/** A client whose queries answer from `answer(query, variables)`. */
function services(answer: (query: string, variables: Record<string, unknown>) => unknown): Services {
  const client = { query: (query: string, variables: Record<string, unknown>) => ({ toPromise: async () => ({ data: answer(query, variables) }) }) };
  return { client, me: { id: "u1", name: "Ana" } } as unknown as Services;
}

function setup(targets: ReplyTarget[], answer: (query: string, variables: Record<string, unknown>) => unknown) {
  const onSend = vi.fn(async () => true);
  render(
    <ServicesContext.Provider value={services(answer)}>
      <TooltipProvider><Composer targets={targets} onSend={onSend} onTyping={() => undefined} conversationId="conv1" /></TooltipProvider>
    </ServicesContext.Provider>,
  );
  return onSend;
}

describe("Composer templates", () => {
  it("/shortcut proposes templates; the picked one asks for its prompt, previews it and sends it as a response template", async () => {
    const onSend = setup([target()], (query, variables) => {
      if (query.includes("renderTemplate"))
        return { renderTemplate: { __typename: "RenderedTemplate", templateId: "t1", version: 1, variant: "universal", platform: "WHATSAPP", channelId: "c1", text: `Seu pedido ${(variables.variables as Record<string, string>).pedido} saiu.`, subject: null, problems: [], arm: null, buttons: [] } };
      return { templates: { __typename: "ResponseTemplateConnection", edges: [{ __typename: "ResponseTemplateEdge", node: picked }] } };
    });
    const box = screen.getByRole("textbox", { name: "Reply" }) as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: "/ped", selectionStart: 4 } });
    await screen.findByRole("option", { name: /Order status/ });
    fireEvent.keyDown(box, { key: "Enter" });
    const prompt = await screen.findByLabelText(/Order number/);
    expect((screen.getByRole("button", { name: "Send template" }) as HTMLButtonElement).disabled).toBe(true);
    await waitFor(() => expect(screen.getByTestId("composer-preview").textContent).toBe("Seu pedido ‹Order number› saiu."));
    fireEvent.change(prompt, { target: { value: "A-1023" } });
    await waitFor(() => expect(screen.getByTestId("composer-preview").textContent).toBe("Seu pedido A-1023 saiu."));
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send template" }));
    });
    expect(onSend).toHaveBeenCalledWith("Seu pedido A-1023 saiu.", "reply", "c1", { responseTemplate: { id: "t1", variables: { pedido: "A-1023" } } });
    expect(screen.getByRole("textbox", { name: "Reply" })).toBeTruthy();
  });

  it("shows the platform's limit and refuses a text over it", async () => {
    const onSend = setup([target({ platform: "SMS" })], () => ({ templates: { edges: [] } }));
    const box = screen.getByRole("textbox", { name: "Reply" });
    fireEvent.change(box, { target: { value: "x".repeat(1700) } });
    expect(screen.getByTestId("composer-count").textContent).toContain("Too long for SMS");
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter" });
    });
    expect(onSend).not.toHaveBeenCalled();
  });

  it("with WhatsApp's window closed offers only the approved templates", async () => {
    setup([target({ requiresTemplate: true })], (query, variables) => {
      expect(query).toContain("whatsappTemplates");
      expect(variables.status).toBe("APPROVED");
      return { whatsappTemplates: [] };
    });
    expect(screen.queryByRole("textbox", { name: "Reply" })).toBeNull();
    expect(await screen.findByText(/no approved template/)).toBeTruthy();
    expect((screen.getByRole("button", { name: "Send template" }) as HTMLButtonElement).disabled).toBe(true);
  });
});
