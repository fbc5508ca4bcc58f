/**
 * Accounts as the read model shows them: an account's lines, limits, loans, outstanding, next
 * due and delinquency; its history verified against its on-chain head; one loan's terms,
 * schedule, payments and position; and deleting the person behind an account from the vault.
 * Each read builds its response body (the schemas' output types, server/schemas/accounts.ts)
 * with the core's math, from what the indexer read from the chain. A partner sees only accounts
 * linked to it, and on them the lines and limits and only its own loans and entries (reach.ts);
 * what it may not see answers as an unknown id.
 */
import type { z } from "zod";

import { verifyChain } from "../../core/hash-chain";
import { jsonValue } from "../../core/json";
import { allocatedPrincipal, delinquencyBucket, installmentStandings, LoanStatus, positionAt } from "../../core/loan-math";
import { allocationFromFields, bigField, numField, structField } from "../../core/ledger-structs";
import { effectiveLimit, lineAvailable, temporaryInForce } from "../../core/limits";
import { LOAN_STATUS_NAMES, METHOD_NAMES, productNameOf } from "../../core/names";
import { nowSeconds, type Clock } from "../clock";
import { DomainError } from "../errors";
import type { AccountResponse, HistoryResponse, LoanResponse } from "../schemas/accounts";
import type { LoanSnapshot, Store } from "../store/store";
import type { Vault } from "../vault/vault";
import { loanIdOf, resolveLoanId } from "./loan-ids";
import { accountNotFound, OPERATOR, type Reach, type Viewer } from "./reach";

export type AccountView = z.output<typeof AccountResponse>;
export type HistoryView = z.output<typeof HistoryResponse>;
export type LoanDetailView = z.output<typeof LoanResponse>;
type LoanSummaryView = AccountView["loans"][number];
type LineView = AccountView["lines"][number];

export class Accounts {
  constructor(
    private readonly store: Store,
    private readonly vault: Vault,
    private readonly reach: Reach,
    private readonly clock: Clock
  ) {}

  async view(accountId: string, at?: bigint, viewer: Viewer = OPERATOR): Promise<AccountView> {
    const snapshot = (await this.reach.account(viewer, accountId)) ? await this.store.accountSnapshot(accountId) : undefined;
    if (!snapshot) throw accountNotFound(accountId);
    const time = at ?? nowSeconds(this.clock);
    const a = snapshot.account;
    const lines = (await this.store.linesOf(accountId)).map(({ productId, line }): LineView => {
      const temporary = temporaryInForce(line, time);
      return {
        product: productNameOf(productId) ?? "pay_later",
        productId,
        limit: line.limit,
        effectiveLimit: effectiveLimit(line, time),
        temporaryLimit: temporary ? line.tempLimit : null,
        temporaryUntil: temporary ? line.tempExpiry : null,
        used: line.used,
        available: lineAvailable(line, time),
        dailyRatePpm: line.ratePpmPerDay,
        frozen: line.frozen,
        freezeReasonCode: line.frozen ? line.freezeReason : null,
      };
    });
    const visible = await this.reach.visibleLoans(viewer, accountId);
    const loans = (await this.store.loansOf(accountId)).filter((l) => !visible || visible.has(l.loanNo)).map((l) => loanSummary(l, time));
    const active = loans.filter((l) => l.status === "active");
    const dueTimes = active.flatMap((l) => (l.nextDueTime !== null && l.amountDue > 0n ? [l.nextDueTime] : []));
    const daysPastDue = active.reduce((m, l) => (l.daysPastDue > m ? l.daysPastDue : m), 0n);
    return {
      accountId,
      tier: a.tier,
      exposureCap: a.exposureCap,
      used: a.used,
      seq: a.seq,
      head: a.head,
      lines,
      loans,
      outstanding: {
        principal: active.reduce((s, l) => s + l.principalOutstanding, 0n),
        payoff: active.reduce((s, l) => s + l.payoff, 0n),
      },
      nextDue:
        dueTimes.length === 0
          ? null
          : { time: dueTimes.reduce((m, t) => (t < m ? t : m)), amount: active.reduce((s, l) => s + l.amountDue, 0n) },
      delinquency: { daysPastDue, bucket: delinquencyBucket(daysPastDue) },
      asOf: time,
      indexedBlock: snapshot.block,
    };
  }

