/**
 * Staging ledger histories the real ledger would refuse to record, on the test-only
 * `contracts/test/LedgerDouble.sol`: it emits the real ledger's events (same selectors, so the
 * verifier decodes them with the real ABI) and answers the same views, enforcing nothing.
 *
 * Independent on purpose: this model's lines, limits (the limit in force, availability) and
 * loan bookkeeping are written here again rather than imported from core/ (limits.ts,
 * drawdown-terms.ts) or verifier/replay.ts, because the verifier is what these staged histories
 * test; a shared copy would make a bug in one invisible to the other.
 *
 * `StagedLedger` keeps its own model of every account, as the real ledger would hold it:
 * `seq` and `head` advanced with `core/hash-chain.ts`, loans replayed with
 * `core/loan-math.ts`, lines and caps as `CreditLedger` changes them. Each operation
 * computes the event the real ledger would emit for it and emits that, so a staged history is
 * honest, hash chain included, except where the test asks otherwise:
 *
 *   - rule-breaking: the helper never checks a rule (draw over the limit, on a frozen line,
 *     while paused, with terms above the cost ceiling...): the test simply asks for it;
 *   - `fields`: values merged into the event's fields before it is hashed (an overcharge, an
 *     allocation out of order); struct fields merge field by field. Loans, usage and chain
 *     move on as the real ledger would have moved them (the honest values: for servicing
 *     entries the loan math's, whatever the event claims), so the views a staged history ends
 *     with disagree with nothing but the staged violation;
 *   - `EntryOptions`: a reused `ref`, a wrong claimed `seq` or `head`, a payload hashed as
 *     something else, an entry the chain never advanced past, entries held back and emitted
 *     out of order;
 *   - views: `syncViews()` writes the honest replayed views; `setAccountView`, `setLineView`
 *     and `setLoanView` then overwrite fields of them.
 *
 * Each test builds a fresh `StagedLedger` over a `loadFixture` snapshot of `deployDouble`, so
 * no model state is shared between tests.
 */
import { ethers, network } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { hexlify, id, randomBytes, ZeroHash, type EventFragment, type Interface, type TypedDataDomain } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { ROLES } from "../../deploy/modules/CreditLedger";
import { CASH_LOAN, CASH_LOAN_ID, PAY_LATER, PAY_LATER_ID, TIERS, type ProductConfig } from "../../deploy/defaults";
import { decisionDomain, DecisionPurpose, restructureSubject, signDecision, type Decision, type TypedDataSigner } from "../../core/decision";
import { entryKindOf, nextHead, payloadHashOf } from "../../core/hash-chain";
import {
  applyRefund,
  applyRepayment,
  allocatedPrincipal,
  applyRestructure,
  checkpoint,
  dayOf,
  emptyState,
  installmentFee,
  LoanStatus,
  PERIOD_DAYS,
  position,
  RepaymentMethod,
  type LoanState,
  type LoanTerms,
} from "../../core/loan-math";
import { CreditLedger__factory, type LedgerDouble } from "../../typechain-types";

export { ROLES };

/** The freeze reason code a write-off sets (`LoanServicing.WRITE_OFF_FREEZE_REASON`). */
export const WRITE_OFF_FREEZE_REASON = 0xffff;

/** The real ledger's ABI: every event is encoded and hashed exactly as `CreditLedger` emits it. */
const LEDGER_ABI: Interface = CreditLedger__factory.createInterface();

// ================================================================== deployment (a loadFixture fixture)

export interface DoubleFixture {
  double: LedgerDouble;
  address: string;
  chainId: bigint;
  /** The block the double was deployed in (where a verifier starts reading). */
  deployBlock: number;
  domain: TypedDataDomain;
  admin: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  scorer: HardhatEthersSigner;
  pauser: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
  /** A second key that tests may make a scorer, and revoke. */
  scorer2: HardhatEthersSigner;
}

/**
 * Deploys the double and gives it the real deployment's set-up events: the admin, operator,
 * scorer and pauser roles, the default products and tiers (as `deploy/modules/CreditLedger.ts`).
 */
