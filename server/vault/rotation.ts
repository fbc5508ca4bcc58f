/**
 * A vault key rotation (`npm run admin -- vault rotate`): every sealed value not sealed under
 * the keyring's current key (an older key, the old format without a key id, or decision
 * features from before they were sealed) is opened and sealed again under the current key, in
 * batches, each batch one transaction. The gateway may be running on the same database: a row
 * is rewritten only if it still holds the value that was read (compare and set), and a value
 * the gateway writes meanwhile is sealed under the current key already. Once a rotation has
 * run, no record names an older key, and that key can leave GATEWAY_VAULT_KEYS.
 */
import type Database from "better-sqlite3";

import { ERASED_FEATURES, featuresAad, isClearFeatures } from "../store/sealed-features";
import type { Keyring } from "./keyring";

/** A column of sealed values and the associated data each was sealed with. */
interface SealedColumn {
  table: string;
  column: string;
  aadOf(accountId: string): string;
  /** Values kept as they are (an erased person's features). */
  skip?: string;
  /** Whether a value is clear text to seal (not opened first). */
  isClear?(value: string): boolean;
}

/** Every sealed column of the gateway's database. */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: "vault", column: "sealed_pii", aadOf: (accountId) => accountId },
  { table: "decisions", column: "features", aadOf: featuresAad, skip: ERASED_FEATURES, isClear: isClearFeatures },
  { table: "limit_reviews", column: "features", aadOf: featuresAad, skip: ERASED_FEATURES, isClear: isClearFeatures },
];

export interface RotationProgress {
  table: string;
  /** Re-sealed so far in this table. */
  done: number;
  /** To re-seal in this table when it started. */
  total: number;
}

export interface RotationReport {
  keyId: string;
  resealed: Record<string, number>;
}

/** Re-seals every value of `columns` under the keyring's current key; throws `VaultSealError` naming a key the ring lacks. */
export function rotateVault(
  db: Database.Database,
  keyring: Keyring,
  options: { batchSize: number; onProgress?: (p: RotationProgress) => void; columns?: readonly SealedColumn[] }
): RotationReport {
  const prefix = keyring.currentPrefix;
  const resealed: Record<string, number> = {};
  for (const c of options.columns ?? SEALED_COLUMNS) {
    // substr, not LIKE: a key id may hold "_", which LIKE reads as a wildcard.
    const stale = `${c.column} <> ? AND substr(${c.column}, 1, ?) <> ?`;
    const staleArgs = [c.skip ?? "\u0000", prefix.length, prefix];
    const total = (db.prepare(`SELECT COUNT(*) AS n FROM ${c.table} WHERE ${stale}`).get(...staleArgs) as { n: number }).n;
    const next = db.prepare(`SELECT rowid AS id, account_id AS accountId, ${c.column} AS value FROM ${c.table} WHERE rowid > ? AND ${stale} ORDER BY rowid LIMIT ?`);
    const update = db.prepare(`UPDATE ${c.table} SET ${c.column} = ? WHERE rowid = ? AND ${c.column} = ?`);
    let done = 0;
    let after = 0;
    options.onProgress?.({ table: c.table, done, total });
    for (;;) {
      const rows = next.all(after, ...staleArgs, options.batchSize) as Array<{ id: number; accountId: string; value: string }>;
      if (rows.length === 0) break;
      const batch = db.transaction(() => {
        for (const row of rows) {
          const aad = c.aadOf(row.accountId);
          const plaintext = c.isClear?.(row.value) ? row.value : keyring.open(row.value, aad);
          done += update.run(keyring.seal(plaintext, aad), row.id, row.value).changes;
        }
      });
      batch.immediate();
      after = rows[rows.length - 1].id;
      options.onProgress?.({ table: c.table, done, total });
    }
    resealed[c.table] = done;
  }
  return { keyId: keyring.currentId, resealed };
}