  /**
   * The account's chain, checked against the account's on-chain seq and head: every entry for
   * the operator; a partner's own entries (each with its seq and head, checkable against the
   * chain), the whole chain still verified here.
   */
  async history(accountId: string, viewer: Viewer = OPERATOR): Promise<HistoryView> {
    const snapshot = (await this.reach.account(viewer, accountId)) ? await this.store.accountSnapshot(accountId) : undefined;
    if (!snapshot) throw accountNotFound(accountId);
    const all = await this.store.entriesOf(accountId);
    const { seq, head } = snapshot.account;
    const check = verifyChain(all, { seq, head });
    const filter = await this.reach.entryFilter(viewer, accountId);
    const entries = filter ? all.filter(filter) : all;
    return {
      accountId,
      seq,
      head,
      verified: check.ok,
      verification: check.ok ? `chain of ${all.length} entries ends at seq ${seq} and the account's head` : check.reason,
      entries: entries.map((e) => ({
        seq: e.seq,
        kind: e.name,
        head: e.head,
        payloadHash: e.payloadHash,
        ref: e.ref,
        txHash: e.txHash,
        blockNumber: e.blockNumber,
        logIndex: e.logIndex,
        fields: jsonValue(e.args) as Record<string, unknown>,
      })),
    };
  }

  async loan(loanId: string, at?: bigint, viewer: Viewer = OPERATOR): Promise<LoanDetailView> {
    const key = await resolveLoanId(this.store, loanId, viewer);
    const snapshot = (await this.reach.loan(viewer, key)) ? await this.store.loanSnapshot(key.accountId, key.loanNo) : undefined;
    if (!snapshot) throw new DomainError("loan-not-found", `no loan ${loanId} on the ledger (yet)`, { field: "loanId" });
    const time = at ?? nowSeconds(this.clock);
    const { terms, state } = snapshot;
    const position = positionAt(terms, state, time);
    const paid = { penalty: 0n, fee: 0n, interest: 0n, principal: 0n, total: 0n };
    let refunded = 0n;
    for (const e of await this.store.entriesOf(key.accountId)) {
      if (e.args.loanNo === undefined || numField(e.args, "loanNo") !== key.loanNo) continue;
      if (e.name === "Repaid") {
        const a = allocationFromFields(structField(e.args, "allocation"));
        paid.penalty += a.penalty;
        paid.fee += a.fee;
        paid.interest += a.interest;
        paid.principal += allocatedPrincipal(a);
        paid.total += bigField(e.args, "amount");
      } else if (e.name === "Refunded") {
        refunded += bigField(e.args, "amount");
      }
    }
    return {
      loanId: loanIdOf(key),
      accountId: key.accountId,
      loanNo: key.loanNo,
      product: productNameOf(terms.productId) ?? "pay_later",
      status: LOAN_STATUS_NAMES[state.status],
      terms: {
        principal: terms.principal,
        startTime: terms.startTime,
        periods: terms.periods,
        method: METHOD_NAMES[terms.method],
        dailyRatePpm: terms.ratePpmPerDay,
        penaltyPpmPerDay: terms.penaltyPpmPerDay,
        totalFee: terms.totalFee,
        firstDueDay: terms.firstDueDay,
      },
      schedule: installmentStandings(terms, state, time).map((p) => ({
        period: p.period,
        dueTime: p.dueTime,
        principal: p.principal,
        fee: p.fee,
        principalPaid: p.principalPaid,
        feePaid: p.feePaid,
        status:
          p.settled || state.status === LoanStatus.Closed
            ? "paid"
            : p.daysOverdue > 0n
              ? "overdue"
              : p.current
                ? p.principalPaid > 0n || p.feePaid > 0n
                  ? "partly_paid"
                  : "due"
                : "upcoming",
      })),
      paid,
      refunded,
      position,
      delinquency: state.status === LoanStatus.Active ? delinquencyBucket(position.daysPastDue) : "current",
      asOf: time,
    };
  }

  /** Deletes the person behind the account from the vault. */
  async forget(accountId: string): Promise<void> {
    if (!(await this.vault.forget(accountId))) {
      throw new DomainError("identity-not-found", `the vault holds no person for account ${accountId}`, { field: "accountId" });
    }
  }
}

function loanSummary(l: LoanSnapshot, time: bigint): LoanSummaryView {
  const p = positionAt(l.terms, l.state, time);
  return {
    loanId: loanIdOf(l),
    loanNo: l.loanNo,
    product: productNameOf(l.productId) ?? "pay_later",
    status: LOAN_STATUS_NAMES[l.state.status],
    principal: l.terms.principal,
    principalOutstanding: p.principalOutstanding,
    amountDue: p.amountDue,
    payoff: p.payoff,
    nextDueTime: p.nextDueTime === 0n ? null : p.nextDueTime,
    daysPastDue: p.daysPastDue,
  };
}
