import { useEffect, useMemo, useState } from "react";
import { liveClient } from "./api/live";
import { Session, type Tokens } from "./api/session";
import { ConversationView } from "./components/ConversationView";
import { DemoPanel } from "./components/DemoPanel";
import { ErrorBanner } from "./components/ErrorBanner";
import { Inbox } from "./components/Inbox";
import { Login } from "./components/Login";

export function App() {
  const session = useMemo(() => new Session((url, init) => fetch(url, init), localStorage), []);
  const [tokens, setTokens] = useState<Tokens | null>(session.current);
  const [error, setError] = useState<string | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const live = useMemo(() => (tokens ? liveClient(session) : null), [session, tokens?.user.id]);

  useEffect(() => {
    session.onChange = setTokens;
  }, [session]);
  useEffect(() => {
    return () => void live?.dispose();
  }, [live]);

  if (!tokens || !live) return <Login session={session} onError={setError} error={error} />;
  const report = (e: unknown) => setError(e instanceof Error ? `${e.message}${"code" in e && e.code ? ` (${e.code})` : ""}` : String(e));
  return (
    <div className="app">
      <header>
        <strong>PyTake</strong>
        <span className="me">{tokens.user.name}</span>
        <button onClick={() => void session.logout()}>Sign out</button>
      </header>
      <ErrorBanner message={error} onDismiss={() => setError(null)} />
      <main>
        <Inbox session={session} live={live} me={tokens.user} openId={openId} onOpen={setOpenId} onError={report} />
        {openId ? (
          <ConversationView key={openId} id={openId} session={session} live={live} me={tokens.user} onError={report} />
        ) : (
          <section className="empty">Pick a conversation</section>
        )}
      </main>
      <DemoPanel session={session} onError={report} />
    </div>
  );
}
