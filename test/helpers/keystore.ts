/**
 * An encrypted JSON keystore and its password file in a fresh temporary folder (both 0600), and
 * the settings that point a process at them. Encrypted with a low scrypt cost (N = 2^10) so that
 * tests stay quick; `npm run admin -- keystore new` uses ethers' default cost (N = 2^17).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encryptKeystoreJson, Wallet } from "ethers";

export interface TestKeystore {
  dir: string;
  file: string;
  passwordFile: string;
  password: string;
  address: string;
  /** The key source settings of `prefix` (default GATEWAY_OPERATOR). */
  env: Record<string, string>;
  envFor(prefix: string): Record<string, string>;
  remove(): void;
}

export async function writeTestKeystore(privateKey: string, password = "a test keystore password"): Promise<TestKeystore> {
  const dir = mkdtempSync(path.join(tmpdir(), "keystore-"));
  const wallet = new Wallet(privateKey);
  const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, { scrypt: { N: 1 << 10 } });
  const file = path.join(dir, "key.json");
  const passwordFile = path.join(dir, "password");
  writeFileSync(file, json, { mode: 0o600 });
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const envFor = (prefix: string) => ({ [`${prefix}_KEYSTORE`]: file, [`${prefix}_KEYSTORE_PASSWORD_FILE`]: passwordFile });
  return { dir, file, passwordFile, password, address: wallet.address, env: envFor("GATEWAY_OPERATOR"), envFor, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
