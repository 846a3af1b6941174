import { Loader2, MessagesSquare } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { Session } from "@/api/session";
import { ErrorState } from "@/components/ErrorState";
import { LanguageSwitcher } from "@/components/LanguageSwitcher";
import { Button } from "@/components/ui/button";
import { Input, Label } from "@/components/ui/input";

export default function LoginPage({ session }: { session: Session }) {
  const { t } = useTranslation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.login(email, password); // the router moves on when the session changes
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <div className="grid min-h-full lg:grid-cols-2">
      <div className="hidden flex-col justify-between bg-gradient-to-br from-indigo-700 via-indigo-600 to-violet-600 p-10 text-white lg:flex">
        <div className="flex items-center gap-2 text-lg font-semibold">
          <MessagesSquare className="size-6" aria-hidden /> PyTake
        </div>
        <div>
          <p className="max-w-md text-3xl font-semibold leading-tight">{t("login.tagline")}</p>
          <div className="mt-8 flex gap-2 text-xs">
            {["WhatsApp", "Telegram", "Instagram", "Messenger", "E-mail", "Webchat"].map((p) => (
              <span key={p} className="rounded-full bg-white/15 px-3 py-1">{p}</span>
            ))}
          </div>
        </div>
        <p className="text-sm text-indigo-100">{t("login.subtitle")}</p>
      </div>
      <main className="flex flex-col bg-canvas">
        <div className="flex justify-end p-4">
          <LanguageSwitcher />
        </div>
        <div className="flex flex-1 items-center justify-center p-6">
          <form onSubmit={submit} className="w-full max-w-sm rounded-xl border bg-background p-8 shadow-sm" aria-labelledby="login-title">
            <div className="mb-6 flex items-center gap-2 lg:hidden">
              <MessagesSquare className="size-6 text-primary" aria-hidden />
              <span className="text-lg font-semibold">PyTake</span>
            </div>
            <h1 id="login-title" className="text-xl font-semibold">{t("login.title")}</h1>
            <p className="mt-1 text-sm text-muted-foreground">{t("login.subtitle")}</p>
            {error ? (
              <div className="mt-4 rounded-md border border-red-200 bg-red-50">
                <ErrorState error={error} compact />
              </div>
            ) : null}
            <div className="mt-6 space-y-4">
              <div className="space-y-1.5">
                <Label htmlFor="email">{t("login.email")}</Label>
                <Input id="email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus required />
              </div>
              <div className="space-y-1.5">
                <div className="flex items-center justify-between">
                  <Label htmlFor="password">{t("login.password")}</Label>
                  <Link to="/forgot-password" className="text-xs font-medium text-primary hover:underline">{t("account.forgot.link")}</Link>
                </div>
                <Input id="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
              </div>
              <Button type="submit" className="w-full" disabled={busy}>
                {busy && <Loader2 className="animate-spin" aria-hidden />}
                {busy ? t("login.submitting") : t("login.submit")}
              </Button>
            </div>
            <p className="mt-6 text-xs text-muted-foreground">{t("login.hint")}</p>
          </form>
        </div>
      </main>
    </div>
  );
}
