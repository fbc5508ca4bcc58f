/**
 * The replay behind every check, pure: every ledger event in chain order, with the shared loan
 * math and hash chain of `core/`, holding the ledger's state (roles, pause, products,
 * tiers, accounts, lines, loans) as the contract would, and comparing each event with what the
 * rules allow and what the math gives. Every violation becomes a `Finding` that names its
 * check and its entry (account, seq, tx hash). After a finding the replay goes on with the
 * honest value (the recomputed one), so one bad entry is reported once, where it happened.
 * `verify.ts` turns the tallies into a report; `account-view.ts` reads accounts for display.
 */
import { dataLength, getAddress, getBytes, recoverAddress, ZeroHash } from "ethers";

import {
  decisionBindingProblems,
  decisionDigest,
  decisionDomain,
  DecisionPurpose,
  NONCE_ADVANCING_ENTRIES,
  restructureSubject,
  type Decision,
} from "../core/decision";
import { entryKindOf, nextHead } from "../core/hash-chain";
import {
  applyRefund,
  applyRepayment,
  allocatedPrincipal,
  applyRestructure,
  checkpoint,
  dayOf,
  DAYS_PER_YEAR,
  daysPastDue,
  emptyState,
  LEDGER_LIMITS,
  LoanStatus,
  PERIOD_DAYS,
  positionOnDay,
  ProductKind,
  RepaymentMethod,
  restructureBudgetRefusal,
  withinCostCeiling,
  type Allocation,
  type LoanState,
  type LoanTerms,
} from "../core/loan-math";
import { drawdownTerms } from "../core/drawdown-terms";
import { isEntry, type LedgerEntry } from "../core/ledger-events";
import { decisionFromFields, productFromFields, stateFromFields, termsFromFields, STRUCT_FIELDS, type LedgerAccount, type LedgerLine, type LedgerProduct } from "../core/ledger-structs";
import { drawdownRoom, effectiveLimit } from "../core/limits";
import { LedgerCompleteness } from "./ledger-completeness";
import { ROLE_IDS, ROLE_NAMES } from "./abi";
import {
  CHECKS,
  type CheckName,
  type Finding,
  type TimedEvent,
  type LedgerHistory,
  type TimelineItem,
} from "./types";

const { maxRatePpmPerDay: MAX_RATE_PPM_PER_DAY } = LEDGER_LIMITS;
const {
  maxRestructurePeriods: MAX_RESTRUCTURE_PERIODS,
  maxHolidayDays: MAX_HOLIDAY_DAYS,
  maxTotalHolidayDays: MAX_TOTAL_HOLIDAY_DAYS,
  writeOffFreezeReason: WRITE_OFF_FREEZE_REASON,
} = LEDGER_LIMITS;

export type ProductR = LedgerProduct;

/** A line as the replay holds it: the ledger's `Line` and its product. */
export interface LineR extends LedgerLine {
  productId: number;
}

export interface LoanR {
  loanNo: number;
  productId: number;
  terms: LoanTerms;
  state: LoanState;
  drawnAt: bigint;
  drawnBlock: number;
  drawnTx: string;
  /** Principal drawn, before any restructure re-based the terms. */
  principalDrawn: bigint;
}

/** An account as the replay holds it: the ledger's `Account` (`opened` for its `exists`), its lines, loans and entries. */
export interface AccountR extends Omit<LedgerAccount, "exists"> {
  account: string;
  opened: boolean;
  lines: Map<number, LineR>;
  loans: Map<number, LoanR>;
  entries: Array<TimedEvent & LedgerEntry>;
  declines: number;
  /** Outstanding principal across lines after each entry. */
  series: { timestamp: bigint; blockNumber: number; outstanding: bigint }[];
}

interface Tally {
  checked: number;
  findings: Finding[];
}

/** The replayed ledger and every finding. */
export interface Replay {
  accounts: Map<string, AccountR>;
  products: Map<number, ProductR>;
  tiers: Map<number, { maxLineLimit: bigint; maxExposure: bigint }>;
  paused: boolean;
  timeline: TimelineItem[];
  tallies: Map<CheckName, Tally>;
  /** Per account, per check. */
  accountTallies: Map<string, Map<CheckName, Tally>>;
  /** The ledger-wide chain over every event (the check `ledger-head`) and the refused batch calls. */
  completeness: LedgerCompleteness;
  /**
   * What each refund checkpointed (interest and penalty accrued up to its day, by the shared
   * math), by `${txHash}:${logIndex}`: the `Refunded` event does not carry it, and the books
   * (verifier/books/journal.ts) accrue it with the refund.
   */
  refundAccruals: Map<string, { interest: bigint; penalty: bigint }>;
}

// ------------------------------------------------------------------ value conversions

const big = (v: unknown): bigint => BigInt(v as bigint | number | string);
const low = (v: unknown): string => String(v).toLowerCase();



const { allocation: ALLOCATION_FIELDS, terms: TERM_FIELDS, state: STATE_FIELDS, line: LINE_FIELDS } = STRUCT_FIELDS;

/** Fields where two records differ, as "name a≠b". */
function differences(actual: Record<string, unknown>, expected: Record<string, unknown>, fields: readonly string[]): string[] {
  return fields
    .filter((f) => String(actual[f]) !== String(expected[f]))
    .map((f) => `${f} ${String(actual[f])}, expected ${String(expected[f])}`);
}

// ------------------------------------------------------------------ the replay

class Replayer implements Replay {
  accounts = new Map<string, AccountR>();
  products = new Map<number, ProductR>();
  tiers = new Map<number, { maxLineLimit: bigint; maxExposure: bigint }>();
  paused = false;
  timeline: TimelineItem[] = [];
  tallies = new Map<CheckName, Tally>(CHECKS.map((c) => [c.name, { checked: 0, findings: [] }]));
  accountTallies = new Map<string, Map<CheckName, Tally>>();
  completeness: LedgerCompleteness;
  refundAccruals = new Map<string, { interest: bigint; penalty: bigint }>();
  private roles = new Map<string, Set<string>>();
  /** The admin role of each role (AccessControl's getRoleAdmin; DEFAULT_ADMIN_ROLE unless changed). */
  private roleAdmins = new Map<string, string>();
  /** The admin hand-over begun and not yet accepted or cancelled (AccessControlDefaultAdminRules). */
  private pendingAdmin: { who: string; acceptFrom: bigint } | undefined;
  private refs = new Map<string, TimedEvent>();
  private readonly domain;

