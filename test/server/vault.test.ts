import { expect } from "chai";
import { randomBytes } from "node:crypto";

import { ManualClock } from "../../server/clock";
import { cryptoRandom } from "../../server/randomness";
import { SqliteStore } from "../../server/store/sqlite-store";
import { InvalidNationalId, Vault } from "../../server/vault/vault";
import { randomNationalId } from "../helpers/identities";

function newVault(pepper = randomBytes(32)) {
  const store = new SqliteStore(":memory:", new ManualClock(0));
  const vault = new Vault(store, { encryptionKey: randomBytes(32), identityPepper: pepper }, cryptoRandom, new ManualClock(0));
  return { store, vault };
}

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
    expect(Buffer.from(row.sealedPii, "base64").toString("utf8")).not.to.include(p.nationalId);
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