export async function deployDouble(): Promise<DoubleFixture> {
  const [admin, operator, scorer, pauser, stranger, scorer2] = await ethers.getSigners();
  const double = (await ethers.deployContract("LedgerDouble", [], admin)) as unknown as LedgerDouble;
  const receipt = await double.deploymentTransaction()!.wait();
  await (await double.grantRole(ROLES.admin, admin.address)).wait();
  await (await double.grantRole(ROLES.operator, operator.address)).wait();
  await (await double.grantRole(ROLES.scorer, scorer.address)).wait();
  await (await double.grantRole(ROLES.pauser, pauser.address)).wait();
  await (await double.configureProduct(PAY_LATER_ID, PAY_LATER)).wait();
  await (await double.configureProduct(CASH_LOAN_ID, CASH_LOAN)).wait();
  for (const [tier, policy] of Object.entries(TIERS)) await (await double.setTierPolicy(Number(tier), policy)).wait();
  const address = await double.getAddress();
  const chainId = BigInt(network.config.chainId ?? 31337);
  return {
    double,
    address,
    chainId,
    deployBlock: receipt!.blockNumber,
    domain: decisionDomain(chainId, address),
    admin,
    operator,
    scorer,
    pauser,
    stranger,
    scorer2,
  };
}

// ================================================================== the model

export interface LineModel {
  limit: bigint;
  used: bigint;
  tempLimit: bigint;
  tempExpiry: bigint;
  granted: boolean;
  frozen: boolean;
  ratePpmPerDay: bigint;
  freezeReason: number;
}

export interface LoanModel {
  terms: LoanTerms;
  state: LoanState;
}

export interface AccountModel {
  id: string;
  tier: number;
  exposureCap: bigint;
  used: bigint;
  seq: bigint;
  decisionNonce: bigint;
  loanCount: number;
  head: string;
  lines: Map<number, LineModel>;
  loans: Map<number, LoanModel>;
}

/** An entry as staged: where it landed (filled in when it is emitted). */
export interface StagedEntry {
  account: string;
  /** The seq the event claims. */
  seq: bigint;
  event: string;
  ref: string;
  /** The event's fields by ABI name, as emitted. */
  fields: Record<string, unknown>;
  txHash: string;
  blockNumber: number;
}

export interface EntryOptions {
  /** The caller reference (default: a fresh one). Pass an earlier entry's to stage a reuse. */
  ref?: string;
  /** The block time of the entry (default: one second after the latest block). */
  at?: bigint;
  /** The seq the event claims (default: the account's next). */
  seq?: bigint;
  /** The head the event claims (default: the head the chain gives). */
  head?: string;
  /** Chain the entry as if its payload hash were this one (a wrongly hashed entry). */
  hashedAs?: string;
  /** Fields changed in the emitted event after its head was computed over the honest ones (an entry altered after the fact). */
  emitted?: FieldOverrides;
  /** Whether the account's chain and state advance past this entry (default true; false stages an entry the ledger never appended). */
  advance?: boolean;
  /**
   * Keep the entry back: it is emitted by `release()`, in the order given there, at whatever
   * time that is (hold only entries whose values do not depend on the block time).
   */
  hold?: boolean;
}

/**
 * Values merged into an event's fields before hashing; a struct field merges field by field.
 * A function gets the honest fields and returns the overrides (to stage "one more than the
 * math gives").
 */
export type FieldOverrides = Record<string, unknown> | ((honest: Record<string, any>) => Record<string, unknown>);

export interface SignOptions {
  /** Who signs the decision (default: the scorer). */
  signer?: TypedDataSigner & { address: string };
  /** The scorer address the entry names (default: the signer's). */
  scorer?: string;
  /** Replace the signature outright. */
  signature?: string;
}

interface Held {
  entry: StagedEntry;
  send: () => Promise<StagedEntry>;
}

export const newId = (): string => hexlify(randomBytes(32));

const isStruct = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function merge(honest: Record<string, unknown>, overrides: FieldOverrides = {}): Record<string, unknown> {
  const out = { ...honest };
  const changes = typeof overrides === "function" ? overrides(honest) : overrides;
  for (const [k, v] of Object.entries(changes)) out[k] = isStruct(out[k]) && isStruct(v) ? { ...out[k], ...v } : v;
  return out;
}

const big = (v: unknown): bigint => BigInt(v as bigint);

