// A real PyTake backend for the end-to-end tests, started like `make run`: embedded PostgreSQL
// (its own data folder), in-memory pub/sub, in-process jobs, the demo's fake WhatsApp. DATABASE_URL
// and REDIS_URL are dropped so CI's services are not used. GRAPHQL_ALLOWLIST=1: the browser may
// send only the registered documents, so the run also proves the persisted operations are right.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code) => (code === 0 ? resolve(output) : reject(new Error(`${cmd} ${args.join(" ")} failed (${code}):\n${output.slice(-3000)}`))));
  });
}

export async function startBackend({ log = () => {}, bulk = 0 } = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "pytake-e2e-"));
  const env = { ...process.env, HOST: "127.0.0.1", PORT: String(port), PYTAKE_DATA_DIR: dataDir, PYTAKE_DEMO: "1", GRAPHQL_ALLOWLIST: "1", LOG_LEVEL: "WARNING",
    LOGIN_RATE_PER_MINUTE: "120" }; // every scenario signs in from 127.0.0.1
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.PUBLIC_URL;
  if (bulk) {
    // the schema first, then the bulk rows, then `pytake run` (migrate: nothing pending; seed; serve)
    await run(join(ROOT, ".venv/bin/pytake"), ["migrate"], env);
    await run(join(ROOT, ".venv/bin/python"), [join(ROOT, "frontend/e2e/seed_many.py"), String(bulk)], env);
    log(`seeded ${bulk} bulk conversations`);
  }
  const child = spawn(join(ROOT, ".venv/bin/pytake"), ["run", "--port", String(port)], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`backend exited (${child.exitCode}):\n${output.slice(-3000)}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  if (Date.now() >= deadline) throw new Error(`backend not ready in 120 s:\n${output.slice(-3000)}`);
  const credentials = JSON.parse(readFileSync(join(dataDir, "demo-credentials.json"), "utf8"));
  log(`backend ready at ${base} (data ${dataDir})`);
  const stop = async () => {
    if (child.exitCode === null) {
      const signal = (name) => {
        try {
          process.kill(-child.pid, name); // its process group: uvicorn and the embedded PostgreSQL
        } catch {
          /* already gone */
        }
      };
      const exited = new Promise((r) => child.once("exit", r));
      signal("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) signal("SIGKILL");
    }
    // the embedded PostgreSQL stops with the backend; should it outlive it, stop it here
    const pgdata = join(dataDir, "pgdata");
    const pidFile = join(pgdata, "postmaster.pid");
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
      try {
        process.kill(pid, "SIGINT"); // PostgreSQL's fast shutdown
        for (let i = 0; i < 50 && existsSync(pidFile); i += 1) await new Promise((r) => setTimeout(r, 100));
      } catch {
        /* not running: a stale pid file */
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { base, credentials, stop, output: () => output };
}

/** The registered text of an operation, by its constant's name (the allow-list admits only it). */
export function operation(name) {
  const manifest = JSON.parse(readFileSync(new URL("../persisted-operations.json", import.meta.url), "utf8"));
  const found = Object.values(manifest).find((o) => o.name === name);
  if (!found) throw new Error(`no registered operation ${name}`);
  return found.query;
}

export async function gql(base, query, variables = {}, token) {
  const r = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return r.json();
}

/** A TCP proxy in front of the backend: `drop()` cuts every connection (the WebSocket too, which
 * the browser's offline emulation leaves open) and refuses new ones until `restore()`. */
export async function startProxy(targetBase) {
  const { createServer: createTcp, connect } = await import("node:net");
  const target = new URL(targetBase);
  const sockets = new Set();
  let down = false;
  const server = createTcp((client) => {
    if (down) return client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    drop() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(resolve);
    }),
  };
}
