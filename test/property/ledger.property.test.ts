/**
 * Model-based property test of the ledger (fast-check `fc.commands`): random sequences of
 * operations run against the real deployed ledger and a model of what it must do.
 *
 * Operations: open accounts, set exposure caps, record declines, grant lines (scorer-signed
 * decisions), raise limits (permanent and temporary), cut limits, freeze and unfreeze,
 * purchases, cash draws, repayments, refunds, time advance, pause and unpause, and RETRIES of
 * an already-applied call with the same ref and expected seq. Each operation's outcome is
 * predicted by the model: the custom error and its values when it must fail, the event values
 * (allocation from the TypeScript mirror) when it must succeed.
 *
 * After every step the invariants are checked:
 *   - every account, line and loan on chain equals the model;
 *   - a line's `used` never exceeds the limit in force at its last drawdown (tier-capped), and
 *     while no cut, tier change or temporary-limit expiry has happened since, not its
 *     effective limit now (a cut may go below usage);
 *   - a cut never raises a line's permanent limit: only a signed decision can
 *     (DESIGN.md: the operator key alone cannot grant credit);
 *   - an account's `used` never exceeds the exposure cap in force at its last drawdown;
 *   - account `used` == sum of its lines' `used` == outstanding principal of its active loans;
 *   - each repayment's allocation buckets sum to the amount paid;
 *   - the hash chain recomputed from the account's events (payloadHashOf/verifyChain of
 *     core/hash-chain.ts) ends at the on-chain `seq` and `head`;
 *   - no ref appears in two entries, and the refs on chain are exactly the applied calls'.
 *
 * After each whole sequence the auditor's verifier (verifier/: readLedger + verifyHistory, the
 * same code as `npm run audit`) reads the chain and must find every one of its checks holding.
 *
 * Each sequence starts from one account with both lines (opened and granted through the same
 * commands and checks). Case count: 50 sequences of up to 40 operations by default (about 45 s
 * on two cores). Scale the number of sequences with LEDGER_FUZZ_RUNS (a multiplier:
 * `LEDGER_FUZZ_RUNS=10` runs 500); replay a failure with LEDGER_FUZZ_SEED=<seed printed by
 * fast-check>. See test/helpers/fuzz.ts.
 *
 * The model is independent on purpose: its lines, limit in force, availability and caps are
 * written here again rather than imported from core/ (limits.ts, drawdown-terms.ts), so it
 * checks the contract and the TypeScript mirror against a third statement of the rules. Only the
 * loan math (allocations) comes from core/loan-math.ts, itself proven equal to the contract by
 * the differential tests.
 *
 * One deliberate exception to "a retry fails with SeqMismatch": retrying `openAccount` fails
 * with `AccountExists`, which the contract checks before the seq (the account's seq is 1, not 0,
 * once it exists); it cannot post twice either way.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse, LogDescription } from "ethers";

import { TIERS } from "../../deploy/defaults";
import { entryKindOf, payloadHashOf, verifyChain, type ChainEntry } from "../../core/hash-chain";
import {
  applyRefund,
  applyRepayment,
  dayOf,
  installmentFee,
  LoanStatus,
  position,
  presentValueUp,
  RepaymentMethod,
  withinCostCeiling,
  type LoanState,
  type LoanTerms,
} from "../../core/loan-math";
import {
  CASH_LOAN_ID,
  PAY_LATER_ID,
  deployLedger,
  makeDecision,
  newAccountId,
  newRef,
  sign,
  type Ledger,
} from "../helpers/fixtures";
import { fuzzParameters, fuzzRuns, fuzzTimeout } from "../helpers/fuzz";
import { allocationFrom, differences, show, stateFrom, termsFrom } from "../helpers/mirror";
import { loadRuntimeArtifacts } from "../../verifier/artifacts-node";
import { reportText } from "../../verifier/report";
import { readLedger } from "../../verifier/source";
import { verifyHistory } from "../../verifier/verify";

const RUNTIME_ARTIFACTS = loadRuntimeArtifacts(process.cwd());

const SEQUENCES = fuzzRuns(50);
const MAX_COMMANDS = 40;
const MAX_ACCOUNTS = 3;
const PRODUCTS = [PAY_LATER_ID, CASH_LOAN_ID] as const;
const PPM = 1_000_000n;
const MAX_RATE_PPM_PER_DAY = 10_000n;

// ================================================================== the model

interface ProductM {
  kind: number;
  graceDays: bigint;
  allowedPeriods: bigint;
  penaltyPpmPerDay: bigint;
  costCeilingPpmPerYear: bigint;
  writeOffDays: bigint;
  installmentFeePpm: bigint[];
}

interface LineM {
  granted: boolean;
  limit: bigint;
  tempLimit: bigint;
  tempExpiry: bigint;
  frozen: boolean;
  freezeReason: number;
  ratePpmPerDay: bigint;
  used: bigint;
  /** The permanent limit as signed decisions and cuts left it (what the limit may be at most). */
  decidedLimit: bigint;
  /** The tier-capped limit in force at the last drawdown, and when that was. */
  limitAtDraw?: bigint;
  drawTime?: bigint;
  /** A cut or a tier change since the last drawdown. */
  loweredSinceDraw: boolean;
}

interface LoanM {
  loanNo: bigint;
  productId: number;
  terms: LoanTerms;
  state: LoanState;
}

interface AccountM {
  id: string;
  tier: number;
  exposureCap: bigint;
  used: bigint;
  seq: bigint;
  decisionNonce: bigint;
  lines: Record<number, LineM>;
  loans: LoanM[];
  /** The exposure cap in force at the last drawdown, and whether it was lowered since. */
  capAtDraw?: bigint;
  capLoweredSinceDraw: boolean;
}

interface Model {
  accounts: AccountM[];
  paused: boolean;
  /** How many calls were applied (each a retry candidate). */
  applied: number;
  products: Record<number, ProductM>;
}

/** An applied call, kept so it can be retried byte for byte. */
interface Applied {
  account: string;
  expectedSeq: bigint;
  ref: string;
  what: string;
  pausable: boolean;
  opensAccount: boolean;
  send: () => Promise<ContractTransactionResponse>;
}

interface Real {
  l: Ledger;
  applied: Applied[];
  /** The latest block's timestamp, as the model last saw it. */
  now: bigint;
  /** How often each operation ended in each outcome (printed once, to show coverage). */
  outcomes: Map<string, number>;
}