function termsOf(v: unknown): LoanTerms {
  const t = v as Record<string, unknown>;
  return {
    principal: big(t.principal),
    startTime: big(t.startTime),
    periods: Number(t.periods),
    method: Number(t.method) as RepaymentMethod,
    productId: Number(t.productId),
    ratePpmPerDay: big(t.ratePpmPerDay),
    totalFee: big(t.totalFee),
    firstDueDay: big(t.firstDueDay),
    penaltyPpmPerDay: big(t.penaltyPpmPerDay),
    writeOffDays: big(t.writeOffDays),
  };
}

const emptyLine = (): LineModel => ({
  limit: 0n,
  used: 0n,
  tempLimit: 0n,
  tempExpiry: 0n,
  granted: false,
  frozen: false,
  ratePpmPerDay: 0n,
  freezeReason: 0,
});

/** The limit in force at `t` (the ledger's `_effectiveLimit`). */
export const effectiveLimitAt = (line: LineModel, t: bigint): bigint =>
  t < line.tempExpiry && line.tempLimit > line.limit ? line.tempLimit : line.limit;

// ================================================================== staging

export class StagedLedger {
  readonly accounts = new Map<string, AccountModel>();
  readonly products: Record<number, ProductConfig> = { [PAY_LATER_ID]: PAY_LATER, [CASH_LOAN_ID]: CASH_LOAN };
  private held: Held[] = [];

  constructor(readonly f: DoubleFixture) {}

  get double(): LedgerDouble {
    return this.f.double;
  }

  account(id: string): AccountModel {
    const a = this.accounts.get(id.toLowerCase());
    if (!a) throw new Error(`no staged account ${id}`);
    return a;
  }

  line(account: string, productId: number): LineModel {
    const a = this.account(account);
    let line = a.lines.get(productId);
    if (!line) {
      line = emptyLine();
      a.lines.set(productId, line);
    }
    return line;
  }

  loan(account: string, loanNo: number | bigint): LoanModel {
    const loan = this.account(account).loans.get(Number(loanNo));
    if (!loan) throw new Error(`no staged loan ${loanNo} on ${account}`);
    return loan;
  }

  // ---------------------------------------------------------------- time

  /** The latest block's time. */
  async now(): Promise<bigint> {
    return BigInt(await time.latest());
  }

  /** The time the next entry gets: `at`, else one second after the latest block. */
  private async timeFor(at?: bigint): Promise<bigint> {
    const latest = await this.now();
    const t = at ?? latest + 1n;
    if (t <= latest) throw new Error(`entry time ${t} is not after the latest block (${latest})`);
    return t;
  }

  /** A time inside day `day` of a loan (one minute past the day boundary). */
  dayOfLoan(account: string, loanNo: number | bigint, day: number): bigint {
    return this.loan(account, loanNo).terms.startTime + BigInt(day) * 86_400n + 60n;
  }

  // ---------------------------------------------------------------- entries

  /**
   * Emit `event` for `account` with `fields` (every field but seq and head), chaining it onto
   * the model's head unless the options say otherwise.
   */
  private async entry(
    account: string,
    event: string,
    fields: Record<string, unknown>,
    t: bigint,
    opts: EntryOptions,
    advanceModel: (fields: Record<string, unknown>) => void
  ): Promise<StagedEntry> {
    const a = this.account(account);
    const fragment = LEDGER_ABI.getEvent(event) as EventFragment;
    const kind = entryKindOf(event)!;
    const seq = opts.seq ?? a.seq + 1n;
    const ordered = (named: Record<string, unknown>) =>
      fragment.inputs.map((input) => {
        if (!(input.name in named)) throw new Error(`${event}: no value for ${input.name}`);
        return named[input.name];
      });
    const hashed = { ...fields, account: a.id, seq, head: ZeroHash };
    const payloadHash = payloadHashOf(fragment, ordered(hashed));
    const head = opts.head ?? nextHead(a.head, seq, kind, opts.hashedAs ?? payloadHash);
    const emitted: Record<string, unknown> = { ...merge(hashed, opts.emitted), head };
    const values = ordered(emitted);
    const staged: StagedEntry = {
      account: a.id,
      seq,
      event,
      ref: emitted.ref as string,
      fields: emitted,
      txHash: "",
      blockNumber: 0,
    };
    if (opts.advance ?? true) {
      a.seq = seq;
      a.head = head;
      advanceModel(fields);
    }
    const send = async () => {
      const tx = await this.double.connect(this.f.operator).getFunction(`emit${event}`)(...values);
      const receipt = await tx.wait();
      staged.txHash = receipt!.hash;
      staged.blockNumber = receipt!.blockNumber;
      return staged;
    };
    if (opts.hold) {
      this.held.push({ entry: staged, send });
      return staged;
    }
    await time.setNextBlockTimestamp(t);
    return send();
  }