  constructor(private readonly history: LedgerHistory) {
    this.domain = decisionDomain(history.chainId, history.ledger);
    this.completeness = new LedgerCompleteness(history.ledgerStart, { scoped: history.account !== undefined });
  }

  run(): this {
    for (const e of this.history.events) {
      this.completeness.observe(e);
      if (isEntry(e)) this.entry(e);
      else this.ledgerWide(e);
    }
    this.finishLedgerHead();
    this.compareViews();
    return this;
  }

  /** The ledger-wide chain read ends at `ledgerHead()` at the verified block (ledger-completeness.ts). */
  private finishLedgerHead(): void {
    const t = this.tallies.get("ledger-head")!;
    const onChain = this.history.ledgerHead;
    if (onChain === undefined) return;
    t.checked = this.completeness.recomputed + this.completeness.unread;
    if ("error" in onChain) {
      t.findings.push(...this.completeness.finish({ seq: this.completeness.tally().seq, head: this.completeness.tally().head }));
      t.findings.push({ check: "ledger-head", message: `the ledger could not answer ledgerHead() at block ${this.history.toBlock}: ${onChain.error}`, blockNumber: this.history.toBlock });
      return;
    }
    t.findings.push(...this.completeness.finish({ ...onChain, block: this.history.toBlock }));
  }

  // -------------------------------------------------------------- bookkeeping

  private tally(check: CheckName, account?: string): Tally[] {
    const out = [this.tallies.get(check)!];
    if (account !== undefined) {
      let perAccount = this.accountTallies.get(account);
      if (!perAccount) {
        perAccount = new Map(CHECKS.map((c) => [c.name, { checked: 0, findings: [] }]));
        this.accountTallies.set(account, perAccount);
      }
      out.push(perAccount.get(check)!);
    }
    return out;
  }

  private count(check: CheckName, account?: string): void {
    for (const t of this.tally(check, account)) t.checked += 1;
  }

  private fail(check: CheckName, e: TimedEvent | undefined, account: string | undefined, message: string, loanNo?: number): void {
    const finding: Finding = { check, message };
    if (account !== undefined) finding.account = account;
    if (e) {
      if (e.args.seq !== undefined) finding.seq = big(e.args.seq);
      finding.event = e.name;
      finding.txHash = e.txHash;
      finding.blockNumber = e.blockNumber;
    }
    if (loanNo !== undefined) finding.loanNo = loanNo;
    for (const t of this.tally(check, account)) t.findings.push(finding);
  }

  private accountState(account: string): AccountR {
    let a = this.accounts.get(account);
    if (!a) {
      a = {
        account,
        opened: false,
        tier: 0,
        exposureCap: 0n,
        used: 0n,
        seq: 0n,
        head: ZeroHash,
        decisionNonce: 0n,
        loanCount: 0,
        lines: new Map(),
        loans: new Map(),
        entries: [],
        declines: 0,
        series: [],
      };
      this.accounts.set(account, a);
      this.tally("hash-chain", account);
    }
    return a;
  }

  private line(a: AccountR, productId: number): LineR {
    let line = a.lines.get(productId);
    if (!line) {
      line = { productId, limit: 0n, used: 0n, tempLimit: 0n, tempExpiry: 0n, granted: false, frozen: false, ratePpmPerDay: 0n, freezeReason: 0 };
      a.lines.set(productId, line);
    }
    return line;
  }

  private hasRole(role: string, who: string): boolean {
    return this.roles.get(role.toLowerCase())?.has(who.toLowerCase()) ?? false;
  }

  // -------------------------------------------------------------- ledger-wide events

  /** A ledger-wide change must come from a key holding `role` at that point of the chain. */
  private requireRole(e: TimedEvent, role: string, who: string, what: string): void {
    this.count("roles");
    if (!this.hasRole(role, who)) {
      this.fail("roles", e, undefined, `${what} by ${getAddress(who)}, which did not hold ${ROLE_NAMES[role.toLowerCase()] ?? role} at block ${e.blockNumber}`);
    }
  }

