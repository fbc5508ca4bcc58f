// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICreditLedger — the auditable record of a consumer-credit book
/// @notice One identity holds one account (a random 32-byte id, no personal data). An account
/// holds at most one line per product: a revolving pay-later line or a cash-loan line. Every
/// credit fact (account opened, decision recorded, line granted, limit changed, frozen,
/// drawn, refunded, repaid, restructured, written off) is an entry in the account's hash
/// chain: `head = keccak256(abi.encode(prevHead, seq, kind, payloadHash))`, where
/// `payloadHash = keccak256(abi.encode(account, <the event's fields after head>))`. Every
/// event carries the entry's `seq` and `head`, so an export of an account's history can be
/// checked against a single read of `accountOf(account)`.
/// @dev Amounts are integers in fen (uint64). Rates are integers in parts per million:
/// daily rates in ppm/day (500 = 0.05 %/day), annual ceilings in ppm/year (240000 = 24 %).
/// Time is in seconds; a day is 86400 s counted from the loan's start time, a period is 30
/// days. Every state-changing call takes the caller's reference `ref` (kept in the event for
/// traceability) and the account `seq` it expects; a call whose `expectedSeq` differs from
/// the account's current `seq` reverts with `SeqMismatch`, so a retried transaction can
/// never post twice. Repayments are accepted even when paused or frozen.
interface ICreditLedger {
    // ------------------------------------------------------------------ types

    /// @notice Product kinds. A pay-later purchase is interest-free until its due date and may be
    /// split into installments for a flat fee; a cash loan accrues daily interest.
    enum ProductKind {
        None,
        PayLater,
        CashLoan
    }

    /// @notice How scheduled principal is spread over the periods.
    /// @dev `Bullet` is the single-payment pay-later purchase (one period).
    enum RepaymentMethod {
        Bullet,
        EqualPrincipal,
        Annuity
    }

    /// @notice Loan status. A loan is `Active` until its principal, fees, interest and penalty
    /// are all paid (`Closed`) or it is written off (`WrittenOff`, still accepts recoveries).
    enum LoanStatus {
        Active,
        Closed,
        WrittenOff
    }

    /// @notice Kinds of hash-chain entries; the `kind` in `head = keccak256(prevHead, seq, kind, payloadHash)`.
    enum EntryKind {
        None,
        AccountOpened,
        DecisionDeclined,
        LineGranted,
        LimitIncreased,
        LimitCut,
        LineFrozen,
        LineUnfrozen,
        ExposureCapChanged,
        Drawn,
        Refunded,
        Repaid,
        Restructured,
        WrittenOff
    }

    /// @notice A product's terms, configured by the admin.
    /// @dev One storage slot (8+16+16+32+32+16+8 + 4x32 = 256 bits).
    /// `allowedPeriods` is a bit mask: bit n set means a loan of n periods is allowed.
    /// `installmentFeePpm[i]` is the total installment fee (ppm of principal) for 3(i+1) periods.
    struct Product {
        ProductKind kind;
        uint16 graceDays;
        uint16 allowedPeriods;
        uint32 penaltyPpmPerDay;
        uint32 costCeilingPpmPerYear;
        uint16 writeOffDays;
        bool active;
        uint32[4] installmentFeePpm;
    }

    /// @notice What an identity tier allows: the largest line limit and the largest exposure cap.
    /// @dev Tier 0 is "behavioural score only"; higher tiers need stronger identity verification.
    struct TierPolicy {
        uint64 maxLineLimit;
        uint64 maxExposure;
    }

    /// @notice An account as stored. `used` is the outstanding principal across all lines.
    /// @dev slot 0: tier 8 | exists 8 | exposureCap 64 | used 64 | seq 64 | decisionNonce 32 | loanCount 16 (256)
    ///      slot 1: head
    struct Account {
        uint8 tier;
        bool exists;
        uint64 exposureCap;
        uint64 used;
        uint64 seq;
        uint32 decisionNonce;
        uint16 loanCount;
        bytes32 head;
    }

