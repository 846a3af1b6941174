import { Provider as UrqlProvider } from "urql";
import { lazy, Suspense, useEffect, useMemo, useSyncExternalStore } from "react";
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router";
import { makeClient } from "./api/client";
import { liveClient } from "./api/live";
import { INBOX } from "./api/operations";
import { Session } from "./api/session";
import { TooltipProvider } from "./components/ui/tooltip";
import { PageSpinner } from "./components/PageSpinner";
import { ServicesContext, type Services } from "./services";
import { DEFAULT_FILTER, serverFilter } from "./state/filters";
import { prefetchFirstPage } from "./state/inbox";
import { useUi } from "./state/ui";
import { loadInbox, SCREENS, screensFor } from "./routes/screens";

// Each screen is its own chunk, loaded when first shown: the first load stays small. A signed-in
// start fetches the inbox's chunks at once, side by side, instead of one after the other.
const loadShell = () => import("./routes/AppShell");
const LoginPage = lazy(() => import("./routes/LoginPage"));
// The account pages one opens without being signed in (the invitation and reset e-mails' links).
const AcceptInvitationPage = lazy(() => import("./routes/account/AcceptInvitationPage"));
const ForgotPasswordPage = lazy(() => import("./routes/account/ForgotPasswordPage"));
const ResetPasswordPage = lazy(() => import("./routes/account/ResetPasswordPage"));
const AppShell = lazy(loadShell);
const PAGES = new Map(SCREENS.map((s) => [s.path, lazy(s.load)]));

const session = new Session((url, init) => fetch(url, init), localStorage);
if (session.current && location.pathname.startsWith("/inbox")) {
  void loadShell();
  void loadInbox();
  const filter = serverFilter(DEFAULT_FILTER, session.current.user.id);
  prefetchFirstPage(JSON.stringify(filter), () => session.request(INBOX, { filter, after: null }));
}

function useTokens() {
  return useSyncExternalStore(
    (notify) => session.subscribe(notify),
    () => session.current,
  );
}

function SignedIn() {
  const tokens = useTokens();
  const userId = tokens?.user.id;
  const services = useMemo<Services | null>(() => {
    if (!tokens) return null;
    return { session, client: makeClient(session), live: liveClient(session, useUi.getState().setLink), me: tokens.user };
    // one set of connections per user: a refreshed token keeps them
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [userId]);
  useEffect(() => {
    if (!services) return;
    session.startSilentRefresh();
    return () => {
      session.stopSilentRefresh();
      void services.live.dispose();
    };
  }, [services]);
  // the connections stay; who is signed in follows the tokens (a renamed user, a refresh)
  const user = tokens?.user;
  const value = useMemo(() => (services && user ? { ...services, me: user } : services), [services, user]);
  const location = useLocation();
  if (!services) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return (
    <ServicesContext.Provider value={value!}>
      <UrqlProvider value={services.client}>
        <Suspense fallback={<PageSpinner />}>
          <AppShell>
            <Routes>
              {screensFor(services.me.role).map((screen) => {
                const Page = PAGES.get(screen.path)!;
                return <Route key={screen.path} path={screen.path} element={<Page />} />;
              })}
              <Route path="*" element={<Navigate to="/inbox" replace />} />
            </Routes>
          </AppShell>
        </Suspense>
      </UrqlProvider>
    </ServicesContext.Provider>
  );
}

function Login() {
  const tokens = useTokens();
  const location = useLocation();
  if (tokens) {
    const from = (location.state as { from?: string } | null)?.from;
    return <Navigate to={from && from !== "/login" ? from : "/inbox"} replace />;
  }
  return <LoginPage session={session} />;
}

export function App() {
  return (
    <TooltipProvider delayDuration={300}>
      <BrowserRouter>
        <Suspense fallback={<PageSpinner />}>
          <Routes>
            <Route path="/login" element={<Login />} />
            <Route path="/accept-invitation" element={<AcceptInvitationPage session={session} />} />
            <Route path="/forgot-password" element={<ForgotPasswordPage />} />
            <Route path="/reset-password" element={<ResetPasswordPage />} />
            <Route path="/*" element={<SignedIn />} />
          </Routes>
        </Suspense>
      </BrowserRouter>
    </TooltipProvider>
  );
}
