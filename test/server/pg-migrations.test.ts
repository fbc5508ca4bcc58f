import { expect } from "chai";
import Database from "better-sqlite3";
import { Pool } from "pg";

import { migrate } from "../../server/store/migrations";
import { appliedPgMigrations, migratePg, PG_MIGRATIONS } from "../../server/store/pg-migrations";
import { freshDatabase } from "../helpers/postgres";

/** table -> sorted column names */
type Shape = Record<string, string[]>;

function sqliteShape(): Shape {
  const db = new Database(":memory:");
  migrate(db);
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[];
  const shape: Shape = {};
  for (const { name } of tables) {
    shape[name] = (db.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name).sort();
  }
  db.close();
  return shape;
}

async function pgShape(pool: Pool): Promise<Shape> {
  const r = await pool.query<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name"
  );
  const shape: Shape = {};
  for (const row of r.rows) (shape[row.table_name] ??= []).push(row.column_name);
  for (const t of Object.keys(shape)) shape[t].sort();
  return shape;
}

describe("PostgreSQL store migrations (server/store/pg-migrations.ts)", () => {
  it("creates every table and column of the SQLite schema, and no other, and records each version", async () => {
    const db = await freshDatabase("pg_migr");
    const pool = new Pool({ connectionString: db.url });
    try {
      expect(await migratePg(pool)).to.deep.equal(PG_MIGRATIONS.map((m) => m.version));
      expect(await pgShape(pool)).to.deep.equal(sqliteShape());
      expect((await appliedPgMigrations(pool)).map((m) => m.version)).to.deep.equal(PG_MIGRATIONS.map((m) => m.version));
      expect(await migratePg(pool), "a second start applies nothing").to.deep.equal([]);
    } finally {
      await pool.end();
      await db.drop();
    }
  });

  it("migrates once when two gateways start at the same time against one database", async () => {
    const db = await freshDatabase("pg_migr_race");
    const a = new Pool({ connectionString: db.url });
    const b = new Pool({ connectionString: db.url });
    try {
      const [ra, rb] = await Promise.all([migratePg(a), migratePg(b)]);
      expect([...ra, ...rb].sort()).to.deep.equal(PG_MIGRATIONS.map((m) => m.version));
      expect(await appliedPgMigrations(a)).to.have.length(PG_MIGRATIONS.length);
    } finally {
      await a.end();
      await b.end();
      await db.drop();
    }
  });

  it("refuses a database written by a newer gateway, saying to upgrade", async () => {
    const db = await freshDatabase("pg_migr_newer");
    const pool = new Pool({ connectionString: db.url });
    try {
      const newer = [...PG_MIGRATIONS, { version: 99, name: "from the future", sql: "CREATE TABLE future (x BIGINT)" }];
      await migratePg(pool, newer);
      let error: unknown;
      await migratePg(pool).catch((e) => (error = e));
      expect(String(error)).to.match(/version 99, newer than this gateway knows \(1\): upgrade the gateway/);
    } finally {
      await pool.end();
      await db.drop();
    }
  });

  it("rolls a failing migration back whole and records nothing for it", async () => {
    const db = await freshDatabase("pg_migr_fail");
    const pool = new Pool({ connectionString: db.url });
    try {
      await migratePg(pool);
      const broken = [...PG_MIGRATIONS, { version: 2, name: "broken", sql: "CREATE TABLE half (x BIGINT); SELECT no_such_column FROM half" }];
      let error: unknown;
      await migratePg(pool, broken).catch((e) => (error = e));
      expect(String(error)).to.contain("no_such_column");
      const half = await pool.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half'");
      expect(half.rows).to.have.length(0);
      expect((await appliedPgMigrations(pool)).map((m) => m.version)).to.deep.equal([1]);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