  private ledgerWide(e: TimedEvent): void {
    const at = { blockNumber: e.blockNumber, txHash: e.txHash, timestamp: e.timestamp };
    switch (e.name) {
      case "RoleAdminChanged":
        this.roleAdmins.set(low(e.args.role), low(e.args.newAdminRole));
        break;
      case "RoleGranted":
      case "RoleRevoked": {
        const role = low(e.args.role);
        const who = low(e.args.account);
        const sender = low(e.args.sender);
        const admin = this.roleAdmins.get(role) ?? ROLE_IDS.DEFAULT_ADMIN_ROLE;
        // The constructor's first admin grant has no admin before it; renounceRole is the holder's own.
        const constructorGrant = e.name === "RoleGranted" && role === ROLE_IDS.DEFAULT_ADMIN_ROLE && (this.roles.get(role)?.size ?? 0) === 0;
        const renounce = e.name === "RoleRevoked" && sender === who;
        // acceptDefaultAdminTransfer: the pending admin, once the delay has passed, revokes the
        // old admin and takes the role in one transaction (both events have it as sender).
        const accepted =
          role === ROLE_IDS.DEFAULT_ADMIN_ROLE &&
          this.pendingAdmin !== undefined &&
          sender === this.pendingAdmin.who &&
          e.timestamp >= this.pendingAdmin.acceptFrom;
        if (accepted && e.name === "RoleGranted") this.pendingAdmin = undefined;
        if (!constructorGrant && !renounce && !accepted) this.requireRole(e, admin, sender, `${ROLE_NAMES[role] ?? role} ${e.name === "RoleGranted" ? "granted" : "revoked"}`);
        const holders = this.roles.get(role) ?? new Set<string>();
        this.roles.set(role, holders);
        if (e.name === "RoleGranted") holders.add(who);
        else holders.delete(who);
        this.timeline.push({
          ...at,
          kind: e.name === "RoleGranted" ? "role-granted" : "role-revoked",
          detail: `${ROLE_NAMES[role] ?? role} ${e.name === "RoleGranted" ? "granted to" : "revoked from"} ${getAddress(who)} by ${getAddress(low(e.args.sender))}`,
        });
        break;
      }
      case "DefaultAdminTransferScheduled": {
        const who = low(e.args.newAdmin);
        this.pendingAdmin = { who, acceptFrom: BigInt(e.args.acceptSchedule as bigint | string | number) };
        this.timeline.push({ ...at, kind: "admin-transfer-scheduled", detail: `admin hand-over to ${getAddress(who)} begun, acceptable from ${this.pendingAdmin.acceptFrom}` });
        break;
      }
      case "DefaultAdminTransferCanceled":
        this.pendingAdmin = undefined;
        this.timeline.push({ ...at, kind: "admin-transfer-canceled", detail: "admin hand-over cancelled" });
        break;
      case "Paused":
      case "Unpaused":
        this.requireRole(e, ROLE_IDS.PAUSER_ROLE, low(e.args.account), e.name === "Paused" ? "paused" : "unpaused");
        this.paused = e.name === "Paused";
        this.timeline.push({ ...at, kind: this.paused ? "paused" : "unpaused", detail: `${this.paused ? "paused" : "unpaused"} by ${getAddress(low(e.args.account))}` });
        break;
      case "ProductConfigured": {
        const productId = Number(e.args.productId);
        const p = productFromFields(e.args.current as Record<string, unknown>);
        this.requireRole(e, ROLE_IDS.DEFAULT_ADMIN_ROLE, low(e.args.by), `product ${productId} configured`);
        this.checkProduct(e, productId, p, this.products.get(productId));
        this.products.set(productId, p);
        this.timeline.push({
          ...at,
          kind: "product-configured",
          detail: `product ${productId} (${ProductKind[p.kind] ?? p.kind}) ${p.active ? "active" : "inactive"}: ceiling ${p.costCeilingPpmPerYear} ppm/year, penalty ${p.penaltyPpmPerDay} ppm/day, grace ${p.graceDays} days, write-off after ${p.writeOffDays} days, installment fees ${p.installmentFeePpm.join("/")} ppm`,
        });
        break;
      }
      case "TierPolicySet": {
        const tier = Number(e.args.tier);
        const c = e.args.current as Record<string, unknown>;
        this.requireRole(e, ROLE_IDS.DEFAULT_ADMIN_ROLE, low(e.args.by), `tier ${tier} set`);
        this.count("limits");
        if (big(c.maxLineLimit) === 0n || big(c.maxExposure) === 0n) this.fail("limits", e, undefined, `tier ${tier} set with a zero cap (the ledger refuses it)`);
        this.tiers.set(tier, { maxLineLimit: big(c.maxLineLimit), maxExposure: big(c.maxExposure) });
        this.timeline.push({ ...at, kind: "tier-policy-set", detail: `tier ${tier}: line limit up to ${big(c.maxLineLimit)} fen, exposure up to ${big(c.maxExposure)} fen` });
        break;
      }
      default:
        break;
    }
  }

  /** What `configureProduct` refuses. */
  private checkProduct(e: TimedEvent, productId: number, p: ProductR, previous: ProductR | undefined): void {
    this.count("charges");
    this.count("cost-ceiling");
    const problems: string[] = [];
    if (p.kind === ProductKind.None) problems.push("kind None");
    if (previous && previous.kind !== ProductKind.None && previous.kind !== p.kind) problems.push(`kind changed from ${ProductKind[previous.kind]} to ${ProductKind[p.kind] ?? p.kind}`);
    if (p.allowedPeriods === 0) problems.push("no allowed periods");
    if (p.kind === ProductKind.PayLater && p.graceDays === 0n) problems.push("a pay-later product with no grace days");
    if (problems.length > 0) this.fail("charges", e, undefined, `product ${productId} configured with ${problems.join("; ")} (the ledger refuses it)`);
    if (p.costCeilingPpmPerYear === 0n) this.fail("cost-ceiling", e, undefined, `product ${productId} configured with no cost ceiling`);
    else if (p.penaltyPpmPerDay * DAYS_PER_YEAR > p.costCeilingPpmPerYear) {
      this.fail("cost-ceiling", e, undefined, `product ${productId}'s penalty ${p.penaltyPpmPerDay} ppm/day is ${p.penaltyPpmPerDay * DAYS_PER_YEAR} ppm/year, above its ceiling of ${p.costCeilingPpmPerYear}`);
    }
  }

  // -------------------------------------------------------------- entries

  private entry(e: TimedEvent & LedgerEntry): void {
    const account = low(e.args.account);
    const a = this.accountState(account);
    a.entries.push(e);
    this.checkChain(a, e);
    this.checkReference(a, e);
    this.count("roles", a.account);
    const by = low(e.args.by);
    if (!this.hasRole(ROLE_IDS.OPERATOR_ROLE, by)) {
      this.fail("roles", e, a.account, `${e.name} at seq ${String(e.args.seq)} was recorded by ${getAddress(by)}, which did not hold OPERATOR_ROLE at block ${e.blockNumber}`);
    }
    const handler = ENTRY_HANDLERS[e.name];
    try {
      if (handler) handler.call(this, a, e);
    } catch (error) {
      // Terms the contract could never have stored (say, zero periods) break the math: a finding, not a crash.
      this.fail("charges", e, a.account, `${e.name} at seq ${String(e.args.seq)} cannot be replayed with the shared loan math: ${(error as Error).message}`);
    }
    // Adverse entries (cut, freeze, write-off) invalidate outstanding decisions, as on-chain.
    if (NONCE_ADVANCING_ENTRIES.has(e.name)) a.decisionNonce += 1n;
    a.series.push({ timestamp: e.timestamp, blockNumber: e.blockNumber, outstanding: a.used });
  }