const emptyLine = (): LineM => ({
  granted: false,
  limit: 0n,
  tempLimit: 0n,
  tempExpiry: 0n,
  frozen: false,
  freezeReason: 0,
  ratePpmPerDay: 0n,
  used: 0n,
  decidedLimit: 0n,
  loweredSinceDraw: false,
});

const tierOf = (tier: number) => TIERS[tier] ?? { maxLineLimit: 0n, maxExposure: 0n };

/** The limit in force at `t` (the ledger's `_effectiveLimit`). */
const effectiveLimit = (line: LineM, t: bigint): bigint =>
  t < line.tempExpiry && line.tempLimit > line.limit ? line.tempLimit : line.limit;

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

// ================================================================== chain helpers

/** Fix the next block's timestamp one second after the latest block, and return it. */
async function nextBlockTime(r: Real): Promise<bigint> {
  const t = BigInt(await time.latest()) + 1n;
  await time.setNextBlockTimestamp(t);
  r.now = t;
  return t;
}

type Expected = { error: string; args: unknown[] } | undefined;

const fail = (error: string, ...args: unknown[]): Expected => ({ error, args });

/**
 * Send a call the model predicts: with `expected` set it must revert with that error and
 * values; otherwise it must succeed, and its receipt's events are returned.
 */
async function submit(r: Real, expected: Expected, send: () => Promise<ContractTransactionResponse>, what: string) {
  const outcome = `${what.replace(/\(.*$/, "")}: ${expected?.error ?? "applied"}`;
  r.outcomes.set(outcome, (r.outcomes.get(outcome) ?? 0) + 1);
  if (expected !== undefined) {
    await expect(send(), what)
      .to.be.revertedWithCustomError(r.l.ledger, expected.error)
      .withArgs(...expected.args);
    return undefined;
  }
  const receipt = await (await send()).wait();
  return receipt!.logs.map((log) => r.l.ledger.interface.parseLog(log)).filter((e): e is LogDescription => e !== null);
}

function only(events: LogDescription[] | undefined, name: string): LogDescription {
  const found = (events ?? []).filter((e) => e.name === name);
  expect(found, `one ${name} event`).to.have.length(1);
  return found[0];
}

/** Record an applied call for retries and advance the model's seq. */
function recordApplied(m: Model, r: Real, a: AccountM, entry: Omit<Applied, "account" | "expectedSeq">): void {
  r.applied.push({ account: a.id, expectedSeq: a.seq, ...entry });
  a.seq += 1n;
  m.applied += 1;
}

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length];

// ================================================================== commands

abstract class Cmd implements fc.AsyncCommand<Model, Real> {
  check(_m: Readonly<Model>): boolean {
    return true;
  }
  abstract apply(m: Model, r: Real): Promise<void>;
  async run(m: Model, r: Real): Promise<void> {
    await this.apply(m, r);
    await checkInvariants(m, r, this.toString());
  }
  abstract toString(): string;
}

/** A command on an existing account, chosen by index. */
abstract class AccountCmd extends Cmd {
  constructor(readonly accountIndex: number) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    return m.accounts.length > 0;
  }
  account(m: Model): AccountM {
    return pick(m.accounts, this.accountIndex);
  }
}

class OpenAccount extends Cmd {
  constructor(readonly tier: number, readonly capPpm: bigint) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    return m.accounts.length < MAX_ACCOUNTS;
  }
  async apply(m: Model, r: Real): Promise<void> {
    const id = newAccountId();
    const ref = newRef();
    const policy = tierOf(this.tier);
    const cap = ((policy.maxExposure === 0n ? 1_000_000n : policy.maxExposure) * this.capPpm) / PPM;
    await nextBlockTime(r);
    const expected = m.paused
      ? fail("EnforcedPause")
      : policy.maxExposure === 0n
      ? fail("UnknownTier", this.tier)
      : cap > policy.maxExposure
      ? fail("TierCapExceeded", this.tier, cap, policy.maxExposure)
      : undefined;
    const send = () => r.l.asOperator.openAccount(id, this.tier, cap, ref, 0);
    const events = await submit(r, expected, send, this.toString());
    if (events === undefined) return;
    only(events, "AccountOpened");
    const a: AccountM = {
      id,
      tier: this.tier,
      exposureCap: cap,
      used: 0n,
      seq: 0n,
      decisionNonce: 0n,
      lines: { [PAY_LATER_ID]: emptyLine(), [CASH_LOAN_ID]: emptyLine() },
      loans: [],
      capLoweredSinceDraw: false,
    };
    m.accounts.push(a);
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: true, opensAccount: true, send });
  }
  toString(): string {
    return `openAccount(tier ${this.tier}, cap ${this.capPpm} ppm of max)`;
  }
}

class SetExposureCap extends AccountCmd {
  constructor(accountIndex: number, readonly capPpm: bigint) {
    super(accountIndex);
  }
  async apply(m: Model, r: Real): Promise<void> {
    const a = this.account(m);
    const max = tierOf(a.tier).maxExposure;
    const cap = (max * this.capPpm) / PPM;
    const ref = newRef();
    const expectedSeq = a.seq;
    await nextBlockTime(r);
    // Raising the cap is new credit capacity (refused while paused); lowering it is not.
    const expected =
      m.paused && cap > a.exposureCap
        ? fail("EnforcedPause")
        : cap > max
        ? fail("TierCapExceeded", a.tier, cap, max)
        : undefined;
    const send = () => r.l.asOperator.setExposureCap(a.id, cap, ref, expectedSeq);
    const events = await submit(r, expected, send, this.toString());
    if (events === undefined) return;
    const ev = only(events, "ExposureCapChanged");
    expect([ev.args.previousCap, ev.args.newCap]).to.deep.equal([a.exposureCap, cap]);
    if (cap < a.exposureCap) a.capLoweredSinceDraw = true;
    a.exposureCap = cap;
    // The seq is checked before the pause, so a retry fails on its seq even while paused.
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: false, opensAccount: false, send });
  }
  toString(): string {
    return `setExposureCap(#${this.accountIndex}, ${this.capPpm} ppm of tier max)`;
  }
}

/** Shared by the decision commands: sign a decision for the account's next nonce. */
async function signedDecision(r: Real, a: AccountM, overrides: Parameters<typeof makeDecision>[2]) {
  const d = await makeDecision(r.l, a.id, overrides);
  expect(d.nonce, "decision nonce on chain = model").to.equal(a.decisionNonce);
  return { d, signature: await sign(r.l, d) };
}

