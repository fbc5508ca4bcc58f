/**
 * Where a role's signing key comes from (the gateway's operator key, the scorer's key): read
 * from the environment under one prefix, opened into an ethers `Signer`. Shared by server/ and
 * scorer/, which read their own prefixes (GATEWAY_OPERATOR_, SCORER_).
 *
 *   <P>_KEYSTORE                 an encrypted JSON keystore (Web3 Secret Storage v3, as geth,
 *                                Foundry's `cast wallet` and `npm run admin -- keystore new`
 *                                write it), opened with its password from
 *   <P>_KEYSTORE_PASSWORD_FILE   a file holding the password (mode 0600 or stricter), or
 *   <P>_KEYSTORE_PASSWORD        the password itself (secret)
 *   <P>_SIGNER_URL               a remote signer speaking the Ethereum JSON-RPC signing methods
 *                                (eth_accounts, eth_signTransaction, eth_signTypedData_v4:
 *                                Web3Signer's eth1 mode, Clef), with
 *   <P>_SIGNER_ADDRESS           the address it signs for, and optionally
 *   <P>_SIGNER_TOKEN             a bearer token it expects (secret)
 *   <P>_KEY                      the raw private key, 0x + 64 hex (secret): development only
 *
 * Exactly one source. A raw key in the environment is refused unless the caller says this is
 * a development setup: a process environment leaks into crash dumps, `ps e`, child processes
 * and support bundles; a keystore on disk is useless without its password, and a remote
 * signer never lets the key out at all.
 *
 * Why ethers' keystore code (`Wallet.fromEncryptedJson`, `Wallet.encrypt`): it is the
 * implementation already pinned for every signature this project makes, it reads the scrypt
 * and pbkdf2 keystores of geth, Foundry and MetaMask exports, and a second crypto library
 * would be one more thing to audit. The remote signer checks every answer before it is used:
 * a signed transaction must decode to exactly the transaction asked for, from the configured
 * address, and a typed-data signature must recover to that address, so a signer that answers
 * for another key or alters a field is caught before anything is broadcast.
 */