  private checkChain(a: AccountR, e: TimedEvent & LedgerEntry): void {
    this.count("hash-chain", a.account);
    const seq = big(e.args.seq);
    const claimed = low(e.args.head);
    const kind = entryKindOf(e.name)!;
    if (!a.opened && e.name !== "AccountOpened") {
      this.fail("hash-chain", e, a.account, `${e.name} at seq ${seq} for an account with no AccountOpened entry before it`);
    }
    if (seq !== a.seq + 1n) {
      this.fail(
        "hash-chain",
        e,
        a.account,
        seq <= a.seq
          ? `entry seq ${seq} repeats or goes back (the account was at seq ${a.seq}): an inserted or reordered entry`
          : `entries ${a.seq + 1n}..${seq - 1n} are missing before seq ${seq}`
      );
    } else {
      const computed = nextHead(a.head, seq, kind, e.payloadHash);
      if (computed.toLowerCase() !== claimed) {
        this.fail("hash-chain", e, a.account, `${e.name} at seq ${seq}: head ${claimed} is not keccak256(prevHead, seq, kind, payloadHash) = ${computed}`);
      }
    }
    a.seq = seq;
    a.head = claimed;
  }

  private checkReference(a: AccountR, e: TimedEvent): void {
    const ref = low(e.args.ref);
    this.count("references", a.account);
    const first = this.refs.get(ref);
    if (first) {
      this.fail(
        "references",
        e,
        a.account,
        `reference ${ref} of ${e.name} at seq ${String(e.args.seq)} was already used by ${first.name} at seq ${String(first.args.seq)} of account ${low(first.args.account)} (tx ${first.txHash})`
      );
    } else {
      this.refs.set(ref, e);
    }
  }

  private whilePaused(a: AccountR, e: TimedEvent, what: string): void {
    if (this.paused) this.fail("limits", e, a.account, `${what} while the ledger was paused`);
  }

  private checkDecision(
    a: AccountR,
    e: TimedEvent,
    approved: boolean,
    purpose: number = DecisionPurpose.Line,
    subject: string = ZeroHash
  ): Decision {
    this.count("decisions", a.account);
    const d = decisionFromFields(e.args.decision as Record<string, unknown>);
    const scorer = getAddress(low(e.args.scorer));
    const problems: string[] = [];
    if (low(d.account) !== a.account) problems.push(`the decision is about account ${d.account}`);
    if (d.approved !== approved) problems.push(`the decision says approved=${d.approved}`);
    problems.push(...decisionBindingProblems(d, { purpose, subject, scorer }, e.timestamp));
    if (d.nonce !== a.decisionNonce) problems.push(`decision nonce ${d.nonce}, the account's nonce was ${a.decisionNonce} (a replayed or skipped decision)`);
    if (!this.hasRole(ROLE_IDS.SCORER_ROLE, scorer)) problems.push(`${scorer} did not hold SCORER_ROLE at block ${e.blockNumber}`);
    const signature = String(e.args.signature);
    const contractAnswer = this.history.contractSignatures[`${e.txHash}:${e.logIndex}`];
    if (contractAnswer === false) {
      problems.push(`the scorer ${scorer} is a contract and refused the signature (ERC-1271)`);
    } else if (contractAnswer !== true) {
      // The ledger's ECDSA.tryRecover takes only 65-byte signatures with v 27 or 28 (and low s).
      const strict = dataLength(signature) === 65 && [27, 28].includes(getBytes(signature)[64]);
      let recovered: string | undefined;
      try {
        recovered = strict ? recoverAddress(decisionDigest(this.domain, d), signature) : undefined;
      } catch {
        recovered = undefined;
      }
      if (!strict) problems.push(`the signature is not a 65-byte signature with v 27 or 28 (the ledger's ECDSA refuses it)`);
      else if (recovered === undefined) problems.push(`the signature does not recover to any address`);
      else if (recovered !== scorer) {
        problems.push(
          `the signature recovers to ${recovered}, not to the named scorer ${scorer}${this.hasRole(ROLE_IDS.SCORER_ROLE, recovered) ? "" : ` (${recovered} did not hold SCORER_ROLE at that block)`}`
        );
      }
    }
    if (!this.products.get(d.productId)?.active) problems.push(`product ${d.productId} was not active`);
    if (problems.length > 0) this.fail("decisions", e, a.account, `${e.name} at seq ${String(e.args.seq)}: ${problems.join("; ")}`);

    if (approved && purpose === DecisionPurpose.Line) {
      this.count("limits", a.account);
      const tier = this.tiers.get(d.tier);
      if (!tier) this.fail("limits", e, a.account, `decision for tier ${d.tier}, which has no policy`);
      else if (d.limit > tier.maxLineLimit) this.fail("limits", e, a.account, `limit ${d.limit} fen above tier ${d.tier}'s cap ${tier.maxLineLimit}`);
      if (d.limit === 0n) this.fail("limits", e, a.account, `a zero limit was approved`);
      this.count("charges", a.account);
      if (d.ratePpmPerDay > MAX_RATE_PPM_PER_DAY) {
        this.fail("charges", e, a.account, `rate ${d.ratePpmPerDay} ppm/day above the ledger's maximum ${MAX_RATE_PPM_PER_DAY}`);
      }
      a.tier = d.tier;
    }
    a.decisionNonce += 1n;
    return d;
  }


  private release(a: AccountR, productId: number, principal: bigint): void {
    a.used -= principal;
    const line = this.line(a, productId);
    line.used -= principal;
  }

  private loan(a: AccountR, e: TimedEvent): LoanR | undefined {
    const loanNo = Number(e.args.loanNo);
    const loan = a.loans.get(loanNo);
    if (!loan) this.fail("balances", e, a.account, `${e.name} for loan ${loanNo}, which was never drawn`, loanNo);
    return loan;
  }

  private checkDay(a: AccountR, e: TimedEvent, loan: LoanR): bigint {
    const day = dayOf(loan.terms, e.timestamp);
    this.count("charges", a.account);
    if (big(e.args.day) !== day) {
      this.fail("charges", e, a.account, `${e.name} of loan ${loan.loanNo} says day ${String(e.args.day)}; the block time gives day ${day}`, loan.loanNo);
    }
    return day;
  }

  onAccountOpened(a: AccountR, e: TimedEvent): void {
    this.count("limits", a.account);
    if (a.opened) this.fail("hash-chain", e, a.account, `the account was opened twice`);
    if (a.account === ZeroHash) this.fail("limits", e, a.account, `an account with the zero id (the ledger refuses it)`);
    a.opened = true;
    a.tier = Number(e.args.tier);
    a.exposureCap = big(e.args.exposureCap);
    this.whilePaused(a, e, "account opened");
    const tier = this.tiers.get(a.tier);
    if (!tier) this.fail("limits", e, a.account, `account opened in tier ${a.tier}, which has no policy`);
    else if (a.exposureCap > tier.maxExposure) {
      this.fail("limits", e, a.account, `exposure cap ${a.exposureCap} fen above tier ${a.tier}'s cap ${tier.maxExposure}`);
    }
  }