/** The checks `_useDecision` makes on an approval, in its order (signature and nonce are valid here). */
function approvalError(d: { tier: number; limit: bigint; ratePpmPerDay: bigint }): Expected {
  const policy = tierOf(d.tier);
  if (policy.maxLineLimit === 0n) return fail("UnknownTier", d.tier);
  if (d.limit === 0n) return fail("InvalidAmount", 0);
  if (d.limit > policy.maxLineLimit) return fail("TierCapExceeded", d.tier, d.limit, policy.maxLineLimit);
  if (d.ratePpmPerDay > MAX_RATE_PPM_PER_DAY) return fail("RateAboveMaximum", d.ratePpmPerDay, MAX_RATE_PPM_PER_DAY);
  return undefined;
}

/** A decision changed the account's tier: caps may have dropped under the usage. */
function applyTier(a: AccountM, tier: number): void {
  if (tier === a.tier) return;
  const before = tierOf(a.tier);
  const after = tierOf(tier);
  if (after.maxExposure < before.maxExposure) a.capLoweredSinceDraw = true;
  if (after.maxLineLimit < before.maxLineLimit) for (const p of PRODUCTS) a.lines[p].loweredSinceDraw = true;
  a.tier = tier;
}

class RecordDecline extends AccountCmd {
  constructor(accountIndex: number, readonly productIndex: number) {
    super(accountIndex);
  }
  async apply(m: Model, r: Real): Promise<void> {
    const a = this.account(m);
    const productId = pick(PRODUCTS, this.productIndex);
    const { d, signature } = await signedDecision(r, a, {
      productId,
      approved: false,
      limit: 0n,
      reasonCodes: [11, 22, 0, 0],
    });
    const ref = newRef();
    const expectedSeq = a.seq;
    await nextBlockTime(r);
    // Declines are facts: recorded even while paused.
    const send = () => r.l.asOperator.recordDecline(d, r.l.scorer.address, signature, ref, expectedSeq);
    only(await submit(r, undefined, send, this.toString()), "DecisionDeclined");
    a.decisionNonce += 1n;
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: false, opensAccount: false, send });
  }
  toString(): string {
    return `recordDecline(#${this.accountIndex}, product ${pick(PRODUCTS, this.productIndex)})`;
  }
}

class GrantLine extends AccountCmd {
  constructor(
    accountIndex: number,
    readonly productIndex: number,
    readonly tier: number,
    readonly limitPpm: bigint,
    readonly ratePpmPerDay: bigint
  ) {
    super(accountIndex);
  }
  async apply(m: Model, r: Real): Promise<void> {
    const a = this.account(m);
    const productId = pick(PRODUCTS, this.productIndex);
    const limit = (tierOf(this.tier).maxLineLimit * this.limitPpm) / PPM;
    const rate = productId === CASH_LOAN_ID ? this.ratePpmPerDay : 0n;
    const { d, signature } = await signedDecision(r, a, { productId, tier: this.tier, limit, ratePpmPerDay: rate });
    const ref = newRef();
    const expectedSeq = a.seq;
    await nextBlockTime(r);
    const line = a.lines[productId];
    const expected = m.paused
      ? fail("EnforcedPause")
      : approvalError(d) ?? (line.granted ? fail("LineExists", a.id, productId) : undefined);
    const send = () => r.l.asOperator.grantLine(d, r.l.scorer.address, signature, ref, expectedSeq);
    const events = await submit(r, expected, send, this.toString());
    if (events === undefined) return;
    only(events, "LineGranted");
    a.decisionNonce += 1n;
    applyTier(a, this.tier);
    Object.assign(line, { granted: true, limit, ratePpmPerDay: rate, decidedLimit: limit });
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: true, opensAccount: false, send });
  }
  toString(): string {
    return `grantLine(#${this.accountIndex}, product ${pick(PRODUCTS, this.productIndex)}, tier ${this.tier}, limit ${
      this.limitPpm
    } ppm of tier max, rate ${this.ratePpmPerDay})`;
  }
}

class IncreaseLimit extends AccountCmd {
  constructor(
    accountIndex: number,
    readonly productIndex: number,
    readonly tierDelta: number,
    readonly limitPpm: bigint,
    readonly temporaryDays: number,
    readonly ratePpmPerDay: bigint
  ) {
    super(accountIndex);
  }
  async apply(m: Model, r: Real): Promise<void> {
    const a = this.account(m);
    const productId = pick(PRODUCTS, this.productIndex);
    const line = a.lines[productId];
    const tier = Math.min(2, Math.max(0, a.tier + this.tierDelta));
    const limit = (tierOf(tier).maxLineLimit * this.limitPpm) / PPM;
    const rate = productId === CASH_LOAN_ID ? this.ratePpmPerDay : 0n;
    const T0 = BigInt(await time.latest()) + 1n;
    // temporaryDays < 0: permanent; 0: an expiry that is already over (must be refused).
    const limitExpiry = this.temporaryDays < 0 ? 0n : T0 + BigInt(this.temporaryDays) * 86_400n;
    const { d, signature } = await signedDecision(r, a, { productId, tier, limit, limitExpiry, ratePpmPerDay: rate });
    const ref = newRef();
    const expectedSeq = a.seq;
    const T = await nextBlockTime(r);
    const current = effectiveLimit(line, T);
    const expected = m.paused
      ? fail("EnforcedPause")
      : approvalError(d) ??
        (!line.granted
          ? fail("NoLine", a.id, productId)
          : limit <= current
          ? fail("LimitNotIncreased", current, limit)
          : limitExpiry !== 0n && limitExpiry <= T
          ? fail("InvalidExpiry", limitExpiry)
          : undefined);
    const send = () => r.l.asOperator.increaseLimit(d, r.l.scorer.address, signature, ref, expectedSeq);
    const events = await submit(r, expected, send, this.toString());
    if (events === undefined) return;
    const ev = only(events, "LimitIncreased");
    expect([ev.args.previousLimit, ev.args.previousTempLimit, ev.args.previousTempExpiry]).to.deep.equal([
      line.limit,
      line.tempLimit,
      line.tempExpiry,
    ]);
    a.decisionNonce += 1n;
    applyTier(a, tier);
    if (limitExpiry === 0n) {
      line.limit = limit;
      line.decidedLimit = limit;
    } else {
      // A raise that expired after the line's last draw lowered its limit since that draw; the
      // new raise overwrites the expiry the invariant check would have seen, so remember it.
      if (line.drawTime !== undefined && line.drawTime < line.tempExpiry && line.tempExpiry <= T)
        line.loweredSinceDraw = true;
      line.tempLimit = limit;
      line.tempExpiry = limitExpiry;
    }
    line.ratePpmPerDay = rate;
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: true, opensAccount: false, send });
  }
  toString(): string {
    const kind = this.temporaryDays < 0 ? "permanent" : `temporary ${this.temporaryDays} days`;
    return `increaseLimit(#${this.accountIndex}, product ${pick(PRODUCTS, this.productIndex)}, tier ${
      this.tierDelta >= 0 ? "+" : ""
    }${this.tierDelta}, limit ${this.limitPpm} ppm of tier max, ${kind}, rate ${this.ratePpmPerDay})`;
  }
}

