/**
 * Keys of a local Hardhat network's accounts, derived from its configured mnemonic. They are
 * public test keys (printed by `npx hardhat node` itself): used by `npm start` and the tests
 * for the operator and scorer of a throwaway local ledger, never anywhere else: a production
 * gateway refuses them (`isPublicTestKey`).
 */
import { HDNodeWallet } from "ethers";

export interface HdAccountsConfig {
  mnemonic: string;
  path: string;
  initialIndex: number;
  passphrase?: string;
}

/** The private key of account `index` of a Hardhat HD accounts configuration. */
export function localAccountKey(accounts: HdAccountsConfig, index: number): string {
  const wallet = HDNodeWallet.fromPhrase(
    accounts.mnemonic,
    accounts.passphrase ?? "",
    `${accounts.path}/${accounts.initialIndex + index}`
  );
  return wallet.privateKey;
}

/** The mnemonic Hardhat and anvil derive their accounts from unless configured otherwise. */
export const DEFAULT_TEST_MNEMONIC = "test test test test test test test test test test test junk";
/** How many of its accounts count as public (Hardhat makes 20, anvil 10). */
const PUBLIC_TEST_ACCOUNTS = 20;

let publicTestAccounts: { keys: Set<string>; addresses: Set<string> } | undefined;

function testAccounts(): { keys: Set<string>; addresses: Set<string> } {
  if (publicTestAccounts === undefined) {
    const parent = HDNodeWallet.fromPhrase(DEFAULT_TEST_MNEMONIC, "", "m/44'/60'/0'/0");
    const wallets = Array.from({ length: PUBLIC_TEST_ACCOUNTS }, (_, i) => parent.deriveChild(i));
    publicTestAccounts = {
      keys: new Set(wallets.map((w) => w.privateKey.toLowerCase())),
      addresses: new Set(wallets.map((w) => w.address.toLowerCase())),
    };
  }
  return publicTestAccounts;
}

/** Whether a private key is one of the public test accounts of the default mnemonic (every Hardhat and anvil node's). */
export function isPublicTestKey(privateKey: string): boolean {
  return testAccounts().keys.has(privateKey.toLowerCase());
}

/** Whether an address is one of those accounts' (a keystore or remote signer holding a public key). */
export function isPublicTestAddress(address: string): boolean {
  return testAccounts().addresses.has(address.toLowerCase());
}
