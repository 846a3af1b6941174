// Access + refresh tokens. Refresh tokens rotate: each works once, so one refresh runs at a time
// and every caller waits for it.
import { LOGIN, LOGOUT, REFRESH } from "./operations";
import type { User } from "./types";

export interface Tokens { accessToken: string; refreshToken: string; expiresAt: number; user: User }

export interface Storage { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void }

export class GraphQLRequestError extends Error {
  constructor(message: string, public code: string | undefined) {
    super(message);
  }
}

type Fetch = (input: string, init: RequestInit) => Promise<Response>;
const KEY = "pytake.session";
export const SILENT_REFRESH_LEAD_MS = 60_000;

export class Session {
  private tokens: Tokens | null;
  private refreshing: Promise<Tokens | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private listeners = new Set<(tokens: Tokens | null) => void>();
  onChange: (tokens: Tokens | null) => void = () => {};

  constructor(private fetcher: Fetch, private store: Storage, private endpoint = "/graphql", private now = () => Date.now()) {
    const saved = store.getItem(KEY);
    this.tokens = saved ? (JSON.parse(saved) as Tokens) : null;
  }

  get current(): Tokens | null {
    return this.tokens;
  }

  private save(tokens: Tokens | null): void {
    this.tokens = tokens;
    if (tokens) this.store.setItem(KEY, JSON.stringify(tokens));
    else this.store.removeItem(KEY);
    if (this.timer !== null) this.stopSilentRefresh();
    if (tokens && this.silent) this.scheduleRefresh();
    this.onChange(tokens);
    for (const listener of this.listeners) listener(tokens);
  }

  /** Be told of every sign-in, refresh and sign-out; returns the way to stop. */
  subscribe(listener: (tokens: Tokens | null) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private silent = false;

  /** Silent refresh: trade the refresh token a minute before the access token expires, so the
   * agent is never signed out while the app is open (a refused refresh signs out). */
  startSilentRefresh(): void {
    this.silent = true;
    this.scheduleRefresh();
  }

  stopSilentRefresh(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private retrySoon(): void {
    this.stopSilentRefresh();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, 5_000);
  }

  private scheduleRefresh(): void {
    this.stopSilentRefresh();
    if (!this.tokens) return;
    const wait = Math.max(0, this.tokens.expiresAt - this.now() - SILENT_REFRESH_LEAD_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, wait);
  }

  private async raw<T>(query: string, variables: object, token?: string): Promise<T> {
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
    };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await this.fetcher(this.endpoint, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    const body = await response.json(); // a 4xx with `errors` is still a GraphQL answer
    if (body.errors?.length) {
      const first = body.errors[0];
      throw new GraphQLRequestError(first.message, first.extensions?.code);
    }
    return body.data as T;
  }

  private store_(payload: { accessToken: string; refreshToken: string; expiresIn: number; user: User }): Tokens {
    const tokens = { accessToken: payload.accessToken, refreshToken: payload.refreshToken, user: payload.user,
      expiresAt: this.now() + payload.expiresIn * 1000 };
    this.save(tokens);
    return tokens;
  }

  async login(email: string, password: string): Promise<Tokens> {
    const data = await this.raw<{ login: Parameters<Session["store_"]>[0] }>(LOGIN, { email, password });
    return this.store_(data.login);
  }

  /** Sign in with an answer that already carries a session (an accepted invitation, a changed
   * password: the server ended the old one). */
  adopt(payload: Parameters<Session["store_"]>[0]): Tokens {
    return this.store_(payload);
  }

  /** The signed-in user changed (their own name): kept with the tokens, so the app shows it. */
  setUser(user: User): void {
    if (this.tokens) this.save({ ...this.tokens, user });
  }

  /** Revoke the refresh token on the server, then forget the session here (even when the server
   * cannot be reached: the token then expires on its own). */
  async logout(): Promise<void> {
    const token = this.tokens?.refreshToken;
    if (token) await this.raw(LOGOUT, { token }).catch(() => undefined);
    this.save(null);
  }

  /** Trade the refresh token once; concurrent callers share the one attempt. */
  refresh(): Promise<Tokens | null> {
    if (!this.refreshing) {
      const token = this.tokens?.refreshToken;
      this.refreshing = (async () => {
        if (!token) return null;
        try {
          const data = await this.raw<{ refreshToken: Parameters<Session["store_"]>[0] }>(REFRESH, { token });
          return this.store_(data.refreshToken);
        } catch (error) {
          if (error instanceof GraphQLRequestError) this.save(null); // refused: sign in again
          else if (this.silent) this.retrySoon(); // offline: keep the session, try again
          return null;
        }
      })().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** A valid access token, refreshed a little before it expires. */
  async accessToken(): Promise<string | null> {
    if (!this.tokens) return null;
    if (this.tokens.expiresAt - this.now() < 30_000) return (await this.refresh())?.accessToken ?? null;
    return this.tokens.accessToken;
  }

  /** Run an operation; on UNAUTHENTICATED refresh once and retry. */
  async request<T>(query: string, variables: object = {}): Promise<T> {
    const token = await this.accessToken();
    try {
      return await this.raw<T>(query, variables, token ?? undefined);
    } catch (error) {
      if (error instanceof GraphQLRequestError && error.code === "UNAUTHENTICATED" && this.tokens) {
        const renewed = await this.refresh();
        if (renewed) return this.raw<T>(query, variables, renewed.accessToken);
      }
      throw error;
    }
  }
}