class CutLimit extends AccountCmd {
  constructor(accountIndex: number, readonly productIndex: number, readonly ppm: bigint) {
    super(accountIndex);
  }
  async apply(m: Model, r: Real): Promise<void> {
    const a = this.account(m);
    const productId = pick(PRODUCTS, this.productIndex);
    const line = a.lines[productId];
    const ref = newRef();
    const expectedSeq = a.seq;
    const T = await nextBlockTime(r);
    const previous = effectiveLimit(line, T);
    const newLimit = (previous * this.ppm) / PPM;
    // Cuts are risk controls: accepted while paused.
    const expected = !line.granted
      ? fail("NoLine", a.id, productId)
      : newLimit >= previous
      ? fail("LimitNotCut", previous, newLimit)
      : undefined;
    const send = () => r.l.asOperator.cutLimit(a.id, productId, newLimit, 7, ref, expectedSeq);
    const events = await submit(r, expected, send, this.toString());
    if (events === undefined) return;
    const ev = only(events, "LimitCut");
    expect([ev.args.previousLimit, ev.args.newLimit]).to.deep.equal([previous, newLimit]);
    // The limit in force drops to newLimit; a temporary raise in force keeps its expiry, and the
    // permanent limit only ever goes down (ICreditLedger.LimitCut).
    const temporaryInForce = previous !== line.limit;
    line.limit = min(line.limit, newLimit);
    if (temporaryInForce) {
      line.tempLimit = newLimit;
    } else {
      line.tempLimit = 0n;
      line.tempExpiry = 0n;
    }
    line.loweredSinceDraw = true;
    line.decidedLimit = min(line.decidedLimit, newLimit);
    a.decisionNonce += 1n; // a cut invalidates outstanding decisions
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: false, opensAccount: false, send });
  }
  toString(): string {
    return `cutLimit(#${this.accountIndex}, product ${pick(PRODUCTS, this.productIndex)}, to ${
      this.ppm
    } ppm of the limit in force)`;
  }
}

class SetFrozen extends AccountCmd {
  constructor(accountIndex: number, readonly productIndex: number, readonly frozen: boolean, readonly reason: number) {
    super(accountIndex);
  }
  async apply(m: Model, r: Real): Promise<void> {
    const a = this.account(m);
    const productId = pick(PRODUCTS, this.productIndex);
    const line = a.lines[productId];
    const ref = newRef();
    const expectedSeq = a.seq;
    await nextBlockTime(r);
    const expected =
      !this.frozen && m.paused
        ? fail("EnforcedPause")
        : !line.granted
        ? fail("NoLine", a.id, productId)
        : line.frozen === this.frozen
        ? fail("FreezeStateUnchanged", a.id, productId, this.frozen)
        : !this.frozen && line.freezeReason === 0xffff
        ? fail("DecisionRequired", a.id, productId, 0xffff) // a write-off's freeze needs reinstateLine
        : undefined;
    const ledger = r.l.asOperator;
    const send = this.frozen
      ? () => ledger.freezeLine(a.id, productId, this.reason, ref, expectedSeq)
      : () => ledger.unfreezeLine(a.id, productId, this.reason, ref, expectedSeq);
    const events = await submit(r, expected, send, this.toString());
    if (events === undefined) return;
    only(events, this.frozen ? "LineFrozen" : "LineUnfrozen");
    line.frozen = this.frozen;
    line.freezeReason = this.reason;
    if (this.frozen) a.decisionNonce += 1n; // a freeze invalidates outstanding decisions
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: !this.frozen, opensAccount: false, send });
  }
  toString(): string {
    return `${this.frozen ? "freeze" : "unfreeze"}Line(#${this.accountIndex}, product ${pick(
      PRODUCTS,
      this.productIndex
    )}, reason ${this.reason})`;
  }
}

/** How a drawdown's amount is chosen: a share of what the line leaves available, or a fixed amount. */
type AmountPick = { ppm: bigint } | { fixed: bigint };

/** A purchase or a cash draw: the checks and effects `_draw` shares. */
abstract class Draw extends AccountCmd {
  constructor(accountIndex: number, readonly amountPick: AmountPick, readonly periods: number) {
    super(accountIndex);
  }
  abstract readonly productId: number;
  abstract terms(m: Model, line: LineM, amount: bigint, T: bigint): LoanTerms;
  /** Errors checked before `_draw` (product kind, periods, method), in the contract's order. */
  abstract preError(m: Model): Expected;
  abstract sendDraw(
    r: Real,
    a: AccountM,
    amount: bigint,
    ref: string,
    expectedSeq: bigint
  ): Promise<ContractTransactionResponse>;