  onExposureCapChanged(a: AccountR, e: TimedEvent): void {
    this.count("balances", a.account);
    this.count("limits", a.account);
    const previous = big(e.args.previousCap);
    const next = big(e.args.newCap);
    if (previous !== a.exposureCap) this.fail("balances", e, a.account, `previous cap ${previous} fen, the replay has ${a.exposureCap}`);
    if (next > a.exposureCap) this.whilePaused(a, e, "exposure cap raised");
    const tier = this.tiers.get(a.tier);
    if (tier && next > tier.maxExposure) this.fail("limits", e, a.account, `exposure cap ${next} fen above tier ${a.tier}'s cap ${tier.maxExposure}`);
    a.exposureCap = next;
  }

  onDecisionDeclined(a: AccountR, e: TimedEvent): void {
    this.checkDecision(a, e, false);
    a.declines += 1;
  }

  onLineGranted(a: AccountR, e: TimedEvent): void {
    const d = this.checkDecision(a, e, true);
    this.whilePaused(a, e, "line granted");
    const line = this.line(a, d.productId);
    if (line.granted) this.fail("limits", e, a.account, `product ${d.productId} was already granted on this account`);
    if (d.limitExpiry !== 0n) this.fail("limits", e, a.account, `a grant with a limit expiry (${d.limitExpiry})`);
    line.limit = d.limit;
    line.granted = true;
    line.ratePpmPerDay = d.ratePpmPerDay;
  }

  onLimitIncreased(a: AccountR, e: TimedEvent): void {
    const d = this.checkDecision(a, e, true);
    this.whilePaused(a, e, "limit increased");
    const line = this.line(a, d.productId);
    this.count("balances", a.account);
    const before = differences(
      { limit: e.args.previousLimit, tempLimit: e.args.previousTempLimit, tempExpiry: e.args.previousTempExpiry },
      { limit: line.limit, tempLimit: line.tempLimit, tempExpiry: line.tempExpiry },
      ["limit", "tempLimit", "tempExpiry"]
    );
    if (before.length > 0) this.fail("balances", e, a.account, `the previous limits in the event disagree with the replay: ${before.join("; ")}`);
    const current = effectiveLimit(line, e.timestamp);
    if (!line.granted) this.fail("limits", e, a.account, `limit increase on product ${d.productId}, which was never granted`);
    if (d.limit <= current) this.fail("limits", e, a.account, `"increase" to ${d.limit} fen from a limit in force of ${current}`);
    if (d.limitExpiry === 0n) line.limit = d.limit;
    else {
      if (d.limitExpiry <= e.timestamp) this.fail("limits", e, a.account, `temporary raise already expired (${d.limitExpiry})`);
      line.tempLimit = d.limit;
      line.tempExpiry = d.limitExpiry;
    }
    line.ratePpmPerDay = d.ratePpmPerDay;
  }

  onLimitCut(a: AccountR, e: TimedEvent): void {
    const productId = Number(e.args.productId);
    const line = this.line(a, productId);
    const previous = effectiveLimit(line, e.timestamp);
    const next = big(e.args.newLimit);
    this.count("balances", a.account);
    this.count("limits", a.account);
    if (big(e.args.previousLimit) !== previous) {
      this.fail("balances", e, a.account, `previous limit ${String(e.args.previousLimit)} fen, the replay has ${previous} in force`);
    }
    if (!line.granted) this.fail("limits", e, a.account, `limit cut on product ${productId}, which has no line on this account`);
    else if (next >= previous) this.fail("limits", e, a.account, `"cut" to ${next} fen from ${previous}`);
    const temporaryInForce = previous !== line.limit;
    if (next < line.limit) line.limit = next;
    if (temporaryInForce) line.tempLimit = next;
    else {
      line.tempLimit = 0n;
      line.tempExpiry = 0n;
    }
  }

  onLineFrozen(a: AccountR, e: TimedEvent): void {
    this.setFrozen(a, e, true);
  }

  onLineUnfrozen(a: AccountR, e: TimedEvent): void {
    this.whilePaused(a, e, "line unfrozen");
    const frozenBy = this.line(a, Number(e.args.productId));
    this.count("decisions", a.account);
    if (frozenBy.frozen && frozenBy.freezeReason === WRITE_OFF_FREEZE_REASON) {
      this.fail("decisions", e, a.account, `LineUnfrozen at seq ${String(e.args.seq)} lifted a write-off freeze without a decision (only LineReinstated, on a scorer's Reinstate decision, may)`);
    }
    this.setFrozen(a, e, false);
  }

  onLineReinstated(a: AccountR, e: TimedEvent): void {
    const d = this.checkDecision(a, e, true, DecisionPurpose.Reinstate, ZeroHash);
    this.whilePaused(a, e, "line reinstated");
    const line = this.line(a, d.productId);
    this.count("balances", a.account);
    if (!line.granted) this.fail("limits", e, a.account, `LineReinstated on product ${d.productId}, which has no line on this account`);
    if (!line.frozen) this.fail("balances", e, a.account, `the line was not frozen`);
    line.frozen = false;
    line.freezeReason = 0;
  }

  private setFrozen(a: AccountR, e: TimedEvent, frozen: boolean): void {
    const line = this.line(a, Number(e.args.productId));
    this.count("balances", a.account);
    if (!line.granted) this.fail("limits", e, a.account, `${e.name} on product ${line.productId}, which has no line on this account`);
    if (line.frozen === frozen) this.fail("balances", e, a.account, `the line was already ${frozen ? "frozen" : "unfrozen"}`);
    line.frozen = frozen;
    line.freezeReason = Number(e.args.reasonCode);
  }

