// PostGraphile 5 for bench/peer. The bench copies this file into .bench-peer/ (beside the
// node_modules it installs there, so that the imports resolve) and starts PostGraphile's CLI on it.
// Production settings, nothing on the hot path but the query: no watch, no GraphiQL, no explain.
// From the environment: PGL_DB_URL, PGL_PORT, PGL_POOL_MAX.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const env = process.env;

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: env.PGL_DB_URL,
      schemas: ["public"],
      poolConfig: { max: Number(env.PGL_POOL_MAX || 10) },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(env.PGL_PORT),
    graphqlPath: "/graphql",
    watch: false,
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    graphqlOverGET: false,
    websockets: false,
  },
  grafast: { explain: false },
};

export default preset;