  async apply(m: Model, r: Real): Promise<void> {
    const a = this.account(m);
    const productId = this.productId;
    const line = a.lines[productId];
    const ref = newRef();
    const expectedSeq = a.seq;
    const T = await nextBlockTime(r);
    const policy = tierOf(a.tier);
    const lineLimit = min(effectiveLimit(line, T), policy.maxLineLimit);
    const lineAvailable = lineLimit > line.used ? lineLimit - line.used : 0n;
    const cap = min(a.exposureCap, policy.maxExposure);
    const capAvailable = cap > a.used ? cap - a.used : 0n;
    const amount =
      "fixed" in this.amountPick
        ? this.amountPick.fixed
        : (min(lineAvailable, capAvailable) * this.amountPick.ppm) / PPM;
    const terms = this.terms(m, line, amount, T);
    const ceiling = m.products[productId].costCeilingPpmPerYear;
    const expected =
      (m.paused ? fail("EnforcedPause") : undefined) ??
      this.preError(m) ??
      (amount === 0n
        ? fail("InvalidAmount", 0)
        : !line.granted
        ? fail("NoLine", a.id, productId)
        : line.frozen
        ? fail("LineIsFrozen", a.id, productId, line.freezeReason)
        : amount > lineAvailable
        ? fail("LimitExceeded", a.id, productId, amount, lineAvailable)
        : amount > capAvailable
        ? fail("ExposureCapExceeded", a.id, amount, capAvailable)
        : !withinCostCeiling(terms, ceiling)
        ? fail("CostCeilingExceeded", productId, presentValueUp(terms, ceiling), amount, ceiling)
        : undefined);
    const send = () => this.sendDraw(r, a, amount, ref, expectedSeq);
    const events = await submit(r, expected, send, `${this} amount ${amount}`);
    if (events === undefined) return;
    const ev = only(events, "Drawn");
    const loanNo = BigInt(a.loans.length + 1);
    expect(ev.args.loanNo).to.equal(loanNo);
    expect(differences(termsFrom(ev.args.terms), terms), "Drawn.terms: contract != model").to.deep.equal([]);
    a.loans.push({
      loanNo,
      productId,
      terms,
      state: {
        principalSettled: 0n,
        feeSettled: 0n,
        interestOwed: 0n,
        penaltyOwed: 0n,
        checkpointDay: 0n,
        status: LoanStatus.Active,
        principalRefunded: 0n,
        restructures: 0n,
        holidayDaysGranted: 0n,
      },
    });
    line.used += amount;
    a.used += amount;
    line.limitAtDraw = lineLimit;
    line.drawTime = T;
    line.loweredSinceDraw = false;
    a.capAtDraw = cap;
    a.capLoweredSinceDraw = false;
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: true, opensAccount: false, send });
  }
}

class Purchase extends Draw {
  readonly productId = PAY_LATER_ID;
  preError(m: Model): Expected {
    const allowed = (m.products[PAY_LATER_ID].allowedPeriods >> BigInt(this.periods)) & 1n;
    if ((this.periods !== 1 && (this.periods % 3 !== 0 || this.periods > 12)) || allowed === 0n) {
      return fail("PeriodsNotAllowed", PAY_LATER_ID, this.periods);
    }
    return undefined;
  }
  terms(m: Model, _line: LineM, amount: bigint, T: bigint): LoanTerms {
    const p = m.products[PAY_LATER_ID];
    const installments = [3, 6, 9, 12].includes(this.periods);
    return {
      principal: amount,
      startTime: T,
      periods: this.periods,
      method: this.periods === 1 ? RepaymentMethod.Bullet : RepaymentMethod.EqualPrincipal,
      productId: PAY_LATER_ID,
      ratePpmPerDay: 0n,
      totalFee: installments ? installmentFee(amount, p.installmentFeePpm[this.periods / 3 - 1]) : 0n,
      firstDueDay: p.graceDays,
      penaltyPpmPerDay: p.penaltyPpmPerDay,
      writeOffDays: p.writeOffDays,
    };
  }
  sendDraw(r: Real, a: AccountM, amount: bigint, ref: string, expectedSeq: bigint) {
    return r.l.asOperator.purchase(a.id, PAY_LATER_ID, amount, this.periods, ref, expectedSeq);
  }
  toString(): string {
    return `purchase(#${this.accountIndex}, ${show(this.amountPick)}, ${this.periods} periods)`;
  }
}

class DrawCash extends Draw {
  readonly productId = CASH_LOAN_ID;
  constructor(accountIndex: number, amountPick: AmountPick, periods: number, readonly method: RepaymentMethod) {
    super(accountIndex, amountPick, periods);
  }
  preError(m: Model): Expected {
    if (this.method === RepaymentMethod.Bullet) return fail("InvalidMethod", this.method);
    const allowed = (m.products[CASH_LOAN_ID].allowedPeriods >> BigInt(this.periods)) & 1n;
    if (this.periods < 3 || this.periods > 12 || allowed === 0n)
      return fail("PeriodsNotAllowed", CASH_LOAN_ID, this.periods);
    return undefined;
  }
  terms(m: Model, line: LineM, amount: bigint, T: bigint): LoanTerms {
    return {
      principal: amount,
      startTime: T,
      periods: this.periods,
      method: this.method,
      productId: CASH_LOAN_ID,
      ratePpmPerDay: line.ratePpmPerDay,
      totalFee: 0n,
      firstDueDay: 30n,
      penaltyPpmPerDay: m.products[CASH_LOAN_ID].penaltyPpmPerDay,
      writeOffDays: m.products[CASH_LOAN_ID].writeOffDays,
    };
  }
  sendDraw(r: Real, a: AccountM, amount: bigint, ref: string, expectedSeq: bigint) {
    return r.l.asOperator.drawCash(a.id, CASH_LOAN_ID, amount, this.periods, this.method, ref, expectedSeq);
  }
  toString(): string {
    return `drawCash(#${this.accountIndex}, ${show(this.amountPick)}, ${this.periods} periods, method ${this.method})`;
  }
}

type RepayPick = "payoff" | "amountDue" | "one" | bigint;

/** A command on one of the account's loans (by index); the account must have one. */
abstract class LoanCmd extends AccountCmd {
  constructor(accountIndex: number, readonly loanIndex: number) {
    super(accountIndex);
  }
  check(m: Readonly<Model>): boolean {
    return m.accounts.some((a) => a.loans.length > 0);
  }
  /** The chosen account if it has loans, else the next one that has. */
  loanAccount(m: Model): { a: AccountM; loan: LoanM } {
    for (let i = 0; i < m.accounts.length; i++) {
      const a = pick(m.accounts, this.accountIndex + i);
      if (a.loans.length > 0) return { a, loan: pick(a.loans, this.loanIndex) };
    }
    throw new Error("no loan (check() should have prevented this)");
  }
}