  /** Emit the held entries in the given order (default: as held), each one second after the latest block. */
  async release(order?: StagedEntry[]): Promise<StagedEntry[]> {
    const held = order ? order.map((e) => this.held.find((h) => h.entry === e)!) : this.held;
    this.held = this.held.filter((h) => !held.includes(h));
    const out: StagedEntry[] = [];
    for (const h of held) out.push(await h.send());
    return out;
  }

  private common(opts: EntryOptions) {
    return { ref: opts.ref ?? newId(), by: this.f.operator.address };
  }

  // ---------------------------------------------------------------- accounts

  /** Open an account (tier 1, exposure cap 8,000,000 fen by default). */
  async openAccount(
    o: { tier?: number; exposureCap?: bigint; id?: string } = {},
    opts: EntryOptions & { fields?: FieldOverrides } = {}
  ): Promise<StagedEntry> {
    const idv = (o.id ?? newId()).toLowerCase();
    this.accounts.set(idv, {
      id: idv,
      tier: o.tier ?? 1,
      exposureCap: o.exposureCap ?? 8_000_000n,
      used: 0n,
      seq: 0n,
      decisionNonce: 0n,
      loanCount: 0,
      head: ZeroHash,
      lines: new Map(),
      loans: new Map(),
    });
    const t = await this.timeFor(opts.at);
    const a = this.account(idv);
    const fields = merge({ ...this.common(opts), tier: a.tier, exposureCap: a.exposureCap }, opts.fields);
    return this.entry(idv, "AccountOpened", fields, t, opts, (ev) => {
      a.tier = Number(ev.tier);
      a.exposureCap = big(ev.exposureCap);
    });
  }

  async setExposureCap(account: string, newCap: bigint, opts: EntryOptions & { fields?: FieldOverrides } = {}) {
    const a = this.account(account);
    const t = await this.timeFor(opts.at);
    const fields = merge({ ...this.common(opts), previousCap: a.exposureCap, newCap }, opts.fields);
    return this.entry(account, "ExposureCapChanged", fields, t, opts, (ev) => {
      a.exposureCap = big(ev.newCap);
    });
  }

  // ---------------------------------------------------------------- decisions and lines

  /** A decision for the account's next nonce, with the real fixtures' defaults. */
  async decision(account: string, overrides: Partial<Decision> = {}, at?: bigint): Promise<Decision> {
    const a = this.account(account);
    const t = at ?? (await this.now());
    return {
      account: a.id,
      purpose: DecisionPurpose.Line,
      productId: PAY_LATER_ID,
      approved: true,
      tier: a.tier,
      score: 720,
      limit: 1_000_000n,
      limitExpiry: 0n,
      ratePpmPerDay: 0n,
      modelId: id("scorecard-v1"),
      featuresHash: id("features"),
      reasonCodes: [0, 0, 0, 0],
      subject: ZeroHash,
      scorer: this.f.scorer.address,
      nonce: a.decisionNonce,
      issuedAt: t,
      deadline: t + 3_600n,
      ...overrides,
    };
  }

  /** The scorer a decision names: the entry's scorer, by default the signer's address. */
  private scorerOf(s: SignOptions): string {
    return s.scorer ?? (s.signer ?? this.f.scorer).address;
  }

  private async signed(d: Decision, s: SignOptions) {
    const signer = s.signer ?? this.f.scorer;
    const signature = s.signature ?? (await signDecision(signer, this.f.domain, d));
    return { scorer: s.scorer ?? signer.address, signature };
  }

  private spendDecision(a: AccountModel, d: Record<string, unknown>): void {
    if (d.approved) a.tier = Number(d.tier);
    a.decisionNonce += 1n;
  }

