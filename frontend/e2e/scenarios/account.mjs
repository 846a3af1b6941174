// Account: an invited user accepts in the browser and lands in the inbox, sets their availability
// and changes their password (then signs in with it); a forgotten password: the neutral answer, the
// e-mailed link, a new password. In e2e the backend has no mail server: the embedded mailer logs
// every mail whole (connectors/mailer.LogMailer), so the links are read from the backend's log.
import { gql, operation } from "../backend.mjs";
import { axe, expectTrue, mailedToken } from "../scenarios.mjs";

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const emailOf = (backend, prefix) => Object.keys(backend.credentials).find((e) => e.startsWith(prefix));

async function call(backend, name, variables, token) {
  const body = await gql(backend.base, operation(name), variables, token);
  expectTrue(!body.errors, `${name}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function invite(backend, name) {
  const admin = emailOf(backend, "admin");
  const login = await call(backend, "LOGIN", { email: admin, password: backend.credentials[admin] });
  const email = `${unique()}@example.com`;
  await call(backend, "PEOPLE_INVITE", { input: { email, name, role: "AGENT", teamIds: [] } }, login.login.accessToken);
  return email;
}

async function signInAt(page, base, email, password) {
  await page.goto(`${base}/login`);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login")); // the inbox, or the page one left
  await page.getByRole("button", { name: "Account" }).waitFor();
}

export const scenarios = [
  {
    name: "account: an invited user accepts, lands in the inbox, sets availability and changes the password",
    async run({ page, backend, shots, axeSource }) {
      const email = await invite(backend, "Nina Invited");
      const token = await mailedToken(backend, email, "accept-invitation");

      await page.goto(`${backend.base}/accept-invitation?token=${token}`);
      await page.getByRole("heading", { name: "Join your team on PyTake" }).waitFor();
      await page.getByLabel("Your name").fill("Otto Moreira");
      await page.getByLabel("Password", { exact: true }).fill("short");
      await page.getByLabel("Repeat the password").fill("different");
      await page.getByRole("button", { name: "Set password and sign in" }).click();
      await page.getByText("A password is at least 10 characters.").waitFor();
      await page.getByText("The two passwords are not the same.").waitFor();
      await page.screenshot({ path: `${shots}/account-accept-invitation.png` });
      await axe(page, axeSource, "accept invitation");
      const first = "first passphrase 1";
      await page.getByLabel("Password", { exact: true }).fill(first);
      await page.getByLabel("Repeat the password").fill(first);
      await page.getByRole("button", { name: "Set password and sign in" }).click();
      await page.waitForURL(/\/inbox/);

      // My account, from the account menu.
      await page.getByRole("button", { name: "Account" }).click();
      await page.getByRole("menuitem", { name: "My account" }).click();
      await page.waitForURL(/\/account$/);
      await page.getByRole("heading", { name: "My account" }).waitFor();
      expectTrue((await page.getByLabel("Full name").inputValue()) === "Otto Moreira", "the name chosen when accepting is not kept");
      await page.getByText(email).first().waitFor();
      await page.screenshot({ path: `${shots}/account.png` });

      await page.getByText("Away", { exact: true }).click();
      await page.getByText("You are now Away.").waitFor();

      await page.getByLabel("Full name").fill("Otto  Moreira-Lima ");
      await page.getByRole("button", { name: "Save profile" }).click();
      await page.getByText("Profile saved.").waitFor();
      expectTrue((await page.getByLabel("Full name").inputValue()) === "Otto Moreira-Lima", "the saved name is not the server's");
      await page.getByRole("button", { name: "Account" }).click();
      await page.getByRole("menu").getByText("Otto Moreira-Lima").waitFor(); // the account menu follows
      await page.keyboard.press("Escape");

      // A wrong current password is named under its field; then the change, which ends other sessions.
      const second = "second passphrase 2";
      await page.getByLabel("Current password").fill("not my password");
      await page.getByLabel("New password", { exact: true }).fill(second);
      await page.getByLabel("Repeat the new password").fill(second);
      await page.getByRole("button", { name: "Change password" }).click();
      await page.getByText("Your current password is not right.").waitFor();
      await page.getByText("signs you out on every other device").waitFor();
      await page.screenshot({ path: `${shots}/account-password.png` });
      await axe(page, axeSource, "my account");
      await page.getByLabel("Current password").fill(first);
      await page.getByRole("button", { name: "Change password" }).click();
      await page.getByText("Password changed. Your other sessions were signed out.").waitFor();
      // This browser stays signed in with the session the change answered with.
      await page.reload();
      await page.getByRole("heading", { name: "My account" }).waitFor();

      const old = await gql(backend.base, operation("LOGIN"), { email, password: first });
      expectTrue(old.errors?.length, "the old password still signs in");
      await page.getByRole("button", { name: "Account" }).click();
      await page.getByRole("menuitem", { name: "Sign out" }).click();
      await page.waitForURL(/\/login/);
      await signInAt(page, backend.base, email, second);

      // The invitation works once.
      await page.goto(`${backend.base}/accept-invitation?token=${token}`);
      await page.getByLabel("Password", { exact: true }).fill("third passphrase 3");
      await page.getByLabel("Repeat the password").fill("third passphrase 3");
      await page.getByRole("button", { name: "Set password and sign in" }).click();
      await page.getByText("This invitation cannot be used").waitFor();
    },
  },
  {
    name: "account: forgot password shows the neutral answer; the e-mailed link sets a new password",
    async run({ page, backend, shots, axeSource }) {
      const email = await invite(backend, "Rui Reset");
      const invitation = await mailedToken(backend, email, "accept-invitation");
      await call(backend, "ACCOUNT_ACCEPT_INVITATION", { token: invitation, password: "original passphrase" });

      await page.goto(`${backend.base}/login`);
      await page.getByRole("link", { name: "Forgot password?" }).click();
      await page.waitForURL(/\/forgot-password$/);
      await page.getByRole("heading", { name: "Reset your password" }).waitFor();
      await axe(page, axeSource, "forgot password");
      // An unknown address gets exactly the answer a known one gets.
      await page.getByLabel("E-mail").fill(`nobody.${unique()}@example.com`);
      await page.getByRole("button", { name: "Send reset link" }).click();
      await page.getByRole("heading", { name: "Check your e-mail" }).waitFor();
      await page.getByRole("button", { name: "Use another address" }).click();
      await page.getByLabel("E-mail").fill(email);
      await page.getByRole("button", { name: "Send reset link" }).click();
      await page.getByRole("heading", { name: "Check your e-mail" }).waitFor();
      await page.getByText(`If ${email} belongs to an active account`).waitFor();
      await page.screenshot({ path: `${shots}/account-forgot-password.png` });
      await axe(page, axeSource, "reset link sent");

      const token = await mailedToken(backend, email, "reset-password");
      await page.goto(`${backend.base}/reset-password?token=${token}`);
      await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
      await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
      await page.getByLabel("Repeat the new password").fill("a brand new passphrase");
      await page.screenshot({ path: `${shots}/account-reset-password.png` });
      await axe(page, axeSource, "reset password");
      await page.getByRole("button", { name: "Save new password" }).click();
      await page.getByRole("heading", { name: "Your password was changed" }).waitFor();
      await page.getByRole("link", { name: "Sign in" }).click();
      await page.waitForURL(/\/login/);
      await signInAt(page, backend.base, email, "a brand new passphrase");

      // The link worked once.
      await page.goto(`${backend.base}/reset-password?token=${token}`);
      await page.getByLabel("New password", { exact: true }).fill("yet another passphrase");
      await page.getByLabel("Repeat the new password").fill("yet another passphrase");
      await page.getByRole("button", { name: "Save new password" }).click();
      await page.getByText("This reset link cannot be used").waitFor();
      await page.getByRole("link", { name: "Ask for a new link" }).waitFor();
    },
  },
];