class Repay extends LoanCmd {
  constructor(accountIndex: number, loanIndex: number, readonly amountPick: RepayPick) {
    super(accountIndex, loanIndex);
  }
  async apply(m: Model, r: Real): Promise<void> {
    const { a, loan } = this.loanAccount(m);
    const ref = newRef();
    const expectedSeq = a.seq;
    const T = await nextBlockTime(r);
    const day = dayOf(loan.terms, T);
    const p = position(loan.terms, loan.state, day);
    const ap = this.amountPick;
    const amount =
      ap === "payoff" ? p.payoff : ap === "amountDue" ? p.amountDue : ap === "one" ? 1n : (p.payoff * ap) / PPM || 1n;
    // Repayments are accepted while paused and on frozen lines.
    const expected =
      amount === 0n
        ? fail("InvalidAmount", 0)
        : loan.state.status === LoanStatus.Closed
        ? fail("LoanNotActive", a.id, loan.loanNo, LoanStatus.Closed)
        : amount > p.payoff
        ? fail("RepaymentExceedsPayoff", a.id, loan.loanNo, amount, p.payoff)
        : undefined;
    const send = () => r.l.asOperator.repay(a.id, loan.loanNo, amount, ref, expectedSeq);
    const events = await submit(r, expected, send, `${this} amount ${amount}`);
    if (events === undefined) return;
    const ev = only(events, "Repaid");
    const mirror = applyRepayment(loan.terms, loan.state, day, amount);
    const allocation = allocationFrom(ev.args.allocation);
    const total = Object.values(allocation).reduce((x, y) => x + y, 0n);
    expect(total, "allocation buckets sum to the amount paid").to.equal(amount);
    expect(ev.args.amount).to.equal(amount);
    expect(
      differences(
        {
          allocation,
          interestAccrued: ev.args.interestAccrued,
          penaltyAccrued: ev.args.penaltyAccrued,
          status: ev.args.status,
        },
        {
          allocation: mirror.allocation,
          interestAccrued: mirror.interestAccrued,
          penaltyAccrued: mirror.penaltyAccrued,
          status: mirror.state.status,
        }
      ),
      `Repaid: contract != mirror on ${show(loan)} at day ${day}`
    ).to.deep.equal([]);
    const principal = allocation.overduePrincipal + allocation.currentPrincipal + allocation.prepaidPrincipal;
    if (loan.state.status === LoanStatus.Active) {
      a.used -= principal;
      a.lines[loan.productId].used -= principal;
    }
    loan.state = mirror.state;
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: false, opensAccount: false, send });
  }
  toString(): string {
    return `repay(#${this.accountIndex}, loan #${this.loanIndex}, ${
      typeof this.amountPick === "bigint" ? `${this.amountPick} ppm of payoff` : this.amountPick
    })`;
  }
}

class Refund extends LoanCmd {
  constructor(accountIndex: number, loanIndex: number, readonly ppm: bigint) {
    super(accountIndex, loanIndex);
  }
  async apply(m: Model, r: Real): Promise<void> {
    const { a, loan } = this.loanAccount(m);
    const ref = newRef();
    const expectedSeq = a.seq;
    const T = await nextBlockTime(r);
    const day = dayOf(loan.terms, T);
    const outstanding = loan.terms.principal - loan.state.principalSettled;
    const amount = (outstanding * this.ppm) / PPM || (outstanding > 0n ? 1n : 0n);
    // Refunds are accepted while paused.
    const expected =
      loan.state.status !== LoanStatus.Active
        ? fail("LoanNotActive", a.id, loan.loanNo, loan.state.status)
        : loan.productId !== PAY_LATER_ID
        ? fail("NotAPurchase", a.id, loan.loanNo)
        : amount === 0n
        ? fail("InvalidAmount", 0)
        : amount > outstanding
        ? fail("RefundExceedsOutstanding", a.id, loan.loanNo, amount, outstanding)
        : undefined;
    const send = () => r.l.asOperator.refund(a.id, loan.loanNo, amount, ref, expectedSeq);
    const events = await submit(r, expected, send, `${this} amount ${amount}`);
    if (events === undefined) return;
    const ev = only(events, "Refunded");
    const mirror = applyRefund(loan.terms, loan.state, day, amount);
    expect([ev.args.amount, ev.args.feeWaived, ev.args.day]).to.deep.equal([amount, mirror.feeWaived, day]);
    a.used -= amount;
    a.lines[loan.productId].used -= amount;
    loan.state = mirror.state;
    recordApplied(m, r, a, { ref, what: this.toString(), pausable: false, opensAccount: false, send });
  }
  toString(): string {
    return `refund(#${this.accountIndex}, loan #${this.loanIndex}, ${this.ppm} ppm of outstanding)`;
  }
}

class AdvanceTime extends Cmd {
  constructor(readonly seconds: number) {
    super();
  }
  async apply(_m: Model, r: Real): Promise<void> {
    r.now = BigInt(await time.increase(this.seconds));
  }
  toString(): string {
    return `advance(${(this.seconds / 86_400).toFixed(2)} days)`;
  }
}

class SetPaused extends Cmd {
  constructor(readonly paused: boolean) {
    super();
  }
  async apply(m: Model, r: Real): Promise<void> {
    await nextBlockTime(r);
    const ledger = r.l.ledger.connect(r.l.pauser);
    const expected = this.paused === m.paused ? fail(this.paused ? "EnforcedPause" : "ExpectedPause") : undefined;
    const events = await submit(r, expected, () => (this.paused ? ledger.pause() : ledger.unpause()), this.toString());
    if (events === undefined) return;
    m.paused = this.paused;
  }
  toString(): string {
    return this.paused ? "pause()" : "unpause()";
  }
}

/** Send an applied call again, byte for byte (same ref, same expected seq): it must not post. */
class Retry extends Cmd {
  constructor(readonly index: number) {
    super();
  }
  check(m: Readonly<Model>): boolean {
    return m.applied > 0;
  }
  async apply(m: Model, r: Real): Promise<void> {
    const call = pick(r.applied, this.index);
    const a = m.accounts.find((x) => x.id === call.account)!;
    await nextBlockTime(r);
    // The pause check comes first where the call has one; an account can only be opened once.
    // Every other retry must fail on its stale seq.
    const expected =
      call.pausable && m.paused
        ? fail("EnforcedPause")
        : call.opensAccount
        ? fail("AccountExists", call.account)
        : fail("SeqMismatch", call.account, call.expectedSeq, a.seq);
    await submit(r, expected, call.send, `retry of ${call.what}`);
  }
  toString(): string {
    return `retry(applied call #${this.index})`;
  }
}

// ================================================================== invariants