  async recordDecline(
    account: string,
    overrides: Partial<Decision> = {},
    s: SignOptions = {},
    opts: EntryOptions & { fields?: FieldOverrides } = {}
  ) {
    const a = this.account(account);
    const t = await this.timeFor(opts.at);
    const d = await this.decision(account, { approved: false, limit: 0n, reasonCodes: [11, 22, 0, 0], scorer: this.scorerOf(s), ...overrides }, t);
    const fields = merge({ ...this.common(opts), decision: d, ...(await this.signed(d, s)) }, opts.fields);
    return this.entry(account, "DecisionDeclined", fields, t, opts, (ev) => {
      this.spendDecision(a, ev.decision as Record<string, unknown>);
    });
  }

  async grantLine(
    account: string,
    overrides: Partial<Decision> = {},
    s: SignOptions = {},
    opts: EntryOptions & { fields?: FieldOverrides } = {}
  ) {
    const a = this.account(account);
    const t = await this.timeFor(opts.at);
    const d = await this.decision(account, { scorer: this.scorerOf(s), ...overrides }, t);
    const fields = merge({ ...this.common(opts), decision: d, ...(await this.signed(d, s)) }, opts.fields);
    return this.entry(account, "LineGranted", fields, t, opts, (ev) => {
      const dec = ev.decision as Record<string, unknown>;
      this.spendDecision(a, dec);
      const line = this.line(account, Number(dec.productId));
      line.granted = true;
      line.limit = big(dec.limit);
      line.ratePpmPerDay = big(dec.ratePpmPerDay);
    });
  }

  /** Raise a line's limit: permanent when `limitExpiry` is 0, else temporary. */
  async increaseLimit(
    account: string,
    overrides: Partial<Decision> = {},
    s: SignOptions = {},
    opts: EntryOptions & { fields?: FieldOverrides } = {}
  ) {
    const a = this.account(account);
    const t = await this.timeFor(opts.at);
    const d = await this.decision(account, { scorer: this.scorerOf(s), ...overrides }, t);
    const line = this.line(account, d.productId);
    const fields = merge(
      {
        ...this.common(opts),
        previousLimit: line.limit,
        previousTempLimit: line.tempLimit,
        previousTempExpiry: line.tempExpiry,
        decision: d,
        ...(await this.signed(d, s)),
      },
      opts.fields
    );
    return this.entry(account, "LimitIncreased", fields, t, opts, (ev) => {
      const dec = ev.decision as Record<string, unknown>;
      this.spendDecision(a, dec);
      const l = this.line(account, Number(dec.productId));
      if (big(dec.limitExpiry) === 0n) l.limit = big(dec.limit);
      else {
        l.tempLimit = big(dec.limit);
        l.tempExpiry = big(dec.limitExpiry);
      }
      l.ratePpmPerDay = big(dec.ratePpmPerDay);
    });
  }

  async cutLimit(
    account: string,
    productId: number,
    newLimit: bigint,
    reasonCode = 0,
    opts: EntryOptions & { fields?: FieldOverrides } = {}
  ) {
    const t = await this.timeFor(opts.at);
    const line = this.line(account, productId);
    const previous = effectiveLimitAt(line, t);
    const fields = merge(
      { ...this.common(opts), productId, previousLimit: previous, newLimit, reasonCode },
      opts.fields
    );
    return this.entry(account, "LimitCut", fields, t, opts, (ev) => {
      this.account(account).decisionNonce += 1n;
      const next = big(ev.newLimit);
      const temporaryInForce = previous !== line.limit;
      if (next < line.limit) line.limit = next;
      if (temporaryInForce) line.tempLimit = next;
      else {
        line.tempLimit = 0n;
        line.tempExpiry = 0n;
      }
    });
  }

  /** A line reinstated on a Reinstate decision (by default honest: approved, subject zero). */
  async reinstateLine(
    account: string,
    productId: number,
    overrides: Partial<Decision> = {},
    s: SignOptions = {},
    opts: EntryOptions & { fields?: FieldOverrides } = {}
  ) {
    const t = await this.timeFor(opts.at);
    const d = await this.decision(
      account,
      { purpose: DecisionPurpose.Reinstate, productId, limit: 0n, scorer: this.scorerOf(s), ...overrides },
      t
    );
    const fields = merge({ ...this.common(opts), decision: d, ...(await this.signed(d, s)) }, opts.fields);
    return this.entry(account, "LineReinstated", fields, t, opts, () => {
      const line = this.line(account, productId);
      line.frozen = false;
      line.freezeReason = 0;
      this.account(account).decisionNonce += 1n;
    });
  }

