// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryRouter, Route, Routes } from "react-router";
import type { Session } from "@/api/session";
import AcceptInvitationPage from "./AcceptInvitationPage";
import ForgotPasswordPage from "./ForgotPasswordPage";
import ResetPasswordPage from "./ResetPasswordPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function answer(...bodies: object[]) {
  const fetch = vi.fn();
  for (const body of bodies) fetch.mockResolvedValueOnce(new Response(JSON.stringify(body), { status: 200 }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}
const sent = (fetch: ReturnType<typeof vi.fn>, call = 0) => JSON.parse(fetch.mock.calls[call][1].body as string);
const linkRefused = { errors: [{ message: "this link is invalid, used or expired; ask for a new one", extensions: { code: "BAD_USER_INPUT", field: "token" } }] };

function at(url: string, element: React.ReactNode) {
  return render(
    <MemoryRouter initialEntries={[url]}>
      <Routes>
        <Route path="/inbox" element={<p>the inbox</p>} />
        <Route path="*" element={element} />
      </Routes>
    </MemoryRouter>,
  );
}

const fill = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe("forgot password", () => {
  it("says the same neutral thing whatever the address", async () => {
    const fetch = answer({ data: { requestPasswordReset: true } });
    at("/forgot-password", <ForgotPasswordPage />);
    fill("E-mail", " nobody@example.com ");
    fireEvent.click(screen.getByRole("button", { name: "Send reset link" }));
    await screen.findByText("Check your e-mail");
    expect(screen.getByRole("status").textContent).toContain("If nobody@example.com belongs to an active account");
    expect(sent(fetch).variables).toEqual({ email: "nobody@example.com" });
  });
});

describe("reset password", () => {
  it("shows a named problem for a used or expired link, with a way to ask again", async () => {
    answer(linkRefused);
    at("/reset-password?token=abc", <ResetPasswordPage />);
    fill("New password", "a new passphrase");
    fill("Repeat the new password", "a new passphrase");
    fireEvent.click(screen.getByRole("button", { name: "Save new password" }));
    await screen.findByText("This reset link cannot be used");
    expect(screen.getByRole("link", { name: "Ask for a new link" }).getAttribute("href")).toBe("/forgot-password");
  });
  it("without a token says the link is incomplete", () => {
    at("/reset-password", <ResetPasswordPage />);
    expect(screen.getByText("This reset link is incomplete")).toBeTruthy();
  });
});

describe("accept invitation", () => {
  const payload = { __typename: "AuthPayload", accessToken: "at", refreshToken: "rt", expiresIn: 900, user: { __typename: "User", id: "VXNlcjo5", name: "Ana", email: "ana@example.com", role: "AGENT" } };

  it("sets the password, corrects the name, signs in and opens the inbox", async () => {
    const fetch = answer({ data: { acceptInvitation: payload } }, { data: { updateMyProfile: { __typename: "User", id: "VXNlcjo5", name: "Ana Souza" } } });
    const adopt = vi.fn();
    at("/accept-invitation?token=tok123", <AcceptInvitationPage session={{ adopt } as unknown as Session} />);
    fill("Your name", "  Ana   Souza ");
    fill("Password", "short");
    fill("Repeat the password", "short");
    fireEvent.click(screen.getByRole("button", { name: "Set password and sign in" }));
    await screen.findByText("A password is at least 10 characters.");
    expect(fetch).not.toHaveBeenCalled();

    fill("Password", "a long passphrase");
    fill("Repeat the password", "a long passphrase");
    fireEvent.click(screen.getByRole("button", { name: "Set password and sign in" }));
    await screen.findByText("the inbox");
    expect(sent(fetch, 0).variables).toEqual({ token: "tok123", password: "a long passphrase" });
    expect(sent(fetch, 1).variables).toEqual({ name: "Ana Souza" });
    expect(fetch.mock.calls[1][1].headers.Authorization).toBe("Bearer at");
    expect(adopt).toHaveBeenCalledWith(expect.objectContaining({ accessToken: "at", user: expect.objectContaining({ name: "Ana Souza" }) }));
  });

  it("names an expired or used invitation", async () => {
    answer(linkRefused);
    const adopt = vi.fn();
    at("/accept-invitation?token=old", <AcceptInvitationPage session={{ adopt } as unknown as Session} />);
    fill("Password", "a long passphrase");
    fill("Repeat the password", "a long passphrase");
    fireEvent.click(screen.getByRole("button", { name: "Set password and sign in" }));
    await waitFor(() => expect(screen.getByText("This invitation cannot be used")).toBeTruthy());
    expect(adopt).not.toHaveBeenCalled();
  });
});