async function checkInvariants(m: Model, r: Real, after: string): Promise<void> {
  const { ledger } = r.l;
  const now = BigInt(await time.latest());
  const at = `after ${after}`;

  // One read of the ledger's logs: entries grouped by account (topic 1 of every entry event).
  const logs = await ethers.provider.getLogs({ address: await ledger.getAddress(), fromBlock: 0 });
  const entriesByAccount = new Map<string, ChainEntry[]>();
  const refsSeen = new Map<string, string>();
  for (const log of logs) {
    const ev = ledger.interface.parseLog(log);
    if (ev === null) continue;
    const kind = entryKindOf(ev.name);
    if (kind === undefined) continue;
    const account = String(ev.args.account ?? ev.args.decision?.account).toLowerCase();
    const ref = String(ev.args.ref);
    const where = `${ev.name} seq ${ev.args.seq} of ${account}`;
    expect(refsSeen.get(ref), `ref ${ref} of ${where} already in ${refsSeen.get(ref)} ${at}`).to.equal(undefined);
    refsSeen.set(ref, where);
    const list = entriesByAccount.get(account) ?? [];
    list.push({ seq: ev.args.seq, kind, payloadHash: payloadHashOf(ev.fragment, ev.args), head: ev.args.head });
    entriesByAccount.set(account, list);
  }
  const appliedRefs = r.applied.map((c) => c.ref).sort();
  expect([...refsSeen.keys()].sort(), `the refs on chain are exactly the applied calls' ${at}`).to.deep.equal(
    appliedRefs
  );

  for (const a of m.accounts) {
    const [acct, ...lines] = await Promise.all([
      ledger.accountOf(a.id),
      ...PRODUCTS.map((p) => ledger.lineOf(a.id, p)),
    ]);
    const loans = await Promise.all(a.loans.map((loan) => ledger.loanOf(a.id, loan.loanNo)));
    const who = `account ${a.id} ${at}`;

    // The hash chain from the events ends at the on-chain seq and head.
    const check = verifyChain(entriesByAccount.get(a.id.toLowerCase()) ?? [], { seq: acct.seq, head: acct.head });
    expect(check, `hash chain of ${who}`).to.deep.include({ ok: true });

    // Chain state equals the model.
    expect(
      differences(
        {
          tier: acct.tier,
          exposureCap: acct.exposureCap,
          used: acct.used,
          seq: acct.seq,
          decisionNonce: acct.decisionNonce,
          loanCount: acct.loanCount,
        },
        {
          tier: a.tier,
          exposureCap: a.exposureCap,
          used: a.used,
          seq: a.seq,
          decisionNonce: a.decisionNonce,
          loanCount: a.loans.length,
        }
      ),
      `accountOf: chain != model, ${who}`
    ).to.deep.equal([]);
    PRODUCTS.forEach((p, i) => {
      const l = a.lines[p];
      expect(
        differences(
          {
            limit: lines[i].limit,
            used: lines[i].used,
            tempLimit: lines[i].tempLimit,
            tempExpiry: lines[i].tempExpiry,
            granted: lines[i].granted,
            frozen: lines[i].frozen,
            ratePpmPerDay: lines[i].ratePpmPerDay,
            freezeReason: lines[i].freezeReason,
          },
          {
            limit: l.limit,
            used: l.used,
            tempLimit: l.tempLimit,
            tempExpiry: l.tempExpiry,
            granted: l.granted,
            frozen: l.frozen,
            ratePpmPerDay: l.ratePpmPerDay,
            freezeReason: l.freezeReason,
          }
        ),
        `lineOf(${p}): chain != model, ${who}`
      ).to.deep.equal([]);
    });
    a.loans.forEach((loan, i) => {
      const [terms, state] = loans[i];
      expect(
        differences({ terms: termsFrom(terms), state: stateFrom(state) }, { terms: loan.terms, state: loan.state }),
        `loanOf(${loan.loanNo}): chain != mirror, ${who}`
      ).to.deep.equal([]);
    });

    // Usage: account = sum of lines = outstanding principal of active loans.
    const linesUsed = lines.reduce((s, l) => s + l.used, 0n);
    const outstanding = a.loans
      .filter((loan) => loan.state.status === LoanStatus.Active)
      .reduce((s, loan) => s + loan.terms.principal - loan.state.principalSettled, 0n);
    expect(acct.used, `account used = sum of its lines' used, ${who}`).to.equal(linesUsed);
    expect(acct.used, `account used = outstanding principal of its active loans, ${who}`).to.equal(outstanding);

    // Limits: never above what was in force at the last drawdown.
    const policy = tierOf(a.tier);
    if (a.capAtDraw !== undefined) {
      expect(acct.used <= a.capAtDraw, `account used ${acct.used} <= cap at draw ${a.capAtDraw}, ${who}`).to.equal(
        true
      );
      if (!a.capLoweredSinceDraw) {
        const cap = min(a.exposureCap, policy.maxExposure);
        expect(acct.used <= cap, `account used ${acct.used} <= exposure cap ${cap}, ${who}`).to.equal(true);
      }
    }
    PRODUCTS.forEach((p, i) => {
      const l = a.lines[p];
      const used = lines[i].used;
      if (l.limitAtDraw !== undefined) {
        expect(used <= l.limitAtDraw, `line ${p} used ${used} <= limit at draw ${l.limitAtDraw}, ${who}`).to.equal(
          true
        );
        const tempExpiredSinceDraw = l.drawTime! < l.tempExpiry && l.tempExpiry <= now;
        if (!l.loweredSinceDraw && !tempExpiredSinceDraw) {
          const limit = min(effectiveLimit(l, now), policy.maxLineLimit);
          expect(used <= limit, `line ${p} used ${used} <= effective limit ${limit}, ${who}`).to.equal(true);
        }
      }
      // Only a signed decision raises a permanent limit.
      expect(
        lines[i].limit <= l.decidedLimit,
        `line ${p} permanent limit ${lines[i].limit} <= the limit decisions and cuts left (${l.decidedLimit}), ${who}`
      ).to.equal(true);
    });
  }
}

// ================================================================== generators

const ppm = (max = 1_000_000n) => fc.bigInt({ min: 0n, max });
const acctIx = fc.nat({ max: 8 });
const prodIx = fc.nat({ max: 1 });
const cashRate = fc.oneof(fc.bigInt({ min: 0n, max: 657n }), fc.bigInt({ min: 640n, max: 700n }), fc.constant(10_001n));
const amountPick: fc.Arbitrary<AmountPick> = fc.oneof(
  { weight: 4, arbitrary: ppm(1_100_000n).map((p) => ({ ppm: p })) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 3_000_000n }).map((f) => ({ fixed: f })) }
);