import { readFileSync, statSync } from "node:fs";
import {
  AbstractSigner,
  getAddress,
  isAddress,
  resolveAddress,
  Transaction,
  TypedDataEncoder,
  verifyTypedData,
  Wallet,
  type Provider,
  type Signer,
  type TransactionLike,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { Secret } from "./secret";

export type KeySource =
  | { kind: "raw"; setting: string; key: Secret<string> }
  | { kind: "keystore"; setting: string; path: string; password: Secret<string> }
  | { kind: "remote"; setting: string; url: string; address: string; token?: Secret<string> };

export interface KeySourceOptions {
  /** Whether a raw key in the environment is allowed (a development setup). */
  allowRaw: boolean;
  /** How the caller is told it is a development setup, for the refusal ("GATEWAY_MODE=development"). */
  developmentSwitch: string;
  /** What the key is for, in the messages ("the operator key, holding OPERATOR_ROLE"). */
  role: string;
}

/** The names of every setting of prefix `p` (so configs can keep them out of their own schemas and logs). */
export function keySourceSettings(p: string): string[] {
  return [`${p}_KEY`, `${p}_KEYSTORE`, `${p}_KEYSTORE_PASSWORD`, `${p}_KEYSTORE_PASSWORD_FILE`, `${p}_SIGNER_URL`, `${p}_SIGNER_ADDRESS`, `${p}_SIGNER_TOKEN`];
}

/** The settings of prefix `p` whose values are secrets. */
export function secretKeySourceSettings(p: string): string[] {
  return [`${p}_KEY`, `${p}_KEYSTORE_PASSWORD`, `${p}_SIGNER_TOKEN`];
}

/** How to set a key source of prefix `p`, for "is not set" messages. */
export function keySourceHelp(p: string): string {
  return `${p}_KEYSTORE (an encrypted JSON keystore: npm run admin -- keystore new) with ${p}_KEYSTORE_PASSWORD_FILE, or ${p}_SIGNER_URL with ${p}_SIGNER_ADDRESS (a remote signer)`;
}

/**
 * Reads the key source of prefix `p` from `env`. Returns the source, or undefined with what is
 * wrong pushed to `problems` (never a secret's value).
 */
export function readKeySource(
  env: Readonly<Record<string, string | undefined>>,
  p: string,
  options: KeySourceOptions,
  problems: string[]
): KeySource | undefined {
  const get = (name: string): string | undefined => {
    const value = env[`${p}_${name}`]?.trim();
    return value === "" ? undefined : value;
  };
  const raw = get("KEY");
  const keystore = get("KEYSTORE");
  const signerUrl = get("SIGNER_URL");
  const given = [raw && `${p}_KEY`, keystore && `${p}_KEYSTORE`, signerUrl && `${p}_SIGNER_URL`].filter((s): s is string => Boolean(s));
  if (given.length > 1) {
    problems.push(`${given.join(" and ")} are both set: ${options.role} comes from one source (${keySourceHelp(p)})`);
    return undefined;
  }
  if (given.length === 0) {
    problems.push(`${p}_KEYSTORE is not set (set it to ${options.role}: ${keySourceHelp(p)}${options.allowRaw ? `, or ${p}_KEY (development only)` : ""})`);
    return undefined;
  }
  if (raw !== undefined) {
    if (!options.allowRaw) {
      problems.push(
        `${p}_KEY is a raw private key in the environment, which a production setup refuses: ` +
          `keep ${options.role} in ${keySourceHelp(p)}; or set ${options.developmentSwitch} for a development setup`
      );
      return undefined;
    }
    if (!/^0x[0-9a-fA-F]{64}$/.test(raw)) {
      problems.push(`${p}_KEY must be 0x and 64 hex digits (the value is not shown)`);
      return undefined;
    }
    return { kind: "raw", setting: `${p}_KEY`, key: new Secret(raw) };
  }
  if (keystore !== undefined) {
    // The password as given: spaces may be part of it (only an empty value counts as unset).
    const password = env[`${p}_KEYSTORE_PASSWORD`] === "" ? undefined : env[`${p}_KEYSTORE_PASSWORD`];
    const passwordFile = get("KEYSTORE_PASSWORD_FILE");
    if (password !== undefined && passwordFile !== undefined) {
      problems.push(`${p}_KEYSTORE_PASSWORD and ${p}_KEYSTORE_PASSWORD_FILE are both set: set one`);
      return undefined;
    }
    if (password === undefined && passwordFile === undefined) {
      problems.push(`${p}_KEYSTORE is set but not its password: set ${p}_KEYSTORE_PASSWORD_FILE (a file only this user can read) or ${p}_KEYSTORE_PASSWORD`);
      return undefined;
    }
    const secret = password !== undefined ? password : readPasswordFile(`${p}_KEYSTORE_PASSWORD_FILE`, passwordFile!, problems);
    if (secret === undefined) return undefined;
    return { kind: "keystore", setting: `${p}_KEYSTORE`, path: keystore, password: new Secret(secret) };
  }
  const address = get("SIGNER_ADDRESS");
  if (!/^https?:\/\/./.test(signerUrl!)) {
    problems.push(`${p}_SIGNER_URL must be an http(s) URL, not "${signerUrl}"`);
    return undefined;
  }
  if (address === undefined || !isAddress(address)) {
    problems.push(`${p}_SIGNER_ADDRESS must be the address the remote signer at ${signerUrl} signs for (${address === undefined ? "not set" : `"${address}" is not an address`})`);
    return undefined;
  }
  const token = get("SIGNER_TOKEN");
  return { kind: "remote", setting: `${p}_SIGNER_URL`, url: signerUrl!, address: getAddress(address), ...(token ? { token: new Secret(token) } : {}) };
}

function readPasswordFile(setting: string, file: string, problems: string[]): string | undefined {
  try {
    return readSecretFile(setting, file, "the keystore's password");
  } catch (error) {
    if (!(error instanceof KeySourceError)) throw error;
    problems.push(error.message);
    return undefined;
  }
}

/**
 * The secret a file holds (its first line; the trailing newline `echo pw > file` leaves is
 * dropped). Refused when other users can read the file, or it is empty or missing, naming
 * `setting` and what it should hold.
 */
export function readSecretFile(setting: string, file: string, holds: string): string {
  let text: string;
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new KeySourceError(`${setting} ${file} can be read by other users (mode 0${mode.toString(8)}): chmod 600 ${file}`);
    text = readFileSync(file, "utf8");
  } catch (error) {
    if (error instanceof KeySourceError) throw error;
    throw new KeySourceError(`${setting} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): it must be a file holding ${holds}`);
  }
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") throw new KeySourceError(`${setting} ${file} is empty: it must hold ${holds}`);
  return secret;
}