    /// @notice A credit line of one product on one account.
    /// @dev slot 0: limit 64 | used 64 | tempLimit 64 | tempExpiry 40 | granted 8 | frozen 8 (248)
    ///      slot 1: ratePpmPerDay 32 | freezeReason 16
    /// The effective limit is `tempLimit` while `block.timestamp < tempExpiry`, else `limit`.
    struct Line {
        uint64 limit;
        uint64 used;
        uint64 tempLimit;
        uint40 tempExpiry;
        bool granted;
        bool frozen;
        uint32 ratePpmPerDay;
        uint16 freezeReason;
    }

    /// @notice A loan's terms: everything its schedule, interest and penalty are computed from,
    /// fixed when it is drawn (a later product change does not reach back into a loan).
    /// @dev `principal` and `totalFee` are the amounts the current schedule spreads; a
    /// restructure re-bases them on what was left. Stored packed: see `LedgerStorage.StoredLoan`.
    struct LoanTerms {
        uint64 principal;
        uint40 startTime;
        uint8 periods;
        RepaymentMethod method;
        uint8 productId;
        uint32 ratePpmPerDay;
        uint64 totalFee;
        uint16 firstDueDay;
        uint32 penaltyPpmPerDay;
    }

    /// @notice A loan's servicing state, zero when the loan is drawn.
    /// @dev One slot: principalSettled 64 | feeSettled 64 | interestOwed 48 | penaltyOwed 48 |
    /// checkpointDay 16 | status 8 (248). Settled means repaid, refunded or waived.
    /// `interestOwed` and `penaltyOwed` are accrued up to `checkpointDay` (whole days since
    /// `startTime`) and not yet paid.
    struct LoanState {
        uint64 principalSettled;
        uint64 feeSettled;
        uint48 interestOwed;
        uint48 penaltyOwed;
        uint16 checkpointDay;
        LoanStatus status;
    }

    /// @notice A signed credit decision (EIP-712 typed data, domain "CreditLedger" version "1").
    /// @param account the account the decision is about
    /// @param productId the product applied for
    /// @param approved true for an approval, false for a recorded decline
    /// @param tier the identity tier the scorer saw verified
    /// @param score the scorecard score (350–950)
    /// @param limit the approved line limit in fen (the new limit for an increase)
    /// @param limitExpiry 0 for a permanent limit, else the end of a temporary raise
    /// @param ratePpmPerDay the approved daily interest rate (cash loans; 0 for pay-later)
    /// @param modelId hash of the canonical scorecard model JSON
    /// @param featuresHash hash of the canonical feature vector the score was computed from
    /// @param reasonCodes up to four reason codes, 0 for unused
    /// @param nonce must equal the account's `decisionNonce` (no replay)
    /// @param deadline the decision cannot be used after this timestamp
    struct Decision {
        bytes32 account;
        uint8 productId;
        bool approved;
        uint8 tier;
        uint16 score;
        uint64 limit;
        uint40 limitExpiry;
        uint32 ratePpmPerDay;
        bytes32 modelId;
        bytes32 featuresHash;
        uint16[4] reasonCodes;
        uint32 nonce;
        uint64 deadline;
    }

    /// @notice How one repayment was split, in the order it was applied.
    struct Allocation {
        uint64 penalty;
        uint64 fee;
        uint64 interest;
        uint64 overduePrincipal;
        uint64 currentPrincipal;
        uint64 prepaidPrincipal;
    }

