/**
 * Keys of a local Hardhat network's accounts, derived from its configured mnemonic. They are
 * public test keys (printed by `npx hardhat node` itself): used by `npm start` and the tests
 * for the operator and scorer of a throwaway local ledger, never anywhere else.
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