/** A key source that cannot be opened (wrong password, unreachable signer, …): says which setting and what to do. */
export class KeySourceError extends Error {}

/** Opens `source` into a signer (connected to `provider` when given); checks the remote signer holds its address. */
export async function openSigner(source: KeySource, provider?: Provider): Promise<Signer & { readonly address: string }> {
  if (source.kind === "raw") return new Wallet(source.key.reveal(), provider ?? null);
  if (source.kind === "keystore") {
    let json: string;
    try {
      json = readFileSync(source.path, "utf8");
    } catch (error) {
      throw new KeySourceError(`${source.setting} ${source.path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): point it at the encrypted JSON keystore`);
    }
    let wallet: Wallet;
    try {
      const opened = await Wallet.fromEncryptedJson(json, source.password.reveal());
      wallet = new Wallet(opened.privateKey, provider ?? null);
    } catch (error) {
      const message = (error as Error).message;
      const why = /password/i.test(message) ? "the password does not open it" : `it is not a JSON keystore (${message.split(" (")[0]})`;
      throw new KeySourceError(`${source.setting} ${source.path}: ${why}: check the keystore file and its password setting`);
    }
    return wallet;
  }
  const signer = new RemoteSigner(source.url, source.address, source.token?.reveal(), provider ?? null);
  await signer.checkHolds();
  return signer;
}

/** Writes a new keystore's JSON for `privateKey` (or a fresh random key), encrypted with `password` (scrypt, ethers' defaults). */
export async function encryptKeystore(password: string, privateKey?: string): Promise<{ address: string; json: string }> {
  const wallet = privateKey ? new Wallet(privateKey) : Wallet.createRandom();
  return { address: wallet.address, json: await wallet.encrypt(password) };
}

/** A quantity as JSON-RPC wants it (0x hex, no leading zeros). */
function quantity(v: bigint | number | null | undefined): string | undefined {
  return v === null || v === undefined ? undefined : `0x${BigInt(v).toString(16)}`;
}

/**
 * A signer whose key lives in a remote signer (Web3Signer, Clef, …), reached over JSON-RPC.
 * Every answer is checked against what was asked before it is used.
 */
export class RemoteSigner extends AbstractSigner {
  private id = 0;

  constructor(
    readonly url: string,
    readonly address: string,
    private readonly token: string | undefined,
    provider: Provider | null
  ) {
    super(provider);
  }

  connect(provider: Provider | null): RemoteSigner {
    return new RemoteSigner(this.url, this.address, this.token, provider);
  }

  async getAddress(): Promise<string> {
    return this.address;
  }

  /** Refuses a signer that does not list the configured address among its accounts. */
  async checkHolds(): Promise<void> {
    const accounts = (await this.rpc("eth_accounts", [])) as unknown;
    if (!Array.isArray(accounts) || !accounts.some((a) => typeof a === "string" && isAddress(a) && getAddress(a) === this.address)) {
      throw new KeySourceError(
        `the remote signer at ${this.url} does not hold ${this.address} (its accounts: ${Array.isArray(accounts) ? accounts.join(", ") || "none" : "not a list"}): check the signer address setting`
      );
    }
  }

