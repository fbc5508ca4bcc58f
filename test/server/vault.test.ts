import { expect } from "chai";
import { createCipheriv, randomBytes } from "node:crypto";

import { taggedJson } from "../../core/json";
import { ManualClock } from "../../server/clock";
import { cryptoRandom } from "../../server/randomness";
import { featuresAad } from "../../server/store/sealed-features";
import { SqliteServicingStore } from "../../server/servicing/servicing-store";
import { SqliteStore } from "../../server/store/sqlite-store";
import { Keyring, VaultSealError } from "../../server/vault/keyring";
import { rotateVault, type RotationProgress } from "../../server/vault/rotation";
import { InvalidNationalId, Vault } from "../../server/vault/vault";
import { randomNationalId } from "../helpers/identities";

function newVault(pepper = randomBytes(32), keyring = Keyring.single(randomBytes(32))) {
  const store = new SqliteStore(":memory:", new ManualClock(0), { sealer: keyring });
  const vault = new Vault(store, { keyring, identityPepper: pepper }, cryptoRandom, new ManualClock(0));
  return { store, vault };
}

/** What the vault wrote before keys had ids: base64(iv | tag | ciphertext), AES-256-GCM, aad bound in. */
function legacySeal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

const twoKeys = (currentId: "old" | "new", keys: { old: Buffer; new: Buffer }) =>
  new Keyring({ currentId, keys: [["old", keys.old], ["new", keys.new]] });

const person = (nationalId = randomNationalId()) => ({ nationalId, name: "张三", phone: "+86 138 0013 8000" });

