import { expect } from "chai";
import { Pool } from "pg";

import { num, partnerFrom, txFrom } from "../../server/store/rows";
import { migratePg } from "../../server/store/pg-migrations";
import { usePostgresDatabase } from "../helpers/postgres";

describe("Store row mapping (server/store/rows.ts)", () => {
  it("reads an integer column as SQLite returns it (number) and as pg returns a BIGINT (decimal string)", () => {
    expect(num(7)).to.equal(7);
    expect(num("7")).to.equal(7);
    expect(num("-12")).to.equal(-12);
    expect(num(String(Number.MAX_SAFE_INTEGER))).to.equal(
      Number.MAX_SAFE_INTEGER
    );
  });

  it("refuses an integer it cannot read exactly instead of rounding it", () => {
    expect(() => num("9007199254740993")).to.throw(/cannot read exactly/);
    expect(() => num("1.5")).to.throw(/cannot read exactly/);
    expect(() => num(null)).to.throw(/expected an integer column/);
  });

  describe("on PostgreSQL rows", () => {
    const db = usePostgresDatabase("rows");
    it("maps a partner and a batch transaction read back from PostgreSQL to the same records", async () => {
      const pool = new Pool({ connectionString: db.url });
      try {
        await migratePg(pool);
        await pool.query(
          `INSERT INTO partners (id, name, status, rate_per_minute, burst, products, webhook_quota, created_at, updated_at)
         VALUES ('p1', 'Shop', 'active', 600, 20, 'pay_later,cash_loan', 5, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')`
        );
        const [p] = (await pool.query("SELECT * FROM partners WHERE id = 'p1'"))
          .rows;
        expect(partnerFrom(p)).to.deep.equal({
          id: "p1",
          name: "Shop",
          status: "active",
          ratePerMinute: 600,
          burst: 20,
          products: ["pay_later", "cash_loan"],
          webhookQuota: 5,
          createdAt: "2025-01-01T00:00:00.000Z",
          updatedAt: "2025-01-01T00:00:00.000Z",
        });
        const b = await pool.query(
          "INSERT INTO batches (nonce, status, created_at, updated_at) VALUES (41, 'pending', 't', 't') RETURNING id"
        );
        await pool.query(
          "INSERT INTO batch_transactions (hash, batch_id, nonce, raw, created_at) VALUES ('0xab', $1, 41, '0x02', 't')",
          [b.rows[0].id]
        );
        const [t] = (await pool.query("SELECT * FROM batch_transactions")).rows;
        expect(txFrom(t)).to.deep.equal({
          hash: "0xab",
          nonce: 41,
          raw: "0x02",
          createdAt: "t",
        });
      } finally {
        await pool.end();
      }
    });
  });
});
