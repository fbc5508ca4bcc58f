/**
 * A real PostgreSQL server for the tests (issue 13, item 1).
 *
 * When GATEWAY_TEST_DATABASE_URL is set, that server is used (a URL whose user may CREATE and
 * DROP databases). Otherwise one throwaway server is started, once per mocha run, on the first
 * call: `initdb` into a temporary directory owned by the `postgres` user (the server refuses to
 * run as root, so as root both run under `runuser -u postgres --`), listening on 127.0.0.1 only,
 * on a free port, its socket in that directory, fsync off. It is stopped when mocha ends (a
 * root `after` hook registered when this module is loaded), and also on exit and SIGINT/SIGTERM.
 *
 * Each suite gets a fresh database (`usePostgresDatabase()` in a `describe`, or
 * `freshDatabase()` directly), dropped at its end.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Client } from "pg";

const BIN_DIRS = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"];

interface Server {
  /** An admin URL: the `postgres` database, as a user that may create databases. */
  adminUrl: string;
  /** Set when this process started the server: its data directory's parent, removed on stop. */
  dir?: string;
  stop(): void;
}

let server: Server | undefined;
let starting: Promise<Server> | undefined;

function binary(name: string): string {
  for (const dir of BIN_DIRS) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  const which = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(
    `PostgreSQL's ${name} is not installed: install Debian's postgresql (apt-get install -y postgresql; ` +
      `scripts/test.sh does it), or set GATEWAY_TEST_DATABASE_URL to a server whose user may create databases`,
  );
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** Runs a PostgreSQL program, as the postgres user when we are root. */
function run(program: string, args: string[]): void {
  const [cmd, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", program, ...args]] : [program, args];
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`${path.basename(program)} failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function startThrowaway(): Promise<Server> {
  const initdb = binary("initdb");
  const pgCtl = binary("pg_ctl");
  const dir = mkdtempSync(path.join(tmpdir(), "gateway-pg-"));
  const data = path.join(dir, "data");
  const sock = path.join(dir, "sock");
  mkdirSync(sock);
  if (isRoot()) {
    const pw = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gr = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    if (pw.status !== 0) throw new Error("running as root but there is no postgres user: install Debian's postgresql");
    const uid = Number(pw.stdout.trim());
    const gid = Number(gr.stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(sock, uid, gid);
  }
  chmodSync(dir, 0o700);
  run(initdb, ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  // A port found free can be taken before the server binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${sock} -c fsync=off -c full_page_writes=off -c synchronous_commit=off`;
    try {
      run(pgCtl, ["-D", data, "-l", path.join(dir, "server.log"), "-o", options, "-w", "-t", "60", "start"]);
    } catch (e) {
      lastError = e;
      continue;
    }
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      try {
        run(pgCtl, ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    };
    return { adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, dir, stop };
  }
  const log = path.join(dir, "server.log");
  const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-10).join("\n") : "";
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start a throwaway PostgreSQL server: ${String(lastError)}\n${tail}`);
}

/** The server for this mocha run: GATEWAY_TEST_DATABASE_URL's, or a throwaway one started now. */
export async function postgresServer(): Promise<Server> {
  if (server) return server;
  if (!starting) {
    const given = process.env.GATEWAY_TEST_DATABASE_URL;
    starting = given ? Promise.resolve({ adminUrl: given, stop: () => undefined }) : startThrowaway();
    starting.then(
      (s) => (server = s),
      () => (starting = undefined),
    );
  }
  return starting;
}

/** Stops the throwaway server (a given GATEWAY_TEST_DATABASE_URL is left alone). */
export function stopPostgresServer(): void {
  const s = server;
  server = undefined;
  starting = undefined;
  s?.stop();
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  /** A URL to the fresh database (GATEWAY_DATABASE_URL's form). */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates a fresh, empty database on the test server; `drop()` removes it. */
export async function freshDatabase(label = "test"): Promise<TestDatabase> {
  const { adminUrl } = await postgresServer();
  const name = `${label.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 30)}_${randomBytes(6).toString("hex")}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    name,
    async drop() {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      try {
        // WITH (FORCE): a pool a failed test left open does not keep the database alive.
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * In a `describe`: a fresh database for the suite, created before its first test and dropped
 * after its last. Read `.url` inside hooks and tests (it is set by the `before` hook).
 */
export function usePostgresDatabase(label?: string): { url: string } {
  const handle = { url: "" };
  let db: TestDatabase | undefined;
  before(async function () {
    this.timeout(120_000);
    db = await freshDatabase(label);
    handle.url = db.url;
  });
  after(async () => {
    await db?.drop();
    db = undefined;
  });
  return handle;
}

// Stopped when mocha ends (a root hook: this module is loaded while mocha loads the test
// files), and on exit or an interrupt.
if (typeof after === "function") after(() => stopPostgresServer());
process.once("exit", () => stopPostgresServer());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stopPostgresServer();
    process.kill(process.pid, signal);
  });
}