  async signTransaction(request: TransactionRequest): Promise<string> {
    // ethers' sendTransaction hands a Transaction (its fields are getters, which a spread would lose).
    const tx = request instanceof Transaction ? request : Transaction.from(await this.resolved(request));
    const type = tx.inferType();
    const ask = {
      from: this.address,
      to: tx.to ?? undefined,
      data: tx.data,
      value: quantity(tx.value),
      nonce: quantity(tx.nonce),
      gas: quantity(tx.gasLimit),
      chainId: quantity(tx.chainId),
      type: quantity(type),
      ...(type >= 2
        ? { maxFeePerGas: quantity(tx.maxFeePerGas), maxPriorityFeePerGas: quantity(tx.maxPriorityFeePerGas) }
        : { gasPrice: quantity(tx.gasPrice) }),
    };
    const answer = (await this.rpc("eth_signTransaction", [ask])) as unknown;
    // Web3Signer answers the raw transaction; Clef answers { raw, tx }.
    const raw = typeof answer === "string" ? answer : (answer as { raw?: unknown } | null)?.raw;
    if (typeof raw !== "string") throw new KeySourceError(`the remote signer at ${this.url} answered eth_signTransaction without a signed transaction`);
    let signed: Transaction;
    try {
      signed = Transaction.from(raw);
    } catch {
      throw new KeySourceError(`the remote signer at ${this.url} answered eth_signTransaction with something that is not a signed transaction`);
    }
    const same =
      signed.from !== null &&
      getAddress(signed.from) === this.address &&
      signed.unsignedHash === tx.unsignedHash;
    if (!same) {
      throw new KeySourceError(
        `the remote signer at ${this.url} signed a different transaction than asked (from ${signed.from}, nonce ${signed.nonce}): nothing was broadcast; check the signer`
      );
    }
    return signed.serialized;
  }

  async signMessage(): Promise<string> {
    throw new KeySourceError("credit-ledger never signs plain messages with a role key");
  }

  async signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string> {
    const payload = TypedDataEncoder.getPayload(domain, types, value);
    const signature = (await this.rpc("eth_signTypedData_v4", [this.address, JSON.stringify(payload)])) as unknown;
    if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
      throw new KeySourceError(`the remote signer at ${this.url} answered eth_signTypedData_v4 without a 65-byte signature`);
    }
    let signer: string;
    try {
      signer = verifyTypedData(domain, types, value, signature);
    } catch {
      signer = "nobody";
    }
    if (signer !== this.address) throw new KeySourceError(`the remote signer at ${this.url} signed with ${signer}, not ${this.address}: check the signer`);
    return signature;
  }

  /** The request with every field a transaction needs filled in (nonce, fees, gas, chain id). */
  private async resolved(request: TransactionRequest): Promise<TransactionLike<string>> {
    const populated = request.nonce === undefined || request.chainId === undefined ? await this.populateTransaction(request) : request;
    const to = populated.to === undefined || populated.to === null ? null : await resolveAddress(populated.to, this.provider);
    const { from: _from, ...rest } = populated;
    void _from;
    return { ...rest, to } as TransactionLike<string>;
  }

  private async rpc(method: string, params: unknown[]): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new KeySourceError(`the remote signer at ${this.url} cannot be reached (${(error as Error).message}): check the signer URL and that it runs`);
    }
    if (response.status === 401 || response.status === 403) {
      throw new KeySourceError(`the remote signer at ${this.url} refused the request (HTTP ${response.status}): check the signer token setting`);
    }
    const body = (await response.json().catch(() => undefined)) as { result?: unknown; error?: { message?: string } } | undefined;
    if (!response.ok || body === undefined || body.error) {
      throw new KeySourceError(`the remote signer at ${this.url} refused ${method}: ${body?.error?.message ?? `HTTP ${response.status}`}`);
    }
    return body.result;
  }
}
