/**
 * Which source is the auditor verifying? The deployed runtime code must equal this
 * repository's compiled runtime code once (1) the linked library addresses are filled in,
 * (2) the immutables (values the constructor writes into the code: the EIP-712 domain cache)
 * and a library's own address (its call guard, written at deployment) are masked, and (3) the
 * trailing CBOR metadata (which holds the hash of the metadata file) is set aside. Pure: the
 * caller reads the code and the compiled artifacts.
 */
import type { BytecodeResult } from "./types";

export interface CodeReference {
  start: number;
  length: number;
}

/** A contract's compiled runtime code as solc reports it (`evm.deployedBytecode`). */
export interface RuntimeArtifact {
  /** Fully qualified name, `contracts/CreditLedger.sol:CreditLedger`. */
  name: string;
  object: string;
  linkReferences: Record<string, Record<string, CodeReference[]>>;
  immutableReferences?: Record<string, CodeReference[]>;
}

export interface RuntimeArtifacts {
  ledger: RuntimeArtifact;
  libraries: RuntimeArtifact[];
}

export interface CompareInput {
  contract: string;
  address: string;
  deployedCode: string;
  runtime: RuntimeArtifact;
  /** Fully qualified library name -> address, for the link references. */
  libraries: Record<string, string>;
}

const strip0x = (hex: string): string => hex.replace(/^0x/i, "").toLowerCase();

/** Overwrite `length` bytes at `start` of a hex string (no 0x) with `hex` (zero-padded on the left). */
function splice(code: string, { start, length }: CodeReference, hex: string): string {
  if ((start + length) * 2 > code.length) return code;
  return code.slice(0, start * 2) + hex.padStart(length * 2, "0") + code.slice((start + length) * 2);
}

/** Split off the CBOR metadata: its length is the last two bytes of the code. */
export function splitMetadata(code: string): { body: string; metadata: string } {
  if (code.length < 4) return { body: code, metadata: "" };
  const length = parseInt(code.slice(-4), 16);
  const total = (length + 2) * 2;
  if (total > code.length) return { body: code, metadata: "" };
  return { body: code.slice(0, code.length - total), metadata: code.slice(code.length - total) };
}

/** A library's runtime code starts with PUSH20 <its own address>, zero in the artifact. */
const LIBRARY_GUARD = /^73[0-9a-f]{40}/;

export function compareRuntime(input: CompareInput): BytecodeResult {
  const { contract, address } = input;
  let actual = strip0x(input.deployedCode);
  if (actual.length === 0) return { contract, address, matches: false, detail: `no code at ${address}` };
  let expected = strip0x(input.runtime.object);
  for (const [source, libraries] of Object.entries(input.runtime.linkReferences)) {
    for (const [name, references] of Object.entries(libraries)) {
      const linked = input.libraries[`${source}:${name}`];
      if (linked === undefined) return { contract, address, matches: false, detail: `no address for linked library ${source}:${name}` };
      for (const reference of references) expected = splice(expected, reference, strip0x(linked));
    }
  }
  for (const references of Object.values(input.runtime.immutableReferences ?? {})) {
    for (const reference of references) {
      expected = splice(expected, reference, "");
      actual = splice(actual, reference, "");
    }
  }
  if (/^730{40}/.test(expected) && LIBRARY_GUARD.test(actual)) actual = `73${"0".repeat(40)}${actual.slice(42)}`;

  const a = splitMetadata(actual);
  const e = splitMetadata(expected);
  if (a.body !== e.body) {
    let at = 0;
    while (at < a.body.length && a.body[at] === e.body[at]) at++;
    return {
      contract,
      address,
      matches: false,
      detail: `runtime code differs from the compiled artifact (${a.body.length / 2} vs ${e.body.length / 2} bytes before metadata; first difference at byte ${Math.floor(at / 2)})`,
    };
  }
  return {
    contract,
    address,
    matches: true,
    detail:
      a.metadata === e.metadata
        ? "equals the compiled artifact, metadata hash included"
        : "equals the compiled artifact; only the metadata hash differs (comments, paths or settings outside the code)",
  };
}
