/**
 * What a partner may reach (docs/API.md, "Partners are tenants"). One identity is one account,
 * whichever partner the borrower came through; a partner reaches an account only through a
 * link made when the borrower applied through it, sees the account's lines and limits, and
 * only its own loans, operations and history entries. The operator's keys (auditor, admin)
 * reach everything.
 *
 * What a partner may not reach answers exactly as an unknown id does: the checks here throw
 * the very error the unknown case gets (the ledger's `UnknownAccount` / `UnknownLoan` refusal
 * for a write, the read's not-found), so no answer tells "forbidden" from "not there".
 */
import type { ProductName } from "../../core/names";
import type { LedgerCall } from "../chain/ledger-calls";
import { accountOfCall } from "../chain/ledger-calls";
import { DomainError, LedgerRefusal } from "../errors";
import type { OperationRecord, Store } from "../store/store";
import type { LoanKey } from "./loan-ids";
import type { Viewer } from "./viewer";

export { OPERATOR, type Viewer } from "./viewer";

/** The ledger's answer for an account it does not hold (what pre-flight would decode). */
export const unknownAccount = (accountId: string, fieldAliases?: Record<string, string>): LedgerRefusal =>
  new LedgerRefusal({ name: "UnknownAccount", args: { account: accountId }, data: "0x" }, fieldAliases);

/** The ledger's answer for a loan an account does not hold. */
export const unknownLoan = (key: LoanKey, fieldAliases?: Record<string, string>): LedgerRefusal =>
  new LedgerRefusal({ name: "UnknownLoan", args: { account: key.accountId, loanNo: BigInt(key.loanNo) }, data: "0x" }, fieldAliases);

/** The read's answer for an account the read model does not hold. */
export const accountNotFound = (accountId: string): DomainError =>
  new DomainError("account-not-found", `no account ${accountId} on the ledger (yet)`, { field: "accountId" });

export class Reach {
  constructor(private readonly store: Store) {}

  /** A partner may apply for, quote and draw only the products the operator allows it. */
  requireProduct(viewer: Viewer, product: ProductName): void {
    if (viewer.products === undefined || viewer.products.includes(product)) return;
    throw new DomainError("product-not-allowed", `this partner may not offer ${product}: ask the operator to allow it`, { field: "product" });
  }

  /** Whether the viewer reaches the account (the operator always does). */
  async account(viewer: Viewer, accountId: string): Promise<boolean> {
    return viewer.partnerId === undefined || this.store.isLinked(viewer.partnerId, accountId);
  }

  /** Whether the viewer reaches the loan: its partner's, or the operator. */
  async loan(viewer: Viewer, key: LoanKey): Promise<boolean> {
    return viewer.partnerId === undefined || (await this.store.loanOwner(key.accountId, key.loanNo)) === viewer.partnerId;
  }

  /** Whether the operation is the viewer's. */
  operation(viewer: Viewer, op: Pick<OperationRecord, "partnerId">): boolean {
    return viewer.partnerId === undefined || op.partnerId === viewer.partnerId;
  }

  /**
   * Before a ledger call is simulated: a partner's call on an account it is not linked to, or
   * on a loan that is not its own, is refused as the ledger refuses an unknown account or loan.
   */
  async checkCall(viewer: Viewer, call: LedgerCall, fieldAliases?: Record<string, string>): Promise<void> {
    if (viewer.partnerId === undefined) return;
    const accountId = accountOfCall(call);
    if (!(await this.store.isLinked(viewer.partnerId, accountId))) throw unknownAccount(accountId, fieldAliases);
    if ("loanNo" in call) {
      const key = { accountId, loanNo: call.loanNo };
      if (!(await this.loan(viewer, key))) throw unknownLoan(key, fieldAliases);
    }
  }

  /** The loans of the account the viewer sees (`undefined`: all of them). */
  async visibleLoans(viewer: Viewer, accountId: string): Promise<Set<number> | undefined> {
    if (viewer.partnerId === undefined) return undefined;
    return new Set(await this.store.loansOwnedBy(viewer.partnerId, accountId));
  }

  /**
   * The entries of the account the viewer sees: its own (their refs are its operations'
   * steps') and those of its own loans (a write-off or restructure the operator recorded);
   * `undefined`: all of them.
   */
  async entryFilter(viewer: Viewer, accountId: string): Promise<((e: { ref: string; args: Record<string, unknown> }) => boolean) | undefined> {
    if (viewer.partnerId === undefined) return undefined;
    const refs = new Set((await this.store.refsOf(viewer.partnerId, accountId)).map((r) => r.toLowerCase()));
    const loans = new Set(await this.store.loansOwnedBy(viewer.partnerId, accountId));
    return (e) => refs.has(e.ref.toLowerCase()) || (e.args.loanNo !== undefined && loans.has(Number(e.args.loanNo)));
  }
}