    /// @notice A loan seen at a point in time (the view an integrator needs).
    /// @param principalOutstanding principal not yet paid
    /// @param overduePrincipal scheduled principal whose due date has passed unpaid
    /// @param currentPrincipal unpaid principal of the current (first not yet overdue) period
    /// @param feesDue installment fees billed (periods started) and not paid
    /// @param interest interest accrued and not paid (cash loans)
    /// @param penalty penalty accrued on overdue principal and not paid
    /// @param amountDue what must be paid by the next due date to be current
    /// @param payoff what closes the loan now (future periods' fees are waived)
    /// @param daysPastDue days since the oldest unpaid due date (0 when current)
    /// @param nextDueTime timestamp of the next due date not yet passed (0 when none)
    struct LoanPosition {
        uint64 principalOutstanding;
        uint64 overduePrincipal;
        uint64 currentPrincipal;
        uint64 feesDue;
        uint64 interest;
        uint64 penalty;
        uint64 amountDue;
        uint64 payoff;
        uint32 daysPastDue;
        uint64 nextDueTime;
    }

    /// @notice One period of a loan's schedule.
    struct Installment {
        uint64 dueTime;
        uint64 principal;
        uint64 fee;
    }

    // ------------------------------------------------------------------ errors

    /// @notice The account's `seq` is not what the caller expected (a retry of an applied call, or a stale call).
    error SeqMismatch(bytes32 account, uint64 expected, uint64 actual);
    /// @notice An account with this id already exists.
    error AccountExists(bytes32 account);
    /// @notice No account with this id.
    error UnknownAccount(bytes32 account);
    /// @notice The account id is zero.
    error InvalidAccountId();
    /// @notice The product does not exist or is not active.
    error UnknownProduct(uint8 productId);
    /// @notice The product configuration is invalid; `field` names what is wrong.
    error InvalidProduct(uint8 productId, string field);
    /// @notice The product's penalty, annualized, exceeds its cost ceiling.
    error PenaltyAboveCeiling(uint8 productId, uint256 penaltyPpmPerYear, uint256 ceilingPpmPerYear);
    /// @notice The tier has no policy configured.
    error UnknownTier(uint8 tier);
    /// @notice The requested value exceeds the tier's cap.
    error TierCapExceeded(uint8 tier, uint256 requested, uint256 cap);
    /// @notice The signer of a decision does not hold the scorer role.
    error NotScorer(address signer);
    /// @notice The decision signature does not verify for the named scorer.
    error InvalidDecisionSignature(address scorer, bytes32 digest);
    /// @notice The decision was used after its deadline.
    error DecisionExpired(uint64 deadline, uint256 nowTime);
    /// @notice The decision's nonce is not the account's next decision nonce.
    error DecisionNonceMismatch(bytes32 account, uint32 expected, uint32 actual);
    /// @notice A decline was submitted where an approval is needed, or the reverse.
    error DecisionOutcomeMismatch(bool approved);
    /// @notice The account already holds a line of this product.
    error LineExists(bytes32 account, uint8 productId);
    /// @notice The account holds no line of this product.
    error NoLine(bytes32 account, uint8 productId);
    /// @notice A limit increase must raise the limit; a cut must lower it.
    error LimitNotIncreased(uint256 current, uint256 requested);
    error LimitNotCut(uint256 current, uint256 requested);
    /// @notice The temporary limit's expiry is not in the future.
    error InvalidExpiry(uint256 expiry);
    /// @notice The drawdown exceeds what the line limit leaves available.
    error LimitExceeded(bytes32 account, uint8 productId, uint256 requested, uint256 available);
    /// @notice The drawdown exceeds what the account's exposure cap leaves available.
    error ExposureCapExceeded(bytes32 account, uint256 requested, uint256 available);
    /// @notice The line is frozen; no drawdowns until it is explicitly unfrozen.
    error LineIsFrozen(bytes32 account, uint8 productId, uint16 reasonCode);
    /// @notice Unfreeze of a line that is not frozen, or freeze of one that is.
    error FreezeStateUnchanged(bytes32 account, uint8 productId, bool frozen);
    /// @notice A decision's daily rate is above the ledger's maximum (`MAX_RATE_PPM_PER_DAY`).
    error RateAboveMaximum(uint256 ratePpmPerDay, uint256 maxRatePpmPerDay);
    /// @notice The amount is zero or does not fit the ledger's integer widths.
    error InvalidAmount(uint256 amount);
    /// @notice The product does not allow this number of periods.
    error PeriodsNotAllowed(uint8 productId, uint8 periods);
    /// @notice The call needs a product of another kind (e.g. a purchase on a cash-loan product).
    error WrongProductKind(uint8 productId, ProductKind expected);
    /// @notice The repayment method does not fit the product.
    error InvalidMethod(RepaymentMethod method);
    /// @notice The terms cost more than the product's annual cost ceiling allows.
    /// @param presentValue the present value of all payments discounted at the ceiling rate
    /// @param principal the principal; terms are compliant when presentValue <= principal
    error CostCeilingExceeded(uint8 productId, uint256 presentValue, uint256 principal, uint32 ceilingPpmPerYear);
    /// @notice No loan with this number on the account.
    error UnknownLoan(bytes32 account, uint16 loanNo);
    /// @notice The loan is closed; nothing to pay, refund or restructure.
    error LoanNotActive(bytes32 account, uint16 loanNo, LoanStatus status);
    /// @notice The repayment is more than what closes the loan.
    error RepaymentExceedsPayoff(bytes32 account, uint16 loanNo, uint256 amount, uint256 payoff);
    /// @notice The refund is more than the purchase's outstanding principal.
    error RefundExceedsOutstanding(bytes32 account, uint16 loanNo, uint256 amount, uint256 outstanding);
    /// @notice Refunds apply to pay-later purchases only.
    error NotAPurchase(bytes32 account, uint16 loanNo);
    /// @notice A restructure may only extend the term, pause payments or cut the rate: never
    /// shorten the schedule (its last due date may not move earlier) or raise the rate.
    error InvalidRestructure(string field, uint256 value);
    /// @notice Write-off before the product's threshold of days past due.
    error WriteOffTooEarly(bytes32 account, uint16 loanNo, uint256 daysPastDue, uint256 threshold);
    /// @notice A view was asked about a time before the loan's last checkpoint.
    error TimeBeforeCheckpoint(uint256 time, uint256 checkpointTime);
    /// @notice A value does not fit its storage width.
    error ValueOverflow(uint256 value);

