/**
 * Loan ids at the API: `<accountId>:<loanNo>` (the ledger's own key), or the id of the
 * operation that drew the loan (usable at once, before the loan number is known).
 */
import { MAX_LOAN_NO } from "../../core/names";
import { DomainError } from "../errors";
import type { Store } from "../store/store";
import { landedResult } from "./operations";
import { OPERATOR, type Viewer } from "./viewer";

export interface LoanKey {
  accountId: string;
  loanNo: number;
}

export const loanIdOf = (key: LoanKey): string => `${key.accountId}:${key.loanNo}`;

/**
 * The loan an id names. A draw operation's id resolves only for the partner whose operation it
 * is (`viewer`; another partner's answers as an unknown id).
 */
export async function resolveLoanId(store: Store, loanId: string, viewer: Viewer = OPERATOR, field = "loanId"): Promise<LoanKey> {
  const direct = /^(0x[0-9a-fA-F]{64}):([1-9][0-9]{0,9})$/.exec(loanId);
  if (direct) {
    const loanNo = Number(direct[2]);
    if (loanNo > MAX_LOAN_NO) throw new DomainError("loan-not-found", `no loan ${loanId}`, { field });
    return { accountId: direct[1].toLowerCase(), loanNo };
  }
  const op = /^op_[0-9a-f]{32}$/.test(loanId) ? await store.getOperation(loanId) : undefined;
  const reachable = op !== undefined && (viewer.partnerId === undefined || op.partnerId === viewer.partnerId);
  if (!op || !reachable || (op.kind !== "purchase" && op.kind !== "cash_loan") || op.status === "failed") {
    throw new DomainError("loan-not-found", `no loan ${loanId}`, { field });
  }
  const drawn = landedResult(op, op.kind === "purchase" ? "purchase" : "drawCash");
  if (!drawn) throw new DomainError("loan-pending", `the operation ${loanId} that draws this loan is not confirmed yet`, { field });
  return { accountId: op.accountId, loanNo: Number(drawn.loanNo as bigint) };
}