describe("identity vault", () => {
  it("gives the same person the same account", async () => {
    const { vault } = newVault();
    const p = person();
    const first = await vault.enroll(p);
    const second = await vault.enroll({ ...p, phone: "+86 139 0000 0000" });
    expect(first.created).to.equal(true);
    expect(second).to.deep.equal({ accountId: first.accountId, created: false });
    expect(first.accountId).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("normalizes the national id (spaces, lower-case x) before keying it", async () => {
    const { vault } = newVault();
    let id = randomNationalId();
    while (!id.endsWith("X")) id = randomNationalId();
    const a = await vault.enroll(person(id));
    const b = await vault.enroll(person(`  ${id.toLowerCase()} `));
    expect(b.accountId).to.equal(a.accountId);
  });

  it("gives different people different accounts", async () => {
    const { vault } = newVault();
    const a = await vault.enroll(person());
    const b = await vault.enroll(person());
    expect(a.accountId).not.to.equal(b.accountId);
  });

  it("keys identities with the pepper: another pepper gives another key", () => {
    const id = randomNationalId();
    expect(newVault().vault.identityKeyOf(id)).not.to.equal(newVault().vault.identityKeyOf(id));
  });

  it("refuses a national id with a wrong check digit", () => {
    const id = randomNationalId();
    const wrong = id.slice(0, 17) + (id[17] === "1" ? "2" : "1");
    expect(() => newVault().vault.identityKeyOf(wrong)).to.throw(InvalidNationalId);
  });

  it("keeps PII sealed: nothing readable in the row, revealed only with the key and the account id", async () => {
    const { vault, store } = newVault();
    const p = person();
    const { accountId } = await vault.enroll(p);
    const row = (await store.findIdentityByAccount(accountId))!;
    expect(row.sealedPii).not.to.include(p.nationalId);
    expect(Buffer.from(row.sealedPii.split(":")[4], "base64").toString("utf8")).not.to.include(p.nationalId);
    expect(row.identityKey).not.to.include(p.nationalId);
    expect(await vault.reveal(accountId)).to.deep.equal(p);
  });

  it("deleting a person unlinks them: no row, no PII, and the same id no longer finds the account", async () => {
    const { vault, store } = newVault();
    const p = person();
    const { accountId } = await vault.enroll(p);
    expect(await vault.forget(accountId)).to.equal(true);
    expect(await store.findIdentityByAccount(accountId)).to.equal(undefined);
    expect(await store.findIdentity(vault.identityKeyOf(p.nationalId))).to.equal(undefined);
    expect(await vault.reveal(accountId)).to.equal(undefined);
    expect((await vault.resolve(p)).accountId).not.to.equal(accountId);
    expect(await vault.forget(accountId)).to.equal(false);
  });
});

describe("vault keyring: sealed records carry a key id, so keys rotate", () => {
  const keys = { old: randomBytes(32), new: randomBytes(32) };

  it("seals as v1:<keyId>:<iv>:<tag>:<ciphertext> under the current key (12-byte iv, 16-byte tag)", () => {
    const sealed = twoKeys("new", keys).seal("secret", "aad");
    const [format, keyId, iv, tag, body] = sealed.split(":");
    expect([format, keyId]).to.deep.equal(["v1", "new"]);
    expect(Buffer.from(iv, "base64")).to.have.length(12);
    expect(Buffer.from(tag, "base64")).to.have.length(16);
    expect(Buffer.from(body, "base64").toString("utf8")).not.to.include("secret");
    expect(twoKeys("new", keys).open(sealed, "aad")).to.equal("secret");
  });

  it("opens a record sealed under an older key of the ring after the current key changed", async () => {
    const before = newVault(randomBytes(32), twoKeys("old", keys));
    const p = person();
    const { accountId } = await before.vault.enroll(p);
    const after = new Vault(before.store, { keyring: twoKeys("new", keys), identityPepper: randomBytes(32) }, cryptoRandom, new ManualClock(0));
    expect((await before.store.findIdentityByAccount(accountId))!.sealedPii).to.match(/^v1:old:/);
    expect(await after.reveal(accountId)).to.deep.equal({ ...p });
  });

  it("still reads the old format (no key id), with whichever key of the ring sealed it", () => {
    const legacy = legacySeal(keys.old, "from before", "acct");
    expect(twoKeys("new", keys).open(legacy, "acct")).to.equal("from before");
    expect(() => Keyring.single(randomBytes(32)).open(legacy, "acct")).to.throw(VaultSealError, /opens under none of the vault keys \(k0\)/);
  });

  it("refuses a truncated tag (the 16-byte tag length is pinned)", () => {
    const ring = twoKeys("new", keys);
    const sealed = ring.seal("secret", "aad");
    for (const bytes of [4, 8, 12, 15]) {
      const parts = sealed.split(":");
      parts[3] = Buffer.from(parts[3], "base64").subarray(0, bytes).toString("base64");
      expect(() => ring.open(parts.join(":"), "aad"), `${bytes}-byte tag`).to.throw(VaultSealError, new RegExp(`tag must be 16 bytes, not ${bytes}`));
    }
  });

  it("refuses a record sealed under a key the ring lacks, naming the key id", () => {
    const sealed = twoKeys("old", keys).seal("secret", "aad");
    const error = (() => {
      try {
        Keyring.single(keys.new, "new").open(sealed, "aad");
      } catch (e) {
        return e as VaultSealError;
      }
      return undefined;
    })();
    expect(error).to.be.instanceOf(VaultSealError);
    expect(error!.keyId).to.equal("old");
    expect(error!.message).to.match(/sealed under vault key "old", which is not in the keyring \(new\): add it back to GATEWAY_VAULT_KEYS/);
  });

  it("refuses a record moved to another account, and an altered one", () => {
    const ring = twoKeys("new", keys);
    const sealed = ring.seal("secret", "account-a");
    expect(() => ring.open(sealed, "account-b")).to.throw(VaultSealError, /does not authenticate under vault key "new"/);
    const parts = sealed.split(":");
    const body = Buffer.from(parts[4], "base64");
    body[0] ^= 1;
    parts[4] = body.toString("base64");
    expect(() => ring.open(parts.join(":"), "account-a")).to.throw(VaultSealError, /does not authenticate/);
  });

  it("a rotation re-seals every record (PII, decision and review features; old format and clear features too) under the current key, in batches with progress", async () => {
    const { store, vault } = newVault(randomBytes(32), twoKeys("old", keys));
    const people = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const p = person();
        return { p, ...(await vault.enroll(p)) };
      })
    );
    // One person from before key ids, and a review whose features were stored in clear before they were sealed.
    const legacyAccount = `0x${"ab".repeat(32)}`;
    const legacyPerson = person();
    store.db
      .prepare("INSERT INTO vault (identity_key, account_id, sealed_pii, created_at) VALUES (?, ?, ?, ?)")
      .run("legacy-identity", legacyAccount, legacySeal(keys.old, JSON.stringify(legacyPerson), legacyAccount), new Date(0).toISOString());
    const servicing = new SqliteServicingStore(store.db, new ManualClock(0), twoKeys("old", keys));
    await servicing.recordReview({ accountId: people[0].accountId, productId: 1, reviewedAt: 1n, outcome: "unchanged", score: 600, features: { monthlyIncomeYuan: 12_000 } });
    store.db
      .prepare("INSERT INTO limit_reviews (account_id, product_id, reviewed_at, outcome, score, features) VALUES (?, 1, 2, 'unchanged', 600, ?)")
      .run(legacyAccount, taggedJson({ monthlyIncomeYuan: 9_000 }));

    const current = twoKeys("new", keys);
    const progress: RotationProgress[] = [];
    const report = rotateVault(store.db, current, { batchSize: 2, onProgress: (p) => progress.push(p) });
    expect(report).to.deep.equal({ keyId: "new", resealed: { vault: 6, decisions: 0, limit_reviews: 2 } });
    expect(progress.filter((p) => p.table === "vault").map((p) => p.done)).to.deep.equal([0, 2, 4, 6]);
    expect(progress.every((p) => p.total === { vault: 6, decisions: 0, limit_reviews: 2 }[p.table])).to.equal(true);

    // Every record now names the new key, and opens without the old one.
    const sealed = [
      ...(store.db.prepare("SELECT sealed_pii AS v FROM vault").all() as { v: string }[]),
      ...(store.db.prepare("SELECT features AS v FROM limit_reviews").all() as { v: string }[]),
    ];
    expect(sealed.every(({ v }) => v.startsWith("v1:new:"))).to.equal(true);
    const newOnly = Keyring.single(keys.new, "new");
    const after = new Vault(store, { keyring: newOnly, identityPepper: randomBytes(32) }, cryptoRandom, new ManualClock(0));
    expect(await after.reveal(legacyAccount)).to.deep.equal(legacyPerson);
    for (const { p, accountId } of people) expect(await after.reveal(accountId)).to.deep.equal(p);
    const reviews = await new SqliteServicingStore(store.db, new ManualClock(0), newOnly).reviewsOf(legacyAccount);
    expect(reviews.map((r) => r.features)).to.deep.equal([{ monthlyIncomeYuan: 9_000 }]);
    expect(newOnly.open((store.db.prepare("SELECT features AS v FROM limit_reviews WHERE account_id = ?").get(people[0].accountId) as { v: string }).v, featuresAad(people[0].accountId))).to.include("12000");

    // A second rotation finds nothing left to do.
    expect(rotateVault(store.db, current, { batchSize: 2 }).resealed).to.deep.equal({ vault: 0, decisions: 0, limit_reviews: 0 });
  });

  it("a rotation stops at a record sealed under a key the ring lacks, naming it", async () => {
    const { store, vault } = newVault(randomBytes(32), twoKeys("old", keys));
    await vault.enroll(person());
    expect(() => rotateVault(store.db, Keyring.single(keys.new, "new"), { batchSize: 10 })).to.throw(VaultSealError, /vault key "old"/);
  });
});