    // ------------------------------------------------------------------ events

    /// @notice A product was created or its terms changed.
    event ProductConfigured(uint8 indexed productId, Product previous, Product current, address indexed by);
    /// @notice A tier's caps were set.
    event TierPolicySet(uint8 indexed tier, TierPolicy previous, TierPolicy current, address indexed by);

    /// @notice An account was opened.
    event AccountOpened(bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, uint8 tier, uint64 exposureCap, address by);
    /// @notice The account's exposure cap changed.
    event ExposureCapChanged(bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, uint64 previousCap, uint64 newCap, address by);
    /// @notice A declined decision was recorded (declines are facts too).
    event DecisionDeclined(
        bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, Decision decision, address scorer, bytes signature, address by
    );
    /// @notice A line was granted on a signed decision.
    event LineGranted(
        bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, Decision decision, address scorer, bytes signature, address by
    );
    /// @notice A line's limit was raised on a signed decision (temporary when `decision.limitExpiry != 0`).
    event LimitIncreased(
        bytes32 indexed account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint64 previousLimit,
        uint64 previousTempLimit,
        uint40 previousTempExpiry,
        Decision decision,
        address scorer,
        bytes signature,
        address by
    );
    /// @notice The limit in force was cut from `previousLimit` to `newLimit`. While a temporary
    /// raise lasts, the cut lowers it to `newLimit` and the permanent limit to at most
    /// `newLimit`; a cut never raises the limit that applies after a temporary raise ends.
    event LimitCut(
        bytes32 indexed account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint8 productId,
        uint64 previousLimit,
        uint64 newLimit,
        uint16 reasonCode,
        address by
    );
    /// @notice A line was frozen; only an explicit unfreeze clears it.
    event LineFrozen(bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, uint8 productId, uint16 reasonCode, address by);
    /// @notice A line was unfrozen.
    event LineUnfrozen(bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, uint8 productId, uint16 reasonCode, address by);
    /// @notice A purchase or cash loan was drawn. `terms` is the full schedule input.
    event Drawn(bytes32 indexed account, uint16 indexed loanNo, uint64 seq, bytes32 head, bytes32 ref, LoanTerms terms, address by);
    /// @notice A merchant refund reduced a purchase's principal (applied oldest period first) and
    /// waived the matching share of its installment fee.
    event Refunded(
        bytes32 indexed account,
        uint16 indexed loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint64 amount,
        uint64 feeWaived,
        uint16 day,
        address by
    );
    /// @notice A repayment, with each bucket it went to. `day` is days since the loan's start;
    /// `interestAccrued` and `penaltyAccrued` were accrued at this checkpoint before allocation.
    event Repaid(
        bytes32 indexed account,
        uint16 indexed loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint64 amount,
        Allocation allocation,
        uint16 day,
        uint64 interestAccrued,
        uint64 penaltyAccrued,
        LoanStatus status,
        address by
    );
    /// @notice A hardship restructure: the remaining principal and fee re-based on new terms.
    event Restructured(
        bytes32 indexed account,
        uint16 indexed loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        LoanTerms previousTerms,
        LoanTerms newTerms,
        uint64 interestAccrued,
        uint64 penaltyAccrued,
        uint16 holidayDays,
        address by
    );
    /// @notice A loan was written off past its product's threshold of days past due.
    /// `lineFrozen` is true when the write-off froze the loan's line (reason code 0xFFFF).
    event WrittenOff(
        bytes32 indexed account,
        uint16 indexed loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint64 principalWrittenOff,
        uint32 daysPastDue,
        uint64 interestAccrued,
        uint64 penaltyAccrued,
        bool lineFrozen,
        address by
    );

