/**
 * Changes to a drawn loan: merchant refunds, repayments, hardship restructures and write-offs
 * past the product's threshold. Each
 * `prepare*` resolves the loan id, pre-flights the ledger call and returns the operation to
 * accept; each `present*` builds its response body from the request-time facts and, once the
 * step landed, the decoded entry (the Refunded fee waived, the Repaid allocation, the
 * Restructured terms, the WrittenOff amounts).
 */
import type { z } from "zod";

import { allocationFromFields, bigField, boolField, numField, structField, termsFromFields } from "../../core/ledger-structs";
import type { LoanStatus } from "../../core/loan-math";
import { LOAN_STATUS_NAMES, productNameOf, type ProductName } from "../../core/names";
import { quote } from "../../core/pricing";
import type { LedgerClient } from "../chain/ledger-client";
import type { RefundResponse, RepaymentResponse, RestructureRequest, RestructureResponse, WriteOffResponse } from "../schemas/lending";
import type { OperationRecord, Store } from "../store/store";
import { loanIdOf, resolveLoanId, type LoanKey } from "./loan-ids";
import { landedResult, summarize, type PreparedOperation } from "./operations";
import { chainRead, type Preflight } from "./preflight";
import type { ProductCatalog } from "./products";
import type { ScorerDecisions } from "./scorer-decisions";
import { OPERATOR, type Viewer } from "./reach";

export type RestructureInput = z.output<typeof RestructureRequest>;

export interface LoanAmountContext extends LoanKey {
  amount: bigint;
}

/** A write-off: the loan and its line's product (the line the write-off freezes). */
export interface WriteOffContext extends LoanKey {
  product: ProductName;
}

export interface RestructureContext extends LoanKey, RestructureInput {
  dailyRatePpm: bigint;
}


/** A repayment or refund names its loan: the ledger's account is the request's `loanId`. */
export const LOAN_FIELD: Record<string, string> = { accountId: "loanId" };

export class LoanChanges {
  constructor(
    private readonly client: LedgerClient,
    private readonly store: Store,
    private readonly products: ProductCatalog,
    private readonly preflight: Preflight,
    private readonly scorerDecisions: ScorerDecisions
  ) {}

  prepareRefund(loanId: string, amount: bigint, viewer: Viewer = OPERATOR): Promise<PreparedOperation<LoanAmountContext>> {
    return this.prepareLoanAmount("refund", "refund", loanId, amount, viewer);
  }

  presentRefund(context: LoanAmountContext, op: OperationRecord): z.output<typeof RefundResponse> {
    const refunded = landedResult(op, "refund");
    return { loanId: loanIdOf(context), amount: context.amount, feeWaived: refunded ? bigField(refunded, "feeWaived") : null, operation: summarize(op) };
  }

  prepareRepayment(loanId: string, amount: bigint, viewer: Viewer = OPERATOR): Promise<PreparedOperation<LoanAmountContext>> {
    return this.prepareLoanAmount("repay", "repayment", loanId, amount, viewer);
  }

  presentRepayment(context: LoanAmountContext, op: OperationRecord): z.output<typeof RepaymentResponse> {
    const repaid = landedResult(op, "repay");
    return {
      loanId: loanIdOf(context),
      amount: context.amount,
      allocation: repaid ? allocationFromFields(structField(repaid, "allocation")) : null,
      loanStatus: repaid ? LOAN_STATUS_NAMES[numField(repaid, "status") as LoanStatus] : null,
      operation: summarize(op),
    };
  }

  /** A refund or a repayment: one ledger call with an amount against one loan, pre-flighted. */
  private async prepareLoanAmount(
    fn: "refund" | "repay",
    kind: "refund" | "repayment",
    loanId: string,
    amount: bigint,
    viewer: Viewer
  ): Promise<PreparedOperation<LoanAmountContext>> {
    const key = await resolveLoanId(this.store, loanId, viewer);
    const call = { fn, account: key.accountId, loanNo: key.loanNo, amount };
    // The request names the loan, not the account: an unknown account is its loanId's fault.
    await this.preflight.check(call, { viewer, fieldAliases: LOAN_FIELD });
    return { kind, accountId: key.accountId, calls: [call], context: { ...key, amount } };
  }

