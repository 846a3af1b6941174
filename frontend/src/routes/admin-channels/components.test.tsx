// @vitest-environment jsdom
import { zodResolver } from "@hookform/resolvers/zod";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useForm } from "react-hook-form";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ChannelFields } from "./ChannelFields";
import { CopyField } from "./CopyField";
import { channelSchema, initialValues, specOf, toInput, type FormValues } from "./platforms";
import { inboundUrl, stepsKey, widgetSnippet } from "./SetupCard";
import type { AdminChannel } from "./types";

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

function Harness({ platform, secretsSet, onSubmit }: { platform: string; secretsSet: string[]; onSubmit: (v: FormValues) => void }) {
  const spec = specOf(platform);
  const form = useForm<FormValues>({ resolver: zodResolver(channelSchema(spec, secretsSet)), defaultValues: initialValues(spec, { name: "Slack", config: { team_id: "T0123ABCD" } }) });
  return (
    <form onSubmit={form.handleSubmit(onSubmit)}>
      <ChannelFields spec={spec} form={form} mode="edit" secretsSet={secretsSet} />
      <button type="submit">submit</button>
    </form>
  );
}

describe("ChannelFields editing", () => {
  it("never shows a set secret: 'Set' and Replace; Keep current goes back to keeping it", async () => {
    const onSubmit = vi.fn();
    render(<Harness platform="SLACK" secretsSet={["signing_secret", "bot_token"]} onSubmit={onSubmit} />);
    expect(document.querySelectorAll('[data-secret-set]').length).toBe(2);
    expect(document.querySelectorAll('input[type="password"]').length).toBe(0);

    fireEvent.click(screen.getByRole("button", { name: "Replace: Bot User OAuth Token" }));
    const box = screen.getByLabelText("New Bot User OAuth Token");
    fireEvent.change(box, { target: { value: "xoxp-wrong" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "submit" })));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("The Bot User OAuth Token starts with xoxb-.")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Keep current" }));
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "submit" })));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    const values = onSubmit.mock.calls[0][0] as FormValues;
    expect(toInput(specOf("SLACK"), values, "edit").secrets).toEqual({}); // kept: nothing sent
  });
});

describe("CopyField", () => {
  it("copies the value and says so; says what to do when the clipboard refuses", async () => {
    const writeText = vi.fn().mockResolvedValueOnce(undefined).mockRejectedValueOnce(new Error("denied"));
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    render(<CopyField label="Webhook URL" value="https://pytake.example/webhooks/telegram/7" />);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Copy Webhook URL" })));
    expect(writeText).toHaveBeenCalledWith("https://pytake.example/webhooks/telegram/7");
    expect(screen.getByRole("button", { name: "Copied Webhook URL" })).toBeTruthy();
    // Refused, and no copy command either (jsdom has none): the text is selected, and it says so.
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Copied Webhook URL" })));
    expect(screen.getByRole("status").textContent).toContain("Copy failed");
    // Refused, but the copy command works (plain http on a LAN address).
    Object.defineProperty(document, "execCommand", { value: vi.fn(() => true), configurable: true });
    writeText.mockRejectedValueOnce(new Error("denied"));
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Copy Webhook URL" })));
    expect(screen.getByRole("button", { name: "Copied Webhook URL" })).toBeTruthy();
  });
});

describe("setup helpers", () => {
  const channel = (platform: string, config: Record<string, unknown>) =>
    ({ platform, config, webhookUrl: "https://pytake.example/webhooks/x/7" }) as unknown as AdminChannel;
  it("picks e-mail's steps by how mail arrives, and builds the snippet and SendGrid's URL", () => {
    expect(stepsKey(channel("EMAIL", { provider: "sendgrid" }))).toBe("EMAIL_sendgrid");
    expect(stepsKey(channel("EMAIL", {}))).toBe("EMAIL_imap");
    expect(stepsKey(channel("TELEGRAM", {}))).toBe("TELEGRAM");
    expect(widgetSnippet(channel("WEBCHAT", { public_key: "wc_abc" }))).toBe('<script src="https://pytake.example/webchat/widget.js" data-key="wc_abc" async></script>');
    expect(inboundUrl(channel("EMAIL", { provider: "sendgrid" }), "k/1")).toBe("https://pytake.example/webhooks/x/7?key=k%2F1");
  });
});