    // ------------------------------------------------------------------ admin

    /// @notice Create or change a product. Only the admin. A product's kind never changes once
    /// set. Loans keep the terms they were drawn with (including the penalty rate).
    function configureProduct(uint8 productId, Product calldata product) external;

    /// @notice Set a tier's caps. Only the admin.
    function setTierPolicy(uint8 tier, TierPolicy calldata policy) external;

    /// @notice Stop drawdowns, grants and other new credit; repayments go on. Only a pauser.
    function pause() external;

    /// @notice Resume. Only a pauser.
    function unpause() external;

    // ------------------------------------------------------------------ accounts and lines (operator)

    /// @notice Open an account. `expectedSeq` must be 0; a retried open reverts `AccountExists`.
    function openAccount(bytes32 account, uint8 tier, uint64 exposureCap, bytes32 ref, uint64 expectedSeq) external;

    /// @notice Change the account's exposure cap (at most the tier's `maxExposure`). Raising it
    /// is new credit capacity and is refused while paused; lowering it is always allowed.
    function setExposureCap(bytes32 account, uint64 newCap, bytes32 ref, uint64 expectedSeq) external;

    /// @notice Record a declined decision signed by `scorer`.
    function recordDecline(Decision calldata decision, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external;

    /// @notice Grant a line on an approved decision signed by `scorer`.
    function grantLine(Decision calldata decision, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external;

    /// @notice Raise a line's limit on an approved decision: permanent when `limitExpiry == 0`,
    /// else a temporary limit until `limitExpiry`. The new limit must exceed the limit in force.
    /// The decision's daily rate becomes the line's rate for later drawdowns.
    function increaseLimit(Decision calldata decision, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external;

    /// @notice Cut a line's limit; may go below usage (blocks drawdowns, never creates a debt).
    function cutLimit(bytes32 account, uint8 productId, uint64 newLimit, uint16 reasonCode, bytes32 ref, uint64 expectedSeq)
        external;

    /// @notice Freeze a line: no drawdowns until an explicit unfreeze.
    function freezeLine(bytes32 account, uint8 productId, uint16 reasonCode, bytes32 ref, uint64 expectedSeq) external;

    /// @notice Unfreeze a line.
    function unfreezeLine(bytes32 account, uint8 productId, uint16 reasonCode, bytes32 ref, uint64 expectedSeq) external;

    // ------------------------------------------------------------------ loans (operator)

    /// @notice A pay-later purchase: `periods` 1 (single payment, free until the grace end) or an
    /// installment count the product allows (with its installment fee).
    /// @return loanNo the new loan's number on the account
    function purchase(bytes32 account, uint8 productId, uint64 amount, uint8 periods, bytes32 ref, uint64 expectedSeq)
        external
        returns (uint16 loanNo);

    /// @notice A merchant refund against a purchase.
    function refund(bytes32 account, uint16 loanNo, uint64 amount, bytes32 ref, uint64 expectedSeq) external;

    /// @notice A cash loan of `periods` periods at the line's daily rate.
    /// @return loanNo the new loan's number on the account
    function drawCash(
        bytes32 account,
        uint8 productId,
        uint64 amount,
        uint8 periods,
        RepaymentMethod method,
        bytes32 ref,
        uint64 expectedSeq
    ) external returns (uint16 loanNo);

    /// @notice Repay a loan. Applied to penalty, fees, interest, overdue principal (oldest
    /// first), the current period's principal, then prepayment. Accepted while paused or frozen.
    function repay(bytes32 account, uint16 loanNo, uint64 amount, bytes32 ref, uint64 expectedSeq)
        external
        returns (Allocation memory allocation);

    /// @notice Hardship restructure: the remaining principal and unpaid fee are spread over
    /// `newPeriods` periods starting now, the first due `holidayDays` + 30 days from now, at a
    /// daily rate no higher than before. Accrued interest and penalty stay owed.
    function restructure(
        bytes32 account,
        uint16 loanNo,
        uint8 newPeriods,
        uint16 holidayDays,
        uint32 newRatePpmPerDay,
        bytes32 ref,
        uint64 expectedSeq
    ) external;

    /// @notice Write a loan off once it is at least the product's `writeOffDays` past due. Its
    /// principal stops counting against the line and the exposure cap, accrual stops, later
    /// repayments are recorded as recoveries, and the loan's line is frozen (reason code 0xFFFF)
    /// if it was not already, so no new credit follows a write-off without an explicit unfreeze.
    function writeOff(bytes32 account, uint16 loanNo, bytes32 ref, uint64 expectedSeq) external;

    // ------------------------------------------------------------------ views

    /// @notice The EIP-712 digest a scorer signs for `decision`.
    function decisionDigest(Decision calldata decision) external view returns (bytes32);

    function productOf(uint8 productId) external view returns (Product memory);

    function tierPolicyOf(uint8 tier) external view returns (TierPolicy memory);

    /// @notice The account, including its `seq` and hash-chain `head`.
    function accountOf(bytes32 account) external view returns (Account memory);

    function lineOf(bytes32 account, uint8 productId) external view returns (Line memory);

    /// @notice The limit in force now (the temporary limit while it lasts).
    function effectiveLimit(bytes32 account, uint8 productId) external view returns (uint64);

    function loanOf(bytes32 account, uint16 loanNo) external view returns (LoanTerms memory terms, LoanState memory state);

    /// @notice The loan's schedule: due date, principal and fee of each period.
    function scheduleOf(bytes32 account, uint16 loanNo) external view returns (Installment[] memory);

    /// @notice The loan as of `time` (>= its last checkpoint): due, overdue, days past due, payoff.
    function positionOf(bytes32 account, uint16 loanNo, uint256 time) external view returns (LoanPosition memory);
}
