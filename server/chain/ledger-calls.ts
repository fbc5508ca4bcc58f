/**
 * The ledger calls the gateway makes, as data: what an outbox step holds. Field names are
 * the ABI's parameter names, so a call's arguments are encoded by looking each parameter up
 * by name (see `LedgerClient.encode`), never by position. Every call also takes the step's
 * `ref` and the `expectedSeq` read when it is signed. A decision call holds the decision the
 * scorer computed and the scorer's id for it (`scorerDecision`); the scorer process completes
 * it with the nonce and deadline and signs it when it is sent, not when it is accepted, and
 * only if the values equal the ones it stored (docs/SCORER.md).
 */
import type { Decision, DecisionDraft } from "../../core/decision";

/**
 * A line decision as accepted: everything but purpose Line, subject zero and the signer's
 * fields (scorer, nonce, issuedAt, deadline), which are set when it is signed.
 */
export type { DecisionDraft };

export type LedgerCall =
  | { fn: "openAccount"; account: string; tier: number; exposureCap: bigint }
  | { fn: "setExposureCap"; account: string; newCap: bigint }
  | { fn: "grantLine" | "recordDecline" | "increaseLimit"; decision: DecisionDraft; scorerDecision: string }
  | { fn: "cutLimit"; account: string; productId: number; newLimit: bigint; reasonCode: number }
  | { fn: "freezeLine" | "unfreezeLine"; account: string; productId: number; reasonCode: number }
  | { fn: "purchase"; account: string; productId: number; amount: bigint; periods: number }
  | { fn: "drawCash"; account: string; productId: number; amount: bigint; periods: number; method: number }
  | { fn: "refund" | "repay"; account: string; loanNo: number; amount: bigint }
  | { fn: "writeOff"; account: string; loanNo: number }
  | {
      fn: "restructure";
      account: string;
      loanNo: number;
      newPeriods: number;
      holidayDays: number;
      newRatePpmPerDay: bigint;
      /** The scorer's restructure decision (purpose Restructure, for exactly these terms): its id and values. */
      approval?: { id: string; draft: DecisionDraft };
    }
  | {
      fn: "reinstateLine";
      account: string;
      productId: number;
      /** The scorer's reinstate decision (purpose Reinstate, approved) for this line: its id and values. */
      approval?: { id: string; draft: DecisionDraft };
    };

export type LedgerFunction = LedgerCall["fn"];
export type DecisionCall = Extract<LedgerCall, { decision: DecisionDraft }>;

export const isDecisionCall = (call: LedgerCall): call is DecisionCall => "decision" in call;

/**
 * A call that authorises itself with a scorer's decision of another purpose (restructure:
 * purpose Restructure; reinstating a line frozen by a write-off: purpose Reinstate).
 */
export type OperationDecisionCall = Extract<LedgerCall, { fn: "restructure" | "reinstateLine" }>;

/** The calls the ledger accepts only with a scorer-signed decision: line decisions, restructures and reinstatements. */
export const needsDecision = (call: LedgerCall): call is DecisionCall | OperationDecisionCall =>
  isDecisionCall(call) || call.fn === "restructure" || call.fn === "reinstateLine";

/** The account a call writes to. */
export const accountOfCall = (call: LedgerCall): string => (isDecisionCall(call) ? call.decision.account : call.account);

/** A decision completed and signed by the scorer. */
export interface SignedDecision {
  decision: Decision;
  scorer: string;
  signature: string;
}

/** The call's arguments by ABI name, with the reference, the expected seq and (for decisions) the signature. */
export function callArguments(
  call: LedgerCall,
  ref: string,
  expectedSeq: bigint,
  signed?: SignedDecision
): Record<string, unknown> {
  const { fn: _fn, ...fields } = call;
  if (needsDecision(call)) {
    if (!signed) throw new Error(`${call.fn} needs a signed decision`);
    const decisionArgs = { decision: signed.decision, scorer: signed.scorer, signature: signed.signature };
    // The decision names the account (and, reinstating, the line): the call passes the rest.
    if (isDecisionCall(call) || call.fn === "reinstateLine") return { ...decisionArgs, ref, expectedSeq };
    const { account: _account, approval: _approval, ...terms } = fields as Omit<Extract<LedgerCall, { fn: "restructure" }>, "fn">;
    return { ...decisionArgs, ...terms, ref, expectedSeq };
  }
  return { ...fields, ref, expectedSeq };
}