  async freezeLine(account: string, productId: number, reasonCode = 7, opts: EntryOptions & { fields?: FieldOverrides } = {}) {
    return this.setFrozen(account, productId, true, reasonCode, opts);
  }

  async unfreezeLine(account: string, productId: number, reasonCode = 0, opts: EntryOptions & { fields?: FieldOverrides } = {}) {
    return this.setFrozen(account, productId, false, reasonCode, opts);
  }

  private async setFrozen(
    account: string,
    productId: number,
    frozen: boolean,
    reasonCode: number,
    opts: EntryOptions & { fields?: FieldOverrides }
  ) {
    const t = await this.timeFor(opts.at);
    const fields = merge({ ...this.common(opts), productId, reasonCode }, opts.fields);
    return this.entry(account, frozen ? "LineFrozen" : "LineUnfrozen", fields, t, opts, (ev) => {
      const line = this.line(account, Number(ev.productId));
      line.frozen = frozen;
      line.freezeReason = Number(ev.reasonCode);
      if (frozen) this.account(account).decisionNonce += 1n;
    });
  }

  // ---------------------------------------------------------------- drawdowns

  /** A pay-later purchase of `periods` 1 (single payment) or 3/6/9/12 installments. */
  async purchase(account: string, amount: bigint, periods = 1, opts: EntryOptions & { fields?: FieldOverrides } = {}) {
    const t = await this.timeFor(opts.at);
    const product = this.products[PAY_LATER_ID];
    const terms: LoanTerms = {
      principal: amount,
      startTime: t,
      periods,
      method: periods === 1 ? RepaymentMethod.Bullet : RepaymentMethod.EqualPrincipal,
      productId: PAY_LATER_ID,
      ratePpmPerDay: 0n,
      totalFee: periods === 1 ? 0n : installmentFee(amount, BigInt(product.installmentFeePpm[periods / 3 - 1])),
      firstDueDay: BigInt(product.graceDays),
      penaltyPpmPerDay: BigInt(product.penaltyPpmPerDay),
      writeOffDays: BigInt(product.writeOffDays),
    };
    return this.draw(account, terms, t, opts);
  }

  /** A cash loan at the line's daily rate. */
  async drawCash(
    account: string,
    amount: bigint,
    periods = 6,
    method: RepaymentMethod = RepaymentMethod.Annuity,
    opts: EntryOptions & { fields?: FieldOverrides } = {}
  ) {
    const t = await this.timeFor(opts.at);
    const terms: LoanTerms = {
      principal: amount,
      startTime: t,
      periods,
      method,
      productId: CASH_LOAN_ID,
      ratePpmPerDay: this.line(account, CASH_LOAN_ID).ratePpmPerDay,
      totalFee: 0n,
      firstDueDay: PERIOD_DAYS,
      penaltyPpmPerDay: BigInt(this.products[CASH_LOAN_ID].penaltyPpmPerDay),
      writeOffDays: BigInt(this.products[CASH_LOAN_ID].writeOffDays),
    };
    return this.draw(account, terms, t, opts);
  }

  private async draw(account: string, terms: LoanTerms, t: bigint, opts: EntryOptions & { fields?: FieldOverrides }) {
    const a = this.account(account);
    const fields = merge({ ...this.common(opts), loanNo: a.loanCount + 1, terms }, opts.fields);
    return this.entry(account, "Drawn", fields, t, opts, (ev) => {
      const tm = termsOf(ev.terms);
      a.loanCount = Number(ev.loanNo);
      a.used += tm.principal;
      this.line(account, tm.productId).used += tm.principal;
      a.loans.set(Number(ev.loanNo), { terms: tm, state: emptyState() });
    });
  }

  /** The most recent loan number staged on the account. */
  lastLoan(account: string): number {
    return this.account(account).loanCount;
  }

  // ---------------------------------------------------------------- servicing