  onDrawn(a: AccountR, e: TimedEvent): void {
    const loanNo = Number(e.args.loanNo);
    const terms = termsFromFields(e.args.terms as Record<string, unknown>);
    const amount = terms.principal;
    const product = this.products.get(terms.productId);
    const line = this.line(a, terms.productId);
    const tier = this.tiers.get(a.tier);

    // limits: the line, the tier cap, the exposure cap, frozen, paused, product
    this.count("limits", a.account);
    const limitProblems: string[] = [];
    if (this.paused) limitProblems.push("drawn while the ledger was paused");
    if (!line.granted) limitProblems.push(`no line of product ${terms.productId} was granted`);
    if (line.frozen) limitProblems.push(`drawn on a frozen line (reason ${line.freezeReason})`);
    if (!product?.active) limitProblems.push(`product ${terms.productId} was not active`);
    const room = drawdownRoom(line, a, tier, e.timestamp);
    if (amount > room.lineAvailable) {
      limitProblems.push(`${amount} fen above the line's available ${room.lineAvailable} (limit in force ${room.limitInForce}, used ${line.used})`);
    }
    if (amount > room.exposureAvailable) {
      limitProblems.push(`${amount} fen above the exposure cap's available ${room.exposureAvailable} (cap ${room.exposureCap}, used ${a.used})`);
    }
    if (amount === 0n) limitProblems.push("a zero drawdown");
    if (limitProblems.length > 0) this.fail("limits", e, a.account, `loan ${loanNo}: ${limitProblems.join("; ")}`, loanNo);

    // charges: the terms are what the product and line give at this block
    this.count("charges", a.account);
    if (product) {
      const expected = drawdownTerms(terms.productId, product, line, { amount: terms.principal, periods: terms.periods, method: terms.method }, e.timestamp);
      const diff = expected ? differences(terms as never, expected as never, TERM_FIELDS) : [`${terms.periods} periods (${RepaymentMethod[terms.method] ?? terms.method}) are not allowed by product ${terms.productId}`];
      if (diff.length > 0) this.fail("charges", e, a.account, `loan ${loanNo} terms differ from the product's: ${diff.join("; ")}`, loanNo);
    }

    // cost ceiling
    this.count("cost-ceiling", a.account);
    if (terms.periods < 1) {
      this.fail("cost-ceiling", e, a.account, `loan ${loanNo} has ${terms.periods} periods: its cost cannot be evaluated`, loanNo);
    } else if (product && terms.penaltyPpmPerDay * DAYS_PER_YEAR > product.costCeilingPpmPerYear) {
      this.fail("cost-ceiling", e, a.account, `loan ${loanNo}'s penalty ${terms.penaltyPpmPerDay} ppm/day is above product ${terms.productId}'s ceiling of ${product.costCeilingPpmPerYear} ppm/year`, loanNo);
    } else if (product && !withinCostCeiling(terms, product.costCeilingPpmPerYear)) {
      this.fail("cost-ceiling", e, a.account, `loan ${loanNo} costs more than product ${terms.productId}'s ceiling of ${product.costCeilingPpmPerYear} ppm/year`, loanNo);
    }

    this.count("balances", a.account);
    if (loanNo !== a.loanCount + 1) this.fail("balances", e, a.account, `loan number ${loanNo}, expected ${a.loanCount + 1}`, loanNo);
    a.loanCount = Math.max(a.loanCount + 1, loanNo);
    a.used += amount;
    line.used += amount;
    a.loans.set(loanNo, {
      loanNo,
      productId: terms.productId,
      terms,
      state: emptyState(),
      drawnAt: e.timestamp,
      drawnBlock: e.blockNumber,
      drawnTx: e.txHash,
      principalDrawn: amount,
    });
  }

  onRefunded(a: AccountR, e: TimedEvent): void {
    const loan = this.loan(a, e);
    if (!loan) return;
    const day = this.checkDay(a, e, loan);
    const amount = big(e.args.amount);
    const product = this.products.get(loan.productId);
    if (product && product.kind !== ProductKind.PayLater) this.fail("charges", e, a.account, `a refund on loan ${loan.loanNo}, which is not a purchase`, loan.loanNo);
    let result;
    try {
      if (loan.state.status !== LoanStatus.Active) throw new RangeError(`loan ${loan.loanNo} is ${LoanStatus[loan.state.status]}`);
      result = applyRefund(loan.terms, loan.state, day, amount);
    } catch (error) {
      this.fail("charges", e, a.account, `refund of ${amount} fen on loan ${loan.loanNo} is not possible: ${(error as Error).message}`, loan.loanNo);
      return;
    }
    if (result.feeWaived !== big(e.args.feeWaived)) {
      this.fail("charges", e, a.account, `refund on loan ${loan.loanNo} waived ${String(e.args.feeWaived)} fen of fee; the shared math gives ${result.feeWaived}`, loan.loanNo);
    }
    this.refundAccruals.set(`${e.txHash}:${e.logIndex}`, {
      interest: result.state.interestOwed - loan.state.interestOwed,
      penalty: result.state.penaltyOwed - loan.state.penaltyOwed,
    });
    loan.state = result.state;
    this.release(a, loan.productId, amount);
  }

  onRepaid(a: AccountR, e: TimedEvent): void {
    const loan = this.loan(a, e);
    if (!loan) return;
    const day = this.checkDay(a, e, loan);
    const amount = big(e.args.amount);
    let result;
    try {
      if (loan.state.status === LoanStatus.Closed) throw new RangeError(`loan ${loan.loanNo} was closed`);
      result = applyRepayment(loan.terms, loan.state, day, amount);
    } catch (error) {
      this.fail("charges", e, a.account, `repayment of ${amount} fen on loan ${loan.loanNo} is not possible: ${(error as Error).message}`, loan.loanNo);
      return;
    }
    const claimed = e.args.allocation as Record<string, unknown>;
    const problems = differences(claimed, result.allocation as unknown as Record<string, unknown>, ALLOCATION_FIELDS);
    if (big(e.args.interestAccrued) !== result.interestAccrued) {
      problems.unshift(`interest charged ${String(e.args.interestAccrued)} fen, the shared math gives ${result.interestAccrued}`);
    }
    if (big(e.args.penaltyAccrued) !== result.penaltyAccrued) {
      problems.unshift(`penalty charged ${String(e.args.penaltyAccrued)} fen, the shared math gives ${result.penaltyAccrued}`);
    }
    if (Number(e.args.status) !== result.state.status) {
      problems.push(`status ${LoanStatus[Number(e.args.status)]}, expected ${LoanStatus[result.state.status]}`);
    }
    if (problems.length > 0) {
      this.fail("charges", e, a.account, `repayment of ${amount} fen on loan ${loan.loanNo} (penalty, fees, interest, overdue, current, prepaid): ${problems.join("; ")}`, loan.loanNo);
    }
    this.release(a, loan.productId, allocatedPrincipal(result.allocation)); // recoveries on a written-off loan too
    loan.state = result.state;
  }

