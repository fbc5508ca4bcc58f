import { expect } from "chai";
import { Client } from "pg";

import { freshDatabase, postgresServer, usePostgresDatabase } from "../helpers/postgres";

async function query<T extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

describe("PostgreSQL test server (test/helpers/postgres.ts)", () => {
  const db = usePostgresDatabase("helper");

  it("gives the suite a fresh, empty database on a real PostgreSQL server", async () => {
    const [row] = await query<{ version: string; db: string }>(db.url, "SELECT version(), current_database() AS db");
    expect(row.version).to.match(/^PostgreSQL \d+/);
    expect(db.url).to.contain(`/${row.db}`);
    const tables = await query(db.url, "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables).to.have.length(0);
  });

  it("listens on 127.0.0.1 when it starts the server itself", async function () {
    if (process.env.GATEWAY_TEST_DATABASE_URL) this.skip();
    const { adminUrl } = await postgresServer();
    expect(new URL(adminUrl).hostname).to.equal("127.0.0.1");
    const [row] = await query<{ setting: string }>(db.url, "SELECT setting FROM pg_settings WHERE name = 'listen_addresses'");
    expect(row.setting).to.equal("127.0.0.1");
  });

  it("keeps databases apart and drops one when asked", async () => {
    const other = await freshDatabase("helper_other");
    try {
      await query(other.url, "CREATE TABLE t (x int)");
      const mine = await query(db.url, "SELECT 1 FROM information_schema.tables WHERE table_name = 't'");
      expect(mine).to.have.length(0);
    } finally {
      await other.drop();
    }
    const { adminUrl } = await postgresServer();
    const left = await query(adminUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [other.name]);
    expect(left).to.have.length(0);
  });
});