  private releaseUsage(account: string, productId: number, principal: bigint): void {
    this.account(account).used -= principal;
    this.line(account, productId).used -= principal;
  }

  async refund(account: string, loanNo: number, amount: bigint, opts: EntryOptions & { fields?: FieldOverrides } = {}) {
    const t = await this.timeFor(opts.at);
    const loan = this.loan(account, loanNo);
    const day = dayOf(loan.terms, t);
    const honest = applyRefund(loan.terms, loan.state, day, amount);
    const fields = merge({ ...this.common(opts), loanNo, amount, feeWaived: honest.feeWaived, day }, opts.fields);
    return this.entry(account, "Refunded", fields, t, opts, () => {
      loan.state = honest.state;
      this.releaseUsage(account, loan.terms.productId, amount);
    });
  }

  /** What closes the loan at `t` (its payoff). */
  payoffAt(account: string, loanNo: number, t: bigint): bigint {
    const loan = this.loan(account, loanNo);
    return position(loan.terms, loan.state, dayOf(loan.terms, t)).payoff;
  }

  async repay(account: string, loanNo: number, amount: bigint, opts: EntryOptions & { fields?: FieldOverrides } = {}) {
    const t = await this.timeFor(opts.at);
    const loan = this.loan(account, loanNo);
    const day = dayOf(loan.terms, t);
    const honest = applyRepayment(loan.terms, loan.state, day, amount);
    const fields = merge(
      {
        ...this.common(opts),
        loanNo,
        amount,
        allocation: honest.allocation,
        day,
        interestAccrued: honest.interestAccrued,
        penaltyAccrued: honest.penaltyAccrued,
        status: honest.state.status,
      },
      opts.fields
    );
    return this.entry(account, "Repaid", fields, t, opts, () => {
      this.releaseUsage(account, loan.terms.productId, allocatedPrincipal(honest.allocation));
      loan.state = honest.state;
    });
  }

  async restructure(
    account: string,
    loanNo: number,
    newPeriods: number,
    holidayDays = 0,
    newRatePpmPerDay?: bigint,
    opts: EntryOptions & { fields?: FieldOverrides; decision?: Partial<Decision>; sign?: SignOptions } = {}
  ) {
    const t = await this.timeFor(opts.at);
    const loan = this.loan(account, loanNo);
    const rate = newRatePpmPerDay ?? loan.terms.ratePpmPerDay;
    const honest = applyRestructure(loan.terms, loan.state, t, newPeriods, BigInt(holidayDays), rate);
    const s = opts.sign ?? {};
    // The scorer's decision for exactly these terms (purpose Restructure), unless overridden.
    const d = await this.decision(
      account,
      {
        purpose: DecisionPurpose.Restructure,
        productId: loan.terms.productId,
        limit: 0n,
        ratePpmPerDay: rate,
        subject: restructureSubject(loanNo, newPeriods, holidayDays, rate),
        scorer: this.scorerOf(s),
        ...opts.decision,
      },
      t
    );
    const fields = merge(
      {
        ...this.common(opts),
        loanNo,
        previousTerms: loan.terms,
        newTerms: honest.terms,
        interestAccrued: honest.interestAccrued,
        penaltyAccrued: honest.penaltyAccrued,
        holidayDays,
        daysPastDueCleared: honest.daysPastDueCleared,
        decision: d,
        ...(await this.signed(d, s)),
      },
      opts.fields
    );
    return this.entry(account, "Restructured", fields, t, opts, () => {
      loan.terms = honest.terms;
      loan.state = honest.state;
      this.account(account).decisionNonce += 1n;
    });
  }

  async writeOff(account: string, loanNo: number, opts: EntryOptions & { fields?: FieldOverrides } = {}) {
    const t = await this.timeFor(opts.at);
    const loan = this.loan(account, loanNo);
    const day = dayOf(loan.terms, t);
    const dpd = position(loan.terms, loan.state, day).daysPastDue;
    const c = checkpoint(loan.terms, loan.state, day);
    const line = this.line(account, loan.terms.productId);
    const fields = merge(
      {
        ...this.common(opts),
        loanNo,
        principalWrittenOff: loan.terms.principal - loan.state.principalSettled,
        daysPastDue: dpd,
        interestAccrued: c.interestOwed - loan.state.interestOwed,
        penaltyAccrued: c.penaltyOwed - loan.state.penaltyOwed,
        lineFrozen: !line.frozen,
      },
      opts.fields
    );
    return this.entry(account, "WrittenOff", fields, t, opts, () => {
      // The written-off principal stays in usage until recovered (ICreditLedger.writeOff).
      line.frozen = true;
      line.freezeReason = WRITE_OFF_FREEZE_REASON;
      loan.state = { ...c, status: LoanStatus.WrittenOff };
      this.account(account).decisionNonce += 1n;
    });
  }

