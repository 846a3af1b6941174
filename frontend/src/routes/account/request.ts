// The account pages' requests. The public ones (accept an invitation, forgot/reset a password) go
// without a session; changing one's password ends the session it was sent with, so its answer is
// adopted by hand. Errors keep extensions.code and extensions.field, so a form can put "the link
// expired" or "the current password is wrong" where it belongs.
export class AccountError extends Error {
  constructor(message: string, public code: string, public field?: string) {
    super(message);
    this.name = "AccountError";
  }
}

export interface SessionPayload {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: { id: string; name: string; email?: string | null; role?: string | null };
}

export async function accountRequest<T>(query: string, variables: object, token?: string | null): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/graphql-response+json, application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new AccountError("the server cannot be reached", "NETWORK");
  }
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string; field?: string } }[] };
  try {
    body = await response.json();
  } catch {
    throw new AccountError(`the server answered ${response.status}`, response.status >= 500 ? "SERVICE_UNAVAILABLE" : "INTERNAL");
  }
  const first = body.errors?.[0];
  if (first) throw new AccountError(first.message, first.extensions?.code ?? "INTERNAL", first.extensions?.field);
  return body.data as T;
}

/** The e-mailed token was refused: invalid, used or expired (resolvers/users._use_token). */
export const isLinkError = (error: unknown) =>
  error instanceof AccountError && error.code === "BAD_USER_INPUT" && error.field === "token";