  /**
   * A write-off of a loan past its product's `writeOffDays` (the ledger's `WriteOffTooEarly`
   * otherwise): what is owed stays owed and in the line's usage until recovered, and the line is
   * frozen with reason 0xFFFF, which only a reinstatement lifts.
   */
  async prepareWriteOff(loanId: string): Promise<PreparedOperation<WriteOffContext>> {
    const key = await resolveLoanId(this.store, loanId);
    const call = { fn: "writeOff" as const, account: key.accountId, loanNo: key.loanNo };
    await this.preflight.check(call, { fieldAliases: LOAN_FIELD });
    const loan = await chainRead(() => this.client.loanOf(key.accountId, key.loanNo));
    const product = productNameOf(Number(loan.terms.productId));
    if (product === undefined) throw new Error(`loan ${loanId} is of product ${loan.terms.productId}, which the gateway does not know`);
    return { kind: "write_off", accountId: key.accountId, calls: [call], context: { ...key, product } };
  }

  presentWriteOff(context: WriteOffContext, op: OperationRecord): z.output<typeof WriteOffResponse> {
    const w = landedResult(op, "writeOff");
    return {
      loanId: loanIdOf(context),
      principalWrittenOff: w ? bigField(w, "principalWrittenOff") : null,
      interestAccrued: w ? bigField(w, "interestAccrued") : null,
      penaltyAccrued: w ? bigField(w, "penaltyAccrued") : null,
      daysPastDue: w ? numField(w, "daysPastDue") : null,
      lineFrozen: w ? boolField(w, "lineFrozen") : null,
      operation: summarize(op),
    };
  }

  async prepareRestructure(loanId: string, input: RestructureInput): Promise<PreparedOperation<RestructureContext>> {
    const key = await resolveLoanId(this.store, loanId);
    let rate = input.dailyRatePpm;
    if (rate === undefined) {
      const loan = await chainRead(() => this.client.loanOf(key.accountId, key.loanNo)).catch(() => undefined);
      rate = loan ? loan.terms.ratePpmPerDay : 0n;
    }
    const call = {
      fn: "restructure" as const,
      account: key.accountId,
      loanNo: key.loanNo,
      newPeriods: input.periods,
      holidayDays: input.holidayDays,
      newRatePpmPerDay: rate,
    };
    await this.preflight.check(call, { fieldAliases: { ...LOAN_FIELD, newPeriods: "periods", holidayDays: "holidayDays", newRatePpmPerDay: "dailyRatePpm" } });
    // The ledger restructures only on the scorer's decision for exactly these terms; the sender has it signed just before sending.
    const loan = await chainRead(() => this.client.loanOf(key.accountId, key.loanNo));
    const product = productNameOf(Number(loan.terms.productId));
    if (product === undefined) throw new Error(`loan ${loanId} is of product ${loan.terms.productId}, which the gateway does not know`);
    const scored = await this.scorerDecisions.decideRestructure({ accountId: key.accountId, product, loanNo: key.loanNo, newPeriods: input.periods, holidayDays: input.holidayDays, newRatePpmPerDay: rate });
    const approved = { ...call, approval: { id: scored.id, draft: scored.decision } };
    return { kind: "restructure", accountId: key.accountId, calls: [approved], context: { ...key, ...input, dailyRatePpm: rate } };
  }

  async presentRestructure(context: RestructureContext, op: OperationRecord): Promise<z.output<typeof RestructureResponse>> {
    const restructured = landedResult(op, "restructure");
    let schedule: z.output<typeof RestructureResponse>["schedule"] = null;
    if (restructured) {
      const terms = termsFromFields(structField(restructured, "newTerms"));
      schedule = quote(terms, (await this.products.byId(terms.productId)).costCeilingPpmPerYear).schedule;
    }
    return {
      loanId: loanIdOf(context),
      periods: context.periods,
      holidayDays: context.holidayDays,
      dailyRatePpm: context.dailyRatePpm,
      schedule,
      operation: summarize(op),
    };
  }
}
