/**
 * Decision features (declared income among them) as the database keeps them: sealed by the
 * vault's keyring (server/vault/keyring.ts), the account id bound in as associated data, so a
 * stolen database shows no one's income and a sealed value cannot be moved to another account.
 * Erasing a person (forget-identity) blanks them: an erased value is the empty string, read as
 * no features. A value written before features were sealed (clear JSON) is still read, and a
 * vault rotation (`npm run admin -- vault rotate`) seals it.
 */
import { fromTaggedJson, taggedJson } from "../../core/json";

/** Seals and opens a column's values (the vault keyring). */
export interface FieldSealer {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

export type StoredFeatures = Record<string, number | undefined>;

/** What an erased person's features are replaced with. */
export const ERASED_FEATURES = "";

/** The associated data of an account's features (distinct from its vault record's). */
export const featuresAad = (accountId: string): string => `features:${accountId}`;

/** Whether a stored value is clear JSON, from before features were sealed. */
export const isClearFeatures = (stored: string): boolean => stored.startsWith("{");

export function sealFeatures(sealer: FieldSealer | undefined, accountId: string, features: StoredFeatures): string {
  return requireSealer(sealer).seal(taggedJson(features), featuresAad(accountId));
}

export function openFeatures(sealer: FieldSealer | undefined, accountId: string, stored: string): StoredFeatures {
  if (stored === ERASED_FEATURES) return {};
  if (isClearFeatures(stored)) return fromTaggedJson(stored);
  return fromTaggedJson(requireSealer(sealer).open(stored, featuresAad(accountId)));
}

function requireSealer(sealer: FieldSealer | undefined): FieldSealer {
  if (sealer === undefined) throw new Error("this store was opened without the vault keyring, which seals decision features (the gateway gives it its own)");
  return sealer;
}
