// The app's connections, made once per signed-in user: the session (tokens), the urql client
// (queries and mutations through the normalised cache) and the graphql-ws client (live streams).
import type { Client as UrqlClient } from "@urql/core";
import type { Client as LiveClient } from "graphql-ws";
import { createContext, useContext } from "react";
import type { Session, Tokens } from "./api/session";

export interface Services { session: Session; client: UrqlClient; live: LiveClient; me: Tokens["user"] }

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices outside a signed-in screen");
  return services;
}
