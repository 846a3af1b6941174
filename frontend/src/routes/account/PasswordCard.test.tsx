// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ServicesContext, type Services } from "@/services";
import { PasswordCard } from "./PasswordCard";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const payload = { __typename: "AuthPayload", accessToken: "new", refreshToken: "r2", expiresIn: 900, user: { __typename: "User", id: "VXNlcjox", name: "Ana", email: "a@x.io", role: "AGENT" } };

function renderCard(...bodies: object[]) {
  const fetch = vi.fn();
  for (const body of bodies) fetch.mockResolvedValueOnce(new Response(JSON.stringify(body), { status: 200 }));
  vi.stubGlobal("fetch", fetch);
  const session = { accessToken: vi.fn(async () => "old"), adopt: vi.fn() };
  render(
    <ServicesContext.Provider value={{ session } as unknown as Services}>
      <PasswordCard />
    </ServicesContext.Provider>,
  );
  return { fetch, session };
}
const fill = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe("PasswordCard", () => {
  it("puts a wrong current password under its field, then adopts the session the change answers with", async () => {
    const { fetch, session } = renderCard(
      { errors: [{ message: "the current password is wrong", extensions: { code: "BAD_USER_INPUT", field: "currentPassword" } }] },
      { data: { changeMyPassword: payload } },
    );
    expect(screen.getByText(/signs you out on every other device/)).toBeTruthy();
    fill("Current password", "wrong one");
    fill("New password", "a new passphrase");
    fill("Repeat the new password", "a new passphrase");
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    await screen.findByText("Your current password is not right.");
    expect(session.adopt).not.toHaveBeenCalled();
    expect(fetch.mock.calls[0][1].headers.Authorization).toBe("Bearer old");

    fill("Current password", "the right one");
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    await screen.findByText("Password changed. Your other sessions were signed out.");
    expect(JSON.parse(fetch.mock.calls[1][1].body).variables).toEqual({ currentPassword: "the right one", newPassword: "a new passphrase" });
    expect(session.adopt).toHaveBeenCalledWith(payload);
    expect((screen.getByLabelText("Current password") as HTMLInputElement).value).toBe("");
  });
});
