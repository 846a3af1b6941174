import { useState, type FormEvent } from "react";
import type { Session } from "../api/session";
import { ErrorBanner } from "./ErrorBanner";

export function Login({ session, onError, error }: { session: Session; onError: (m: string | null) => void; error: string | null }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await session.login(email, password);
      onError(null);
    } catch (e) {
      onError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <form className="login" onSubmit={submit}>
      <h1>PyTake</h1>
      <ErrorBanner message={error} onDismiss={() => onError(null)} />
      <input placeholder="E-mail" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
      <input placeholder="Password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
      <button type="submit">Sign in</button>
      <p className="hint">`make run` prints the demo logins.</p>
    </form>
  );
}