  // ---------------------------------------------------------------- admin events

  private async admin(send: () => Promise<{ wait: () => Promise<unknown> }>, at?: bigint) {
    await time.setNextBlockTimestamp(await this.timeFor(at));
    const tx = await send();
    const receipt = (await tx.wait()) as { hash: string; blockNumber: number };
    return { txHash: receipt.hash, blockNumber: receipt.blockNumber };
  }

  pause(at?: bigint) {
    return this.admin(() => this.double.connect(this.f.pauser).pause(), at);
  }

  unpause(at?: bigint) {
    return this.admin(() => this.double.connect(this.f.pauser).unpause(), at);
  }

  grantRole(role: string, who: string, at?: bigint) {
    return this.admin(() => this.double.connect(this.f.admin).grantRole(role, who), at);
  }

  revokeRole(role: string, who: string, at?: bigint) {
    return this.admin(() => this.double.connect(this.f.admin).revokeRole(role, who), at);
  }

  /** `beginDefaultAdminTransfer(newAdmin)`'s event, acceptable from `acceptSchedule`. */
  scheduleAdminTransfer(newAdmin: string, acceptSchedule: bigint, at?: bigint) {
    return this.admin(() => this.double.connect(this.f.admin).scheduleAdminTransfer(newAdmin, acceptSchedule), at);
  }

  /** `acceptDefaultAdminTransfer()`'s events, sent by `by` (the new admin) at any time. */
  acceptAdminTransfer(by: HardhatEthersSigner, at?: bigint) {
    return this.admin(() => this.double.connect(by).acceptAdminTransfer(this.f.admin.address), at);
  }

  configureProduct(productId: number, product: ProductConfig, at?: bigint) {
    this.products[productId] = product;
    return this.admin(() => this.double.connect(this.f.admin).configureProduct(productId, product), at);
  }

  setTierPolicy(tier: number, policy: { maxLineLimit: bigint; maxExposure: bigint }, at?: bigint) {
    return this.admin(() => this.double.connect(this.f.admin).setTierPolicy(tier, policy), at);
  }

  // ---------------------------------------------------------------- views

  /** Write every staged account's, line's and loan's view as the model holds it. */
  async syncViews(): Promise<void> {
    for (const a of this.accounts.values()) {
      await this.setAccountView(a.id);
      for (const productId of a.lines.keys()) await this.setLineView(a.id, productId);
      for (const loanNo of a.loans.keys()) await this.setLoanView(a.id, loanNo);
    }
  }

  /** Write the account's view: the model's, with `overrides` on top. */
  async setAccountView(account: string, overrides: Record<string, unknown> = {}): Promise<void> {
    const a = this.account(account);
    const view = {
      tier: a.tier,
      exists: true,
      exposureCap: a.exposureCap,
      used: a.used,
      seq: a.seq,
      decisionNonce: a.decisionNonce,
      loanCount: a.loanCount,
      head: a.head,
      ...overrides,
    };
    await (await this.double.setAccount(a.id, view as never)).wait();
  }

  async setLineView(account: string, productId: number, overrides: Record<string, unknown> = {}): Promise<void> {
    const view = { ...this.line(account, productId), ...overrides };
    await (await this.double.setLine(account, productId, view as never)).wait();
  }

  async setLoanView(
    account: string,
    loanNo: number,
    overrides: { terms?: Partial<LoanTerms>; state?: Partial<LoanState> } = {}
  ): Promise<void> {
    const loan = this.loan(account, loanNo);
    const terms = { ...loan.terms, ...overrides.terms };
    const state = { ...loan.state, ...overrides.state };
    await (await this.double.setLoan(account, loanNo, terms, state)).wait();
  }
}