  onRestructured(a: AccountR, e: TimedEvent): void {
    // The scorer's decision for exactly these terms (purpose Restructure, subject the terms).
    const terms = e.args.newTerms as Record<string, unknown>;
    const subject = restructureSubject(Number(e.args.loanNo), Number(terms.periods), Number(e.args.holidayDays), big(terms.ratePpmPerDay));
    this.checkDecision(a, e, true, DecisionPurpose.Restructure, subject);
    const loan = this.loan(a, e);
    if (!loan) return;
    this.count("balances", a.account);
    const previous = termsFromFields(e.args.previousTerms as Record<string, unknown>);
    const diff = differences(previous as never, loan.terms as never, TERM_FIELDS);
    if (diff.length > 0) this.fail("balances", e, a.account, `previous terms of loan ${loan.loanNo} disagree with the replay: ${diff.join("; ")}`, loan.loanNo);
    const claimed = termsFromFields(e.args.newTerms as Record<string, unknown>);
    this.count("charges", a.account);
    if (loan.state.status !== LoanStatus.Active) {
      this.fail("charges", e, a.account, `restructure of loan ${loan.loanNo}, which is ${LoanStatus[loan.state.status]}`, loan.loanNo);
      return;
    }
    const holidayDays = big(e.args.holidayDays);
    const budget = restructureBudgetRefusal(loan.state, holidayDays);
    const r = applyRestructure(loan.terms, loan.state, e.timestamp, claimed.periods, holidayDays, claimed.ratePpmPerDay);
    if (claimed.periods < 1) {
      this.fail("charges", e, a.account, `restructure of loan ${loan.loanNo} to ${claimed.periods} periods`, loan.loanNo);
      return;
    }
    if (r.terms.principal === 0n) {
      this.fail("charges", e, a.account, `restructure of loan ${loan.loanNo}, which has no principal left (the ledger refuses it)`, loan.loanNo);
      return;
    }
    const problems = differences(claimed as never, r.terms as never, TERM_FIELDS);
    if (big(e.args.interestAccrued) !== r.interestAccrued) problems.push(`interest charged ${String(e.args.interestAccrued)} fen, the shared math gives ${r.interestAccrued}`);
    if (big(e.args.penaltyAccrued) !== r.penaltyAccrued) problems.push(`penalty charged ${String(e.args.penaltyAccrued)} fen, the shared math gives ${r.penaltyAccrued}`);
    if (claimed.ratePpmPerDay > loan.terms.ratePpmPerDay) problems.push(`the rate went up from ${loan.terms.ratePpmPerDay} to ${claimed.ratePpmPerDay} ppm/day`);
    const lastDue = (t: LoanTerms) => t.startTime + (t.firstDueDay + PERIOD_DAYS * BigInt(t.periods - 1)) * 86_400n;
    if (lastDue(r.terms) < lastDue(loan.terms)) problems.push(`the schedule was shortened`);
    if (claimed.periods < 1 || claimed.periods > MAX_RESTRUCTURE_PERIODS) problems.push(`${claimed.periods} periods (1..${MAX_RESTRUCTURE_PERIODS} allowed)`);
    if (big(e.args.holidayDays) > MAX_HOLIDAY_DAYS) problems.push(`a payment holiday of ${String(e.args.holidayDays)} days (at most ${MAX_HOLIDAY_DAYS})`);
    if (budget?.error === "RestructureLimitReached") problems.push(`restructure number ${budget.restructures + 1n} of the loan (at most ${budget.max})`);
    if (budget?.error === "HolidayDaysExceeded") problems.push(`a payment holiday of ${budget.requested} days with ${budget.remaining} left of the loan's ${MAX_TOTAL_HOLIDAY_DAYS}`);
    if (r.terms.periods >= 1) {
      // The payoff never rises through a restructure (the fee is re-based on what is owed now).
      const before = positionOnDay(loan.terms, loan.state, dayOf(loan.terms, e.timestamp)).payoff;
      const after = positionOnDay(claimed, r.state, 0n).payoff;
      if (after > before) problems.push(`the payoff rose from ${before} to ${after} fen`);
    }
    if (problems.length > 0) this.fail("charges", e, a.account, `restructure of loan ${loan.loanNo}: ${problems.join("; ")}`, loan.loanNo);
    // Days past due are never reset silently: the event says how many it cleared.
    if (big(e.args.daysPastDueCleared) !== r.daysPastDueCleared) {
      this.fail("balances", e, a.account, `restructure of loan ${loan.loanNo} says it cleared ${String(e.args.daysPastDueCleared)} days past due; the replay has ${r.daysPastDueCleared}`, loan.loanNo);
    }
    this.count("cost-ceiling", a.account);
    const product = this.products.get(claimed.productId);
    if (product && claimed.periods >= 1 && !withinCostCeiling(claimed, product.costCeilingPpmPerYear)) {
      this.fail("cost-ceiling", e, a.account, `loan ${loan.loanNo}'s restructured terms cost more than product ${claimed.productId}'s ceiling of ${product.costCeilingPpmPerYear} ppm/year`, loan.loanNo);
    }
    if (r.terms.periods < 1) return; // terms no schedule can be computed from: keep the loan as it was
    loan.terms = r.terms;
    loan.state = r.state;
  }