/** Each operation with its weight: enough opens and grants early for the rest to have subjects. */
const weighted: Array<[number, fc.Arbitrary<Cmd>]> = [
  [
    1,
    fc
      .record({
        tier: fc.oneof(
          { weight: 6, arbitrary: fc.integer({ min: 0, max: 2 }) },
          { weight: 1, arbitrary: fc.constant(3) }
        ),
        cap: ppm(1_050_000n),
      })
      .map(({ tier, cap }) => new OpenAccount(tier, cap)),
  ],
  [1, fc.record({ a: acctIx, cap: ppm(1_050_000n) }).map(({ a, cap }) => new SetExposureCap(a, cap))],
  [1, fc.record({ a: acctIx, p: prodIx }).map(({ a, p }) => new RecordDecline(a, p))],
  [
    3,
    fc
      .record({ a: acctIx, p: prodIx, tier: fc.integer({ min: 0, max: 2 }), limit: ppm(1_050_000n), rate: cashRate })
      .map(({ a, p, tier, limit, rate }) => new GrantLine(a, p, tier, limit, rate)),
  ],
  [
    2,
    fc
      .record({
        a: acctIx,
        p: prodIx,
        tierDelta: fc.integer({ min: -1, max: 1 }),
        limit: ppm(1_050_000n),
        days: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 60 })),
        rate: cashRate,
      })
      .map(({ a, p, tierDelta, limit, days, rate }) => new IncreaseLimit(a, p, tierDelta, limit, days, rate)),
  ],
  [1, fc.record({ a: acctIx, p: prodIx, cut: ppm(1_050_000n) }).map(({ a, p, cut }) => new CutLimit(a, p, cut))],
  [
    1,
    fc
      .record({ a: acctIx, p: prodIx, frozen: fc.boolean(), reason: fc.integer({ min: 0, max: 0xffff }) })
      .map(({ a, p, frozen, reason }) => new SetFrozen(a, p, frozen, reason)),
  ],
  [
    3,
    fc
      .record({
        a: acctIx,
        amount: amountPick,
        periods: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom(1, 3, 6, 9, 12) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 13 }) }
        ),
      })
      .map(({ a, amount, periods }) => new Purchase(a, amount, periods)),
  ],
  [
    3,
    fc
      .record({
        a: acctIx,
        amount: amountPick,
        periods: fc.oneof(
          { weight: 5, arbitrary: fc.integer({ min: 3, max: 12 }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 14 }) }
        ),
        method: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom(RepaymentMethod.EqualPrincipal, RepaymentMethod.Annuity) },
          { weight: 1, arbitrary: fc.constant(RepaymentMethod.Bullet) }
        ),
      })
      .map(({ a, amount, periods, method }) => new DrawCash(a, amount, periods, method)),
  ],
  [
    4,
    fc
      .record({
        a: acctIx,
        loan: fc.nat({ max: 20 }),
        amount: fc.oneof(
          fc.constantFrom<RepayPick>("payoff", "amountDue", "one"),
          ppm().map((x): RepayPick => x)
        ),
      })
      .map(({ a, loan, amount }) => new Repay(a, loan, amount)),
  ],
  [
    1,
    fc
      .record({ a: acctIx, loan: fc.nat({ max: 20 }), share: ppm(1_050_000n) })
      .map(({ a, loan, share }) => new Refund(a, loan, share)),
  ],
  [2, fc.integer({ min: 1, max: 60 * 86_400 }).map((s) => new AdvanceTime(s))],
  [
    3,
    fc
      .oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 3, arbitrary: fc.constant(false) })
      .map((p) => new SetPaused(p)),
  ],
  [2, fc.nat({ max: 1_000 }).map((i) => new Retry(i))],
];
const commandArbs = weighted.flatMap(([weight, arb]) => Array.from({ length: weight }, () => arb));

// ================================================================== the property

async function initial(outcomes: Map<string, number>): Promise<{ model: Model; real: Real }> {
  const l = await loadFixture(deployLedger);
  const products: Record<number, ProductM> = {};
  for (const id of PRODUCTS) {
    const p = await l.ledger.productOf(id);
    products[id] = {
      kind: Number(p.kind),
      graceDays: BigInt(p.graceDays),
      allowedPeriods: BigInt(p.allowedPeriods),
      penaltyPpmPerDay: BigInt(p.penaltyPpmPerDay),
      writeOffDays: BigInt(p.writeOffDays),
      costCeilingPpmPerYear: BigInt(p.costCeilingPpmPerYear),
      installmentFeePpm: p.installmentFeePpm.map((x) => BigInt(x)),
    };
  }
  const model: Model = { accounts: [], paused: await l.ledger.paused(), applied: 0, products };
  const real: Real = { l, applied: [], now: BigInt(await time.latest()), outcomes };
  // Every sequence starts from one account with both lines (tier 1), through the same
  // commands and checks as the rest, so the random operations have something to act on.
  const prelude = [
    new OpenAccount(1, 500_000n),
    new GrantLine(0, 0, 1, 200_000n, 0n),
    new GrantLine(0, 1, 1, 200_000n, 500n),
  ];
  for (const cmd of prelude) await cmd.run(model, real);
  return { model, real };
}

/** The auditor's verifier, reading the same chain, finds every check holding after the sequence. */
async function expectAuditPasses(r: Real): Promise<void> {
  const history = await readLedger(ethers.provider, { ledger: await r.l.ledger.getAddress(), artifacts: RUNTIME_ARTIFACTS });
  const report = verifyHistory(history);
  if (!report.ok) throw new Error(`the verifier found violations in an honest history:\n${reportText(report)}`);
}

describe("CreditLedger: random operation sequences keep the ledger's invariants", function () {
  this.timeout(fuzzTimeout(600_000));

  it(`keeps limits, usage, allocation, hash chain and idempotency invariants (${SEQUENCES} sequences of up to ${MAX_COMMANDS} operations)`, async function () {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.commands(commandArbs, { maxCommands: MAX_COMMANDS, size: "max" }), async (cmds) => {
        let setup: { model: Model; real: Real } | undefined;
        await fc.asyncModelRun(async () => (setup = await initial(outcomes)), cmds);
        await expectAuditPasses(setup!.real);
      }),
      fuzzParameters(SEQUENCES)
    );
    // A generator that never reaches a branch proves nothing about it.
    console.log(`      outcomes: ${show(Object.fromEntries([...outcomes].sort()))}`);
  });
});