  onWrittenOff(a: AccountR, e: TimedEvent): void {
    const loan = this.loan(a, e);
    if (!loan) return;
    const product = this.products.get(loan.productId);
    const day = dayOf(loan.terms, e.timestamp);
    const dpd = daysPastDue(loan.terms, loan.state, day);
    this.count("limits", a.account);
    this.count("charges", a.account);
    this.count("balances", a.account);
    if (loan.state.status !== LoanStatus.Active) {
      this.fail("balances", e, a.account, `write-off of loan ${loan.loanNo}, which is ${LoanStatus[loan.state.status]}`, loan.loanNo);
      return;
    }
    // The loan's own threshold (its terms, fixed at drawdown and checked against the product
    // then), not the product's today: a lowered product threshold does not reach back.
    const threshold = loan.terms.writeOffDays;
    if (threshold === 0n || dpd < threshold) {
      this.fail("limits", e, a.account, `loan ${loan.loanNo} written off at ${dpd} days past due; its terms allow it from ${threshold === 0n ? "never" : `${threshold} days`}`, loan.loanNo);
    }
    const c = checkpoint(loan.terms, loan.state, day);
    const problems: string[] = [];
    if (big(e.args.daysPastDue) !== dpd) problems.push(`days past due ${String(e.args.daysPastDue)}, the shared math gives ${dpd}`);
    if (big(e.args.interestAccrued) !== c.interestOwed - loan.state.interestOwed) problems.push(`interest charged ${String(e.args.interestAccrued)} fen, the shared math gives ${c.interestOwed - loan.state.interestOwed}`);
    if (big(e.args.penaltyAccrued) !== c.penaltyOwed - loan.state.penaltyOwed) problems.push(`penalty charged ${String(e.args.penaltyAccrued)} fen, the shared math gives ${c.penaltyOwed - loan.state.penaltyOwed}`);
    if (problems.length > 0) this.fail("charges", e, a.account, `write-off of loan ${loan.loanNo}: ${problems.join("; ")}`, loan.loanNo);
    const principal = loan.terms.principal - loan.state.principalSettled;
    if (big(e.args.principalWrittenOff) !== principal) {
      this.fail("balances", e, a.account, `loan ${loan.loanNo}: ${String(e.args.principalWrittenOff)} fen written off, the replay has ${principal} outstanding`, loan.loanNo);
    }
    const line = this.line(a, loan.productId);
    if (Boolean(e.args.lineFrozen) !== !line.frozen) this.fail("balances", e, a.account, `lineFrozen=${String(e.args.lineFrozen)} but the line was ${line.frozen ? "" : "not "}frozen`, loan.loanNo);
    // The written-off principal stays in usage until recovered (see ICreditLedger.writeOff).
    line.frozen = true;
    line.freezeReason = WRITE_OFF_FREEZE_REASON;
    loan.state = { ...c, status: LoanStatus.WrittenOff };
  }

  // -------------------------------------------------------------- the views at the end

  private compareViews(): void {
    for (const [account, errors] of Object.entries(this.history.viewErrors ?? {})) {
      for (const error of errors) this.fail("balances", undefined, account.toLowerCase(), `the ledger could not answer its own view: ${error}`);
    }
    for (const [account, views] of Object.entries(this.history.views)) {
      const a = this.accountState(account.toLowerCase());
      const v = views.account;
      if (v.seq === undefined) continue; // accountOf failed: reported above
      // the chain must end at the on-chain seq and head
      if (big(v.seq) !== a.seq || low(v.head) !== a.head.toLowerCase()) {
        this.fail(
          "hash-chain",
          undefined,
          a.account,
          `the events end at seq ${a.seq} head ${a.head}; the ledger says seq ${String(v.seq)} head ${String(v.head)}${big(v.seq) > a.seq ? ` (entries ${a.seq + 1n}..${String(v.seq)} have no event in the blocks read)` : ""}`
        );
      }
      this.count("balances", a.account);
      const accountDiff = differences(
        { exists: v.exists, tier: v.tier, exposureCap: v.exposureCap, used: v.used, decisionNonce: v.decisionNonce, loanCount: v.loanCount },
        { exists: a.opened, tier: a.tier, exposureCap: a.exposureCap, used: a.used, decisionNonce: a.decisionNonce, loanCount: a.loanCount },
        ["exists", "tier", "exposureCap", "used", "decisionNonce", "loanCount"]
      );
      if (accountDiff.length > 0) this.fail("balances", undefined, a.account, `the ledger's accountOf disagrees with the replay: ${accountDiff.join("; ")}`);
      for (const [productId, lineView] of Object.entries(views.lines)) {
        this.count("balances", a.account);
        const line = this.line(a, Number(productId));
        const diff = differences(lineView, line as unknown as Record<string, unknown>, LINE_FIELDS);
        if (diff.length > 0) this.fail("balances", undefined, a.account, `the ledger's lineOf(product ${productId}) disagrees with the replay: ${diff.join("; ")}`);
      }
      for (const [loanNo, loanView] of Object.entries(views.loans)) {
        this.count("balances", a.account);
        const loan = a.loans.get(Number(loanNo));
        if (!loan) {
          this.fail("balances", undefined, a.account, `the ledger holds loan ${loanNo}, which no Drawn event created`, Number(loanNo));
          continue;
        }
        const diff = [
          ...differences(termsFromFields(loanView.terms) as never, loan.terms as never, TERM_FIELDS),
          ...differences(stateFromFields(loanView.state) as never, loan.state as never, STATE_FIELDS),
        ];
        if (diff.length > 0) this.fail("balances", undefined, a.account, `the ledger's loanOf(${loanNo}) disagrees with the replay: ${diff.join("; ")}`, Number(loanNo));
      }
    }
  }
}

type EntryHandler = (this: Replayer, a: AccountR, e: TimedEvent) => void;
const ENTRY_HANDLERS: Record<string, EntryHandler> = {
  AccountOpened: Replayer.prototype.onAccountOpened,
  ExposureCapChanged: Replayer.prototype.onExposureCapChanged,
  DecisionDeclined: Replayer.prototype.onDecisionDeclined,
  LineGranted: Replayer.prototype.onLineGranted,
  LimitIncreased: Replayer.prototype.onLimitIncreased,
  LimitCut: Replayer.prototype.onLimitCut,
  LineFrozen: Replayer.prototype.onLineFrozen,
  LineUnfrozen: Replayer.prototype.onLineUnfrozen,
  Drawn: Replayer.prototype.onDrawn,
  Refunded: Replayer.prototype.onRefunded,
  Repaid: Replayer.prototype.onRepaid,
  Restructured: Replayer.prototype.onRestructured,
  WrittenOff: Replayer.prototype.onWrittenOff,
  LineReinstated: Replayer.prototype.onLineReinstated,
};



/** Replay a history (pure). */
export function replay(history: LedgerHistory): Replay {
  return new Replayer(history).run();
}

