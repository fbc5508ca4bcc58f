// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// The most restructures one loan may have: a hardship restructure is an exception, not
// a way to roll a defaulted loan forward for ever (each one also resets its days past due, which
// the `Restructured` event records as `daysPastDueCleared`). A further one reverts with
// `RestructureLimitReached`.
uint8 constant MAX_RESTRUCTURES_PER_LOAN = 2;

// The most payment-holiday days all of one loan's restructures may grant together (each
// one is also at most 180 days). More reverts with `HolidayDaysExceeded`.
uint16 constant MAX_TOTAL_HOLIDAY_DAYS = 180;

/// @title ICreditLedger — the auditable record of a consumer-credit book
/// @notice One identity holds one account (a random 32-byte id, no personal data). An account
/// holds at most one line per product: a revolving pay-later line or a cash-loan line. Every
/// credit fact (account opened, decision declined, line granted, limit increased or cut, line
/// frozen or unfrozen, exposure cap changed, drawn, refunded, repaid, restructured, written off)
/// is an entry in the account's hash chain, and the event of every entry carries the entry's
/// `seq` and `head`, so an export of an account's history can be checked against a single read
/// of `accountOf(account)`.
///
/// The hash chain, exactly (computed by `LedgerStorage.append`):
/// - Genesis: before its first entry an account's chain is at `head = bytes32(0)`, `seq = 0`.
///   The first entry is always `AccountOpened`, with `seq = 1`; each entry adds exactly 1.
/// - `head_n = keccak256(abi.encode(bytes32 head_{n-1}, uint64 seq_n, uint8 kind, bytes32 payloadHash_n))`,
///   four 32-byte words, where `kind` is the entry's `EntryKind` number (an enum encodes as uint8).
/// - `payloadHash_n = keccak256(abi.encode(<fields>))`, where the fields are the entry's event
///   fields in event order, leaving out `seq` and `head`. Indexed fields are included at their
///   place: the loan entries (Drawn, Refunded, Repaid, Restructured, WrittenOff) start with
///   `account, loanNo`, which sit before `seq` in the event. The rule holds for every kind,
///   without exception. Enums encode as uint8, structs as tuples of their members, `bytes` as
///   dynamic bytes (the payload of a decision entry is therefore not a fixed length).
///
/// Payload fields by entry kind (number, name: fields in order with their ABI types):
/// - 1 AccountOpened: (bytes32 account, bytes32 ref, uint8 tier, uint64 exposureCap, address by)
/// - 2 DecisionDeclined: (bytes32 account, bytes32 ref, Decision decision, address scorer, bytes signature, address by)
/// - 3 LineGranted: (bytes32 account, bytes32 ref, Decision decision, address scorer, bytes signature, address by)
/// - 4 LimitIncreased: (bytes32 account, bytes32 ref, uint64 previousLimit, uint64 previousTempLimit,
///   uint40 previousTempExpiry, Decision decision, address scorer, bytes signature, address by)
/// - 5 LimitCut: (bytes32 account, bytes32 ref, uint8 productId, uint64 previousLimit, uint64 newLimit,
///   uint16 reasonCode, address by)
/// - 6 LineFrozen: (bytes32 account, bytes32 ref, uint8 productId, uint16 reasonCode, address by)
/// - 7 LineUnfrozen: (bytes32 account, bytes32 ref, uint8 productId, uint16 reasonCode, address by)
/// - 8 ExposureCapChanged: (bytes32 account, bytes32 ref, uint64 previousCap, uint64 newCap, address by)
/// - 9 Drawn: (bytes32 account, uint32 loanNo, bytes32 ref, LoanTerms terms, address by)
/// - 10 Refunded: (bytes32 account, uint32 loanNo, bytes32 ref, uint64 amount, uint64 feeWaived, uint16 day, address by)
/// - 11 Repaid: (bytes32 account, uint32 loanNo, bytes32 ref, uint64 amount, Allocation allocation, uint16 day,
///   uint64 interestAccrued, uint64 penaltyAccrued, uint8 status, address by)
/// - 12 Restructured: (bytes32 account, uint32 loanNo, bytes32 ref, LoanTerms previousTerms, LoanTerms newTerms,
///   uint64 interestAccrued, uint64 penaltyAccrued, uint16 holidayDays, uint32 daysPastDueCleared,
///   Decision decision, address scorer, bytes signature, address by)
/// - 13 WrittenOff: (bytes32 account, uint32 loanNo, bytes32 ref, uint64 principalWrittenOff, uint32 daysPastDue,
///   uint64 interestAccrued, uint64 penaltyAccrued, bool lineFrozen, address by)
/// - 14 LineReinstated: (bytes32 account, bytes32 ref, Decision decision, address scorer, bytes signature, address by)
///
/// with the structs as tuples:
/// - Decision = (bytes32 account, uint8 purpose, uint8 productId, bool approved, uint8 tier, uint16 score,
///   uint64 limit, uint40 limitExpiry, uint32 ratePpmPerDay, bytes32 modelId, bytes32 featuresHash,
///   uint16[4] reasonCodes, bytes32 subject, address scorer, uint32 nonce, uint40 issuedAt, uint64 deadline)
/// - LoanTerms = (uint64 principal, uint40 startTime, uint8 periods, uint8 method, uint8 productId,
///   uint32 ratePpmPerDay, uint64 totalFee, uint16 firstDueDay, uint32 penaltyPpmPerDay, uint16 writeOffDays)
/// - Allocation = (uint64 penalty, uint64 fee, uint64 interest, uint64 overduePrincipal,
///   uint64 currentPrincipal, uint64 prepaidPrincipal)
///
/// In the decision entries `account` is `decision.account`. `ProductConfigured`,
/// `TierPolicySet` and OpenZeppelin's role and pause events are ledger-wide, not entries of
/// any account's chain; they and every account entry are entries of the ledger-wide chain
/// (`ledgerHead`, `LedgerEventKind`, `LedgerAdvanced`). A write-off that freezes its line records the freeze in its own
/// `WrittenOff` entry (`lineFrozen`), not in a separate `LineFrozen` entry.
/// @dev Amounts are integers in fen (uint64). Rates are integers in parts per million:
/// daily rates in ppm/day (500 = 0.05 %/day), annual ceilings in ppm/year (240000 = 24 %).
/// Time is in seconds; a day is 86400 s counted from the loan's start time, a period is 30
/// days. Every state-changing call takes the caller's reference `ref` (kept in the event for
/// traceability) and the account `seq` it expects; a call whose `expectedSeq` differs from
/// the account's current `seq` reverts with `SeqMismatch`, so a retried transaction can
/// never post twice.
///
/// Roles (OpenZeppelin AccessControl, held on `CreditLedger`): `DEFAULT_ADMIN_ROLE` (0x00;
/// products, tiers, roles), `OPERATOR_ROLE` (keccak256("OPERATOR_ROLE"), the gateway: every
/// entry), `SCORER_ROLE` (keccak256("SCORER_ROLE"), signs decisions, never sends) and
/// `PAUSER_ROLE` (keccak256("PAUSER_ROLE")). A call without its role reverts with OpenZeppelin's
/// `AccessControlUnauthorizedAccount(caller, neededRole)` before any other check.
///
/// Pause (OpenZeppelin Pausable): refused with `EnforcedPause()` while paused are the calls that
/// create credit or credit capacity: `openAccount`, `grantLine`, `increaseLimit`,
/// `unfreezeLine`, `purchase`, `drawCash`, and `setExposureCap` when it raises the cap.
/// Accepted while paused: `repay` (repayments are always accepted, on frozen lines and
/// written-off loans too), `refund`, `restructure`, `writeOff`, `cutLimit`, `freezeLine`,
/// `recordDecline`, `setExposureCap` when it does not raise the cap, the admin calls and
/// every view.
///
/// Fixed limits (constants of `CreditLedger` and `LoanServicing`): a decision's daily rate at most
/// `MAX_RATE_PPM_PER_DAY` = 10000; cash loans of 3 to 12 periods; purchases of 1, 3, 6, 9 or 12
/// periods; a restructure to at most 36 periods with a holiday of at most 180 days; at most
/// `MAX_RESTRUCTURES_PER_LOAN` restructures of one loan with at most `MAX_TOTAL_HOLIDAY_DAYS`
/// holiday days together (constants of this file, above the interface); a write-off freezes its line with
/// reason code 0xFFFF.

interface ICreditLedger {
    // ------------------------------------------------------------------ types

    /// @notice Product kinds. A pay-later purchase is interest-free until its due date and may be
    /// split into installments for a flat fee; a cash loan accrues daily interest.
    /// @dev Values: None 0 (a product slot never configured), PayLater 1, CashLoan 2.
    enum ProductKind {
        None,
        PayLater,
        CashLoan
    }

    /// @notice How scheduled principal is spread over the periods.
    /// @dev Values: Bullet 0, EqualPrincipal 1, Annuity 2. `Bullet` is the single-payment
    /// pay-later purchase (one period); cash loans are EqualPrincipal or Annuity.
    enum RepaymentMethod {
        Bullet,
        EqualPrincipal,
        Annuity
    }

    /// @notice Loan status. A loan is `Active` until its principal, fees, interest and penalty
    /// are all paid (`Closed`) or it is written off (`WrittenOff`, still accepts recoveries).
    /// @dev Values: Active 0, Closed 1, WrittenOff 2. A written-off loan never becomes `Closed`.
    enum LoanStatus {
        Active,
        Closed,
        WrittenOff
    }

    /// @notice Kinds of hash-chain entries: the `kind` in
    /// `head = keccak256(abi.encode(prevHead, seq, kind, payloadHash))`. Each kind's event has its name.
    /// @dev Values: None 0 (never recorded), AccountOpened 1, DecisionDeclined 2, LineGranted 3,
    /// LimitIncreased 4, LimitCut 5, LineFrozen 6, LineUnfrozen 7, ExposureCapChanged 8, Drawn 9,
    /// Refunded 10, Repaid 11, Restructured 12, WrittenOff 13, LineReinstated 14. The payload of each is in the
    /// table of this interface's header.
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
        WrittenOff,
        LineReinstated
    }

    /// @notice Kinds of ledger-wide events: the `kind` in a ledger-wide entry's
    /// `entryHead = keccak256(abi.encode(uint8 kind, keccak256(payload)))` (see `ledgerHead`).
    /// @dev Values: None 0 (never recorded), RoleGranted 1, RoleRevoked 2, Paused 3, Unpaused 4,
    /// ProductConfigured 5, TierPolicySet 6. The payload is the ABI encoding of the event's
    /// fields in event order, indexed ones included: RoleGranted and RoleRevoked
    /// `(bytes32 role, address account, address sender)`, Paused and Unpaused `(address account)`,
    /// ProductConfigured `(uint8 productId, Product previous, Product current, address by)`,
    /// TierPolicySet `(uint8 tier, TierPolicy previous, TierPolicy current, address by)`.
    enum LedgerEventKind {
        None,
        RoleGranted,
        RoleRevoked,
        Paused,
        Unpaused,
        ProductConfigured,
        TierPolicySet
    }

    /// @notice A product's terms, configured by the admin.
    /// @dev One storage slot (8+16+16+32+32+16+8 + 4x32 = 256 bits).
    /// @param kind PayLater or CashLoan; never changes once set
    /// @param graceDays days from a purchase to its due date (pay-later: at least 1; unused for cash loans)
    /// @param allowedPeriods bit mask: bit n set means a loan of n periods is allowed
    /// @param penaltyPpmPerDay daily penalty on overdue principal, fixed into each loan when drawn
    /// @param costCeilingPpmPerYear the annual cost ceiling (IRR-style APR) that every loan's terms must meet
    /// @param writeOffDays days past due from which a loan may be written off (0: never)
    /// @param active false: no decisions and no drawdowns on the product; existing loans are still serviced
    /// @param installmentFeePpm `installmentFeePpm[i]` is the total installment fee (ppm of principal) for 3(i+1) periods
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
    /// A configured tier has both caps non-zero; an unconfigured one reads as zeros.
    /// @param maxLineLimit the largest limit a line may be granted or used up to, in fen
    /// @param maxExposure the largest exposure cap an account of the tier may have (drawdowns are capped by it too), in fen
    struct TierPolicy {
        uint64 maxLineLimit;
        uint64 maxExposure;
    }

    /// @notice An account as stored. `used` is the outstanding principal across all lines.
    /// @dev slot 0: tier 8 | exists 8 | exposureCap 64 | used 64 | seq 48 | decisionNonce 32 | loanCount 32 (256)
    ///      slot 1: head
    /// `loanCount` is a uint32 so that loan numbers never run out (4,294,967,295 loans per account);
    /// `seq` is a uint48 (2.8e14 entries per account) so that both still fit the one slot every
    /// entry reads and writes. Functions and events keep `uint64` for seq.
    /// @param tier the identity tier (set at opening, then by each approved decision)
    /// @param exists true once the account is opened
    /// @param exposureCap the most the account may owe in principal across its lines (also capped by its tier)
    /// @param used outstanding principal across all lines (written-off principal counts until recovered)
    /// @param seq the number of entries in the account's hash chain (the seq of the last one)
    /// @param decisionNonce the nonce the account's next decision must carry
    /// @param loanCount the number of loans drawn; loans are numbered 1..loanCount
    /// @param head the hash-chain head after the last entry (zero before the first)
    struct Account {
        uint8 tier;
        bool exists;
        uint64 exposureCap;
        uint64 used;
        uint48 seq;
        uint32 decisionNonce;
        uint32 loanCount;
        bytes32 head;
    }

    /// @notice A credit line of one product on one account.
    /// @dev slot 0: limit 64 | used 64 | tempLimit 64 | tempExpiry 40 | granted 8 | frozen 8 (248)
    ///      slot 1: ratePpmPerDay 32 | freezeReason 16
    /// The effective limit is `tempLimit` while `block.timestamp < tempExpiry` and `tempLimit > limit`, else `limit`.
    /// @param limit the permanent limit in fen
    /// @param used outstanding principal of the line's loans (written-off principal counts until recovered)
    /// @param tempLimit a temporary limit, in force until `tempExpiry`
    /// @param tempExpiry the end of the temporary limit (0: none)
    /// @param granted true once the line is granted
    /// @param frozen true while frozen: no drawdowns until an explicit unfreeze
    /// @param ratePpmPerDay the daily interest rate of the line's next cash loans (from its last approved decision)
    /// @param freezeReason the reason code of the last freeze or unfreeze (0xFFFF: frozen by a write-off)
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
    /// @param principal the principal the schedule spreads, in fen
    /// @param startTime the drawdown's (or last restructure's) block timestamp; days count from it
    /// @param periods the number of periods
    /// @param method how principal is spread (Bullet for a single-payment purchase)
    /// @param productId the product drawn on
    /// @param ratePpmPerDay daily interest on outstanding principal (0 for pay-later)
    /// @param totalFee the installment fee the schedule spreads, in fen (0 for cash loans)
    /// @param firstDueDay the first due date in days since `startTime`; later ones follow every 30 days
    /// @param penaltyPpmPerDay daily penalty on overdue principal
    /// @param writeOffDays days past due from which the loan may be written off (0: never): the
    /// product's `writeOffDays` at drawdown, kept through restructures, so lowering the product's
    /// threshold later never lets an existing loan be written off earlier
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
        uint16 writeOffDays;
    }

    /// @notice A loan's servicing state, zero when the loan is drawn (and again when it is restructured,
    /// but for the accrued interest and penalty, which stay owed, and the restructure counters).
    /// @dev Settled means repaid, refunded or waived. `interestOwed` and `penaltyOwed` are accrued
    /// up to `checkpointDay` (whole days since `startTime`) and not yet paid. `principalRefunded`
    /// is what refunds have settled of `principalSettled`: the fee a refund waives is computed from
    /// it cumulatively (see `Refunded`), so splitting a refund never leaves a fen of fee owing.
    /// Stored packed: see `LedgerStorage.StoredLoan`.
    /// @param principalSettled principal repaid or refunded since the loan was drawn (or last restructured), in fen
    /// @param feeSettled installment fee paid or waived since then, in fen
    /// @param interestOwed interest accrued to the checkpoint and not paid
    /// @param penaltyOwed penalty accrued to the checkpoint and not paid
    /// @param checkpointDay the day (since `startTime`) accrual was last brought up to
    /// @param status Active, Closed or WrittenOff
    /// @param principalRefunded principal refunded since the loan was drawn (or last restructured), in fen
    /// @param restructures the loan's restructures so far (kept through restructures; at most `MAX_RESTRUCTURES_PER_LOAN`)
    /// @param holidayDaysGranted the holiday days its restructures granted together (at most `MAX_TOTAL_HOLIDAY_DAYS`)
    struct LoanState {
        uint64 principalSettled;
        uint64 feeSettled;
        uint48 interestOwed;
        uint48 penaltyOwed;
        uint16 checkpointDay;
        LoanStatus status;
        uint64 principalRefunded;
        uint8 restructures;
        uint16 holidayDaysGranted;
    }

    /// @notice What a decision authorises: a line decision (grant, increase, decline), a loan's
    /// restructure, or the reinstatement of a line frozen by a write-off.
    /// @dev Values: Line 0, Restructure 1, Reinstate 2.
    enum DecisionPurpose {
        Line,
        Restructure,
        Reinstate
    }

    /// @notice A signed credit decision (EIP-712 typed data, domain "CreditLedger" version "1"):
    /// `Decision(bytes32 account,uint8 purpose,uint8 productId,bool approved,uint8 tier,uint16 score,
    /// uint64 limit,uint40 limitExpiry,uint32 ratePpmPerDay,bytes32 modelId,bytes32 featuresHash,
    /// uint16[4] reasonCodes,bytes32 subject,address scorer,uint32 nonce,uint40 issuedAt,uint64 deadline)`.
    /// @param account the account the decision is about
    /// @param purpose what the decision authorises (`DecisionPurpose` as uint8)
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
    /// @param subject the operation the decision authorises: zero for a line decision; for a
    /// restructure `keccak256(abi.encode(uint32 loanNo, uint8 newPeriods, uint16 holidayDays, uint32 newRate))`
    /// @param scorer the signer's address (an EOA or an ERC-1271 wallet); must equal the `scorer` argument
    /// @param nonce must equal the account's `decisionNonce` (no replay)
    /// @param issuedAt when the scorer made the decision (unix seconds)
    /// @param deadline the decision cannot be used after this timestamp
    struct Decision {
        bytes32 account;
        uint8 purpose;
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
        bytes32 subject;
        address scorer;
        uint32 nonce;
        uint40 issuedAt;
        uint64 deadline;
    }

    /// @notice How one repayment was split, in the order it was applied.
    /// @param penalty paid to accrued penalty
    /// @param fee paid to billed installment fees
    /// @param interest paid to accrued interest
    /// @param overduePrincipal paid to principal past its due date (oldest period first)
    /// @param currentPrincipal paid to the current period's principal
    /// @param prepaidPrincipal paid ahead of schedule (remaining principal, no charge)
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
    /// @param dueTime the period's due date (timestamp)
    /// @param principal the period's scheduled principal, in fen
    /// @param fee the period's installment fee, in fen
    struct Installment {
        uint64 dueTime;
        uint64 principal;
        uint64 fee;
    }

    // ------------------------------------------------------------------ errors

    /// @notice A `batch` call inside a batch: refused (recorded as `OperationRefused` with this error).
    error NestedBatch();
    /// @notice The account's `seq` is not what the caller expected (a retry of an applied call, or a stale call).
    /// @param account the account
    /// @param expected the `expectedSeq` the call named
    /// @param actual the account's current `seq`
    error SeqMismatch(bytes32 account, uint64 expected, uint64 actual);
    /// @notice An account with this id already exists (a retried `openAccount` ends here).
    /// @param account the account id
    error AccountExists(bytes32 account);
    /// @notice No account with this id.
    /// @param account the account id
    error UnknownAccount(bytes32 account);
    /// @notice The account id is zero.
    error InvalidAccountId();
    /// @notice The product is not active (never configured, or deactivated).
    /// @param productId the product
    error UnknownProduct(uint8 productId);
    /// @notice The product configuration is invalid; `field` names what is wrong.
    /// @param productId the product
    /// @param field "kind" (None, or a change of a configured kind), "costCeilingPpmPerYear" (zero),
    /// "allowedPeriods" (zero) or "graceDays" (zero for a pay-later product)
    error InvalidProduct(uint8 productId, string field);
    /// @notice The product's penalty, annualized, exceeds its cost ceiling.
    /// @param productId the product
    /// @param penaltyPpmPerYear the penalty rate x 365
    /// @param ceilingPpmPerYear the product's cost ceiling
    error PenaltyAboveCeiling(uint8 productId, uint256 penaltyPpmPerYear, uint256 ceilingPpmPerYear);
    /// @notice The tier has no policy configured, or `setTierPolicy` was given a zero cap.
    /// @param tier the tier
    error UnknownTier(uint8 tier);
    /// @notice The requested value exceeds the tier's cap.
    /// @param tier the tier whose cap applies
    /// @param requested the exposure cap or line limit asked for
    /// @param cap the tier's `maxExposure` or `maxLineLimit`
    error TierCapExceeded(uint8 tier, uint256 requested, uint256 cap);
    /// @notice The signer of a decision does not hold the scorer role.
    /// @param signer the named scorer
    error NotScorer(address signer);
    /// @notice The decision signature does not verify for the named scorer (ECDSA for an account
    /// without code, ERC-1271 for a contract wallet).
    /// @param scorer the named scorer
    /// @param digest the EIP-712 digest that was checked (`decisionDigest(decision)`)
    error InvalidDecisionSignature(address scorer, bytes32 digest);
    /// @notice The decision was used after its deadline.
    /// @param deadline the decision's deadline
    /// @param nowTime the block timestamp
    error DecisionExpired(uint64 deadline, uint256 nowTime);
    /// @notice The decision's nonce is not the account's next decision nonce.
    /// @param account the account
    /// @param expected the account's `decisionNonce`
    /// @param actual the decision's `nonce`
    error DecisionNonceMismatch(bytes32 account, uint32 expected, uint32 actual);
    /// @notice The decision names another scorer than the one it is submitted with (a decision
    /// made for one scorer wallet cannot pass as another's, even with the same owner key).
    /// @param scorer the `scorer` argument
    /// @param decisionScorer the decision's `scorer` field
    error DecisionScorerMismatch(address scorer, address decisionScorer);
    /// @notice The decision authorises another kind of operation (`DecisionPurpose`).
    /// @param expected the purpose this call needs
    /// @param actual the decision's `purpose`
    error DecisionPurposeMismatch(uint8 expected, uint8 actual);
    /// @notice The decision authorises another operation than this call (its `subject` differs).
    /// @param expected the subject of this call (zero for a line decision; for a restructure
    /// `keccak256(abi.encode(loanNo, newPeriods, holidayDays, newRate))`)
    /// @param actual the decision's `subject`
    error DecisionSubjectMismatch(bytes32 expected, bytes32 actual);
    /// @notice The decision's `issuedAt` is in the future.
    /// @param issuedAt the decision's `issuedAt`
    /// @param nowTime the block timestamp
    error DecisionIssuedInFuture(uint40 issuedAt, uint256 nowTime);
    /// @notice The decision's deadline lies more than `MAX_DECISION_LIFETIME` after its issue
    /// time (a decision lives at most that long on-chain); the scorer must issue a fresh one.
    /// @param issuedAt the decision's `issuedAt`
    /// @param deadline the decision's `deadline`
    /// @param maxLifetime `MAX_DECISION_LIFETIME` in seconds
    error DecisionLifetimeTooLong(uint40 issuedAt, uint64 deadline, uint256 maxLifetime);
    /// @notice The line is frozen by a write-off (reason 0xFFFF): only `reinstateLine`, with a
    /// scorer's decision of purpose Reinstate, unfreezes it.
    /// @param account the account
    /// @param productId the line's product
    /// @param freezeReason the line's freeze reason (0xFFFF)
    error DecisionRequired(bytes32 account, uint8 productId, uint16 freezeReason);
    /// @notice A decline was submitted where an approval is needed, or the reverse.
    /// @param approved the decision's `approved` flag
    error DecisionOutcomeMismatch(bool approved);
    /// @notice The account already holds a line of this product.
    /// @param account the account
    /// @param productId the product
    error LineExists(bytes32 account, uint8 productId);
    /// @notice The account holds no line of this product.
    /// @param account the account
    /// @param productId the product
    error NoLine(bytes32 account, uint8 productId);
    /// @notice A limit increase must raise the limit in force.
    /// @param current the limit in force (the temporary limit while it lasts)
    /// @param requested the decision's limit
    error LimitNotIncreased(uint256 current, uint256 requested);
    /// @notice A limit cut must lower the limit in force.
    /// @param current the limit in force (the temporary limit while it lasts)
    /// @param requested the new limit asked for
    error LimitNotCut(uint256 current, uint256 requested);
    /// @notice A grant's decision carries an expiry (grants are permanent), or a temporary raise's
    /// expiry is not in the future.
    /// @param expiry the decision's `limitExpiry`
    error InvalidExpiry(uint256 expiry);
    /// @notice The drawdown exceeds what the line limit (capped by the tier's `maxLineLimit`) leaves available.
    /// @param account the account
    /// @param productId the product
    /// @param requested the drawdown amount
    /// @param available the limit in force, capped by the tier, minus the line's usage (0 if below)
    error LimitExceeded(bytes32 account, uint8 productId, uint256 requested, uint256 available);
    /// @notice The drawdown exceeds what the account's exposure cap (capped by the tier's `maxExposure`) leaves available.
    /// @param account the account
    /// @param requested the drawdown amount
    /// @param available the exposure cap, capped by the tier, minus the account's usage (0 if below)
    error ExposureCapExceeded(bytes32 account, uint256 requested, uint256 available);
    /// @notice The line is frozen; no drawdowns until it is explicitly unfrozen.
    /// @param account the account
    /// @param productId the product
    /// @param reasonCode the line's freeze reason (0xFFFF: frozen by a write-off)
    error LineIsFrozen(bytes32 account, uint8 productId, uint16 reasonCode);
    /// @notice Unfreeze of a line that is not frozen, or freeze of one that is.
    /// @param account the account
    /// @param productId the product
    /// @param frozen the state asked for (true for a freeze, false for an unfreeze)
    error FreezeStateUnchanged(bytes32 account, uint8 productId, bool frozen);
    /// @notice A decision's daily rate is above the ledger's maximum (`MAX_RATE_PPM_PER_DAY`).
    /// @param ratePpmPerDay the decision's rate
    /// @param maxRatePpmPerDay the maximum (10000)
    error RateAboveMaximum(uint256 ratePpmPerDay, uint256 maxRatePpmPerDay);
    /// @notice The amount is zero: a drawdown, refund or repayment of 0, or an approved decision with limit 0.
    /// @param amount the amount (0)
    error InvalidAmount(uint256 amount);
    /// @notice The product does not allow this number of periods (or the kind never does: purchases
    /// take 1, 3, 6, 9 or 12, cash loans 3 to 12).
    /// @param productId the product
    /// @param periods the periods asked for
    error PeriodsNotAllowed(uint8 productId, uint8 periods);
    /// @notice The call needs a product of another kind (e.g. a purchase on a cash-loan product).
    /// @param productId the product
    /// @param expected the kind the call needs
    error WrongProductKind(uint8 productId, ProductKind expected);
    /// @notice The repayment method does not fit the product (a cash loan cannot be `Bullet`).
    /// @param method the method asked for
    error InvalidMethod(RepaymentMethod method);
    /// @notice The terms cost more than the product's annual cost ceiling allows.
    /// @param productId the product
    /// @param presentValue the present value of all payments discounted at the ceiling rate (rounded up)
    /// @param principal the principal; terms are compliant when presentValue <= principal
    /// @param ceilingPpmPerYear the product's cost ceiling
    error CostCeilingExceeded(uint8 productId, uint256 presentValue, uint256 principal, uint32 ceilingPpmPerYear);
    /// @notice No loan with this number on the account.
    /// @param account the account
    /// @param loanNo the loan number
    error UnknownLoan(bytes32 account, uint32 loanNo);
    /// @notice The loan is not active: closed (nothing to pay, refund, restructure or write off) or
    /// written off (no refund, restructure or second write-off), or it has no principal left to restructure.
    /// @param account the account
    /// @param loanNo the loan number
    /// @param status the loan's status
    error LoanNotActive(bytes32 account, uint32 loanNo, LoanStatus status);
    /// @notice The repayment is more than what closes the loan.
    /// @param account the account
    /// @param loanNo the loan number
    /// @param amount the repayment
    /// @param payoff what closes the loan now (`positionOf(...).payoff`)
    error RepaymentExceedsPayoff(bytes32 account, uint32 loanNo, uint256 amount, uint256 payoff);
    /// @notice The refund is more than the purchase's outstanding principal.
    /// @param account the account
    /// @param loanNo the loan number
    /// @param amount the refund
    /// @param outstanding the purchase's principal not yet settled
    error RefundExceedsOutstanding(bytes32 account, uint32 loanNo, uint256 amount, uint256 outstanding);
    /// @notice Refunds apply to pay-later purchases only.
    /// @param account the account
    /// @param loanNo the loan number (a cash loan)
    error NotAPurchase(bytes32 account, uint32 loanNo);
    /// @notice A restructure may only extend the term, pause payments or cut the rate: never
    /// shorten the schedule (its last due date may not move earlier) or raise the rate.
    /// @param field "newPeriods" (0, more than 36, or a last due date earlier than before),
    /// "holidayDays" (more than 180) or "newRatePpmPerDay" (above the loan's rate)
    /// @param value the value refused
    error InvalidRestructure(string field, uint256 value);
    /// @notice The loan has had `MAX_RESTRUCTURES_PER_LOAN` restructures already: no more (repay,
    /// or write it off once past its threshold).
    /// @param account the account
    /// @param loanNo the loan number
    /// @param restructures the loan's restructures so far
    /// @param maxRestructures `MAX_RESTRUCTURES_PER_LOAN`
    error RestructureLimitReached(bytes32 account, uint32 loanNo, uint256 restructures, uint256 maxRestructures);
    /// @notice The holiday asked for is more than the loan's restructures may still grant
    /// (`MAX_TOTAL_HOLIDAY_DAYS` together): ask for at most `remaining` days.
    /// @param account the account
    /// @param loanNo the loan number
    /// @param requested the holiday days asked for
    /// @param remaining `MAX_TOTAL_HOLIDAY_DAYS` less the days earlier restructures granted
    error HolidayDaysExceeded(bytes32 account, uint32 loanNo, uint256 requested, uint256 remaining);
    /// @notice Write-off before the loan's threshold of days past due (fixed in its terms at drawdown).
    /// @param account the account
    /// @param loanNo the loan number
    /// @param daysPastDue the loan's days past due now
    /// @param threshold the loan's `writeOffDays` (0: its product allowed no write-off when it was drawn)
    error WriteOffTooEarly(bytes32 account, uint32 loanNo, uint256 daysPastDue, uint256 threshold);
    /// @notice A view was asked about a time before the loan's last checkpoint.
    /// @param time the time asked for
    /// @param checkpointTime `startTime + checkpointDay` days
    error TimeBeforeCheckpoint(uint256 time, uint256 checkpointTime);
    /// @notice A value does not fit its storage width (a guard on accrued interest and penalty and
    /// on position amounts; the ledger's caps keep real values far below it).
    /// @param value the value
    error ValueOverflow(uint256 value);

    // ------------------------------------------------------------------ events

    /// @notice The ledger-wide chain advanced by one entry: an account entry (emitted right
    /// after the entry's event, at the next log index) or a ledger-wide event (right after it:
    /// RoleGranted, RoleRevoked, Paused, Unpaused, ProductConfigured, TierPolicySet). See `ledgerHead`.
    /// @param ledgerSeq the ledger-wide seq of the entry (the first entry, the constructor's
    /// grant of DEFAULT_ADMIN_ROLE, is 1)
    /// @param ledgerHead the ledger-wide head after the entry
    event LedgerAdvanced(uint64 ledgerSeq, bytes32 ledgerHead);
    /// @notice One call of a `batch` was refused: its state changes were undone and the batch
    /// went on with the next call. Nothing else is recorded for it (no entry, no seq).
    /// @param account the call's first argument word (the account id, or `decision.account`)
    /// @param index the call's position in the batch, from 0
    /// @param call the call as sent (selector and arguments, its `ref` and `expectedSeq` in it)
    /// @param reason the revert data: the custom error with its values (empty for a selector
    /// the ledger does not have)
    event OperationRefused(bytes32 indexed account, uint256 index, bytes call, bytes reason);

    /// @notice A product was created or its terms changed (ledger-wide; not an account entry).
    /// @param productId the product
    /// @param previous the product's terms before (all zero for a new product)
    /// @param current the product's terms now
    /// @param by the admin that made the change
    event ProductConfigured(uint8 indexed productId, Product previous, Product current, address indexed by);
    /// @notice A tier's caps were set (ledger-wide; not an account entry).
    /// @param tier the tier
    /// @param previous the tier's caps before (zero for a new tier)
    /// @param current the tier's caps now
    /// @param by the admin that set them
    event TierPolicySet(uint8 indexed tier, TierPolicy previous, TierPolicy current, address indexed by);

    /// @notice An account was opened. Entry kind 1, always the account's first entry (seq 1).
    /// @param account the new account's id
    /// @param seq the entry's seq (1)
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param tier the account's identity tier
    /// @param exposureCap the account's exposure cap, in fen
    /// @param by the operator that sent the call
    event AccountOpened(bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, uint8 tier, uint64 exposureCap, address by);
    /// @notice The account's exposure cap changed. Entry kind 8.
    /// @param account the account
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param previousCap the cap before, in fen
    /// @param newCap the cap now, in fen (may equal or be below the account's usage)
    /// @param by the operator that sent the call
    event ExposureCapChanged(bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, uint64 previousCap, uint64 newCap, address by);
    /// @notice A declined decision was recorded (declines are facts too). Entry kind 2. The
    /// decision's nonce is spent; nothing else changes.
    /// @param account the account (`decision.account`)
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param decision the signed decision (`approved` false)
    /// @param scorer the scorer named as its signer (held `SCORER_ROLE`)
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param by the operator that sent the call
    event DecisionDeclined(
        bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, Decision decision, address scorer, bytes signature, address by
    );
    /// @notice A line was granted on a signed decision. Entry kind 3. The line's limit and rate
    /// are the decision's, and the account's tier becomes `decision.tier`.
    /// @param account the account (`decision.account`)
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param decision the signed decision (`approved` true, `limitExpiry` 0)
    /// @param scorer the scorer named as its signer (held `SCORER_ROLE`)
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param by the operator that sent the call
    event LineGranted(
        bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, Decision decision, address scorer, bytes signature, address by
    );
    /// @notice A line's limit was raised on a signed decision (temporary when `decision.limitExpiry != 0`).
    /// Entry kind 4. The line's rate becomes `decision.ratePpmPerDay` and the account's tier `decision.tier`.
    /// @param account the account (`decision.account`)
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param previousLimit the line's permanent limit before
    /// @param previousTempLimit the line's temporary limit before
    /// @param previousTempExpiry the line's temporary limit's expiry before
    /// @param decision the signed decision (`approved` true; `limit` the new limit)
    /// @param scorer the scorer named as its signer (held `SCORER_ROLE`)
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param by the operator that sent the call
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
    /// @notice The limit in force was cut from `previousLimit` to `newLimit`. Entry kind 5. While a temporary
    /// raise lasts, the cut lowers it to `newLimit` and the permanent limit to at most
    /// `newLimit`; a cut never raises the limit that applies after a temporary raise ends.
    /// @param account the account
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param productId the line's product
    /// @param previousLimit the limit in force before (the temporary limit while it lasted)
    /// @param newLimit the limit in force now (may be below the line's usage)
    /// @param reasonCode the operator's reason code
    /// @param by the operator that sent the call
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
    /// @notice A line was frozen; only an explicit unfreeze clears it. Entry kind 6. (A write-off's
    /// freeze is recorded in its `WrittenOff` entry instead.)
    /// @param account the account
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param productId the line's product
    /// @param reasonCode the freeze reason, kept as the line's `freezeReason`
    /// @param by the operator that sent the call
    event LineFrozen(bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, uint8 productId, uint16 reasonCode, address by);
    /// @notice A line was unfrozen. Entry kind 7.
    /// @param account the account
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param productId the line's product
    /// @param reasonCode the unfreeze reason, kept as the line's `freezeReason`
    /// @param by the operator that sent the call
    event LineUnfrozen(bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, uint8 productId, uint16 reasonCode, address by);
    /// @notice A purchase or cash loan was drawn. `terms` is the full schedule input. Entry kind 9.
    /// @param account the account
    /// @param loanNo the new loan's number (1-based, per account)
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param terms the loan's terms, `startTime` the block timestamp
    /// @param by the operator that sent the call
    event Drawn(bytes32 indexed account, uint32 indexed loanNo, uint64 seq, bytes32 head, bytes32 ref, LoanTerms terms, address by);
    /// @notice A merchant refund reduced a purchase's principal (applied oldest period first) and
    /// waived the matching share of its installment fee. Entry kind 10.
    /// @param account the account
    /// @param loanNo the purchase's loan number
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param amount the principal refunded, in fen
    /// @param feeWaived the installment fee waived, cumulatively over the loan's refunds:
    /// `floor(totalFee x refunded / principal) - floor(totalFee x refundedBefore / principal)`, where
    /// `refunded` is `principalRefunded` after this refund and `refundedBefore` before it, at most the
    /// fee left; a refund that settles the last principal waives all the fee left (and the loan closes
    /// when no interest or penalty is owed)
    /// @param day the refund's day (days since the loan's start)
    /// @param by the operator that sent the call
    event Refunded(
        bytes32 indexed account,
        uint32 indexed loanNo,
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
    /// Entry kind 11.
    /// @param account the account
    /// @param loanNo the loan number
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param amount the amount repaid, in fen
    /// @param allocation how `amount` was split (its buckets sum to `amount`)
    /// @param day the repayment's day (days since the loan's start)
    /// @param interestAccrued interest accrued since the last checkpoint (0 for a written-off loan)
    /// @param penaltyAccrued penalty accrued since the last checkpoint (0 for a written-off loan)
    /// @param status the loan's status after the repayment (a recovery leaves it `WrittenOff`)
    /// @param by the operator that sent the call
    event Repaid(
        bytes32 indexed account,
        uint32 indexed loanNo,
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
    /// @notice A hardship restructure: the remaining principal and the fee owed now re-based on new
    /// terms. The loan's days past due start again at 0 on the new schedule; `daysPastDueCleared`
    /// says how many it had, so no ageing is reset silently. Entry kind 12.
    /// @param account the account
    /// @param loanNo the loan number
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param previousTerms the loan's terms before
    /// @param newTerms the loan's terms now: principal left, `totalFee` the fee billed and unpaid
    /// (fees of periods not yet started are waived, as at a payoff, so the payoff never rises), `startTime` now, `firstDueDay`
    /// `holidayDays` + 30, the new rate, the same product and penalty rate (a single-payment
    /// purchase spread over several periods becomes `EqualPrincipal`)
    /// @param interestAccrued interest accrued at this checkpoint (stays owed)
    /// @param penaltyAccrued penalty accrued at this checkpoint (stays owed)
    /// @param holidayDays the payment holiday before the new schedule's first period
    /// @param daysPastDueCleared the loan's days past due just before the restructure (0 after it)
    /// @param decision the scorer's decision authorising it (purpose Restructure, subject the terms)
    /// @param scorer the scorer that signed it
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param by the operator that sent the call
    event Restructured(
        bytes32 indexed account,
        uint32 indexed loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        LoanTerms previousTerms,
        LoanTerms newTerms,
        uint64 interestAccrued,
        uint64 penaltyAccrued,
        uint16 holidayDays,
        uint32 daysPastDueCleared,
        Decision decision,
        address scorer,
        bytes signature,
        address by
    );
    /// @notice A line frozen by a write-off was reinstated (unfrozen) on a scorer's decision of
    /// purpose Reinstate. Entry kind 14. The line's `freezeReason` becomes 0.
    /// @param account the account (`decision.account`)
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param decision the signed decision (`approved` true, purpose Reinstate, subject zero; `productId` the line)
    /// @param scorer the scorer that signed it
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param by the operator that sent the call
    event LineReinstated(
        bytes32 indexed account, uint64 seq, bytes32 head, bytes32 ref, Decision decision, address scorer, bytes signature, address by
    );
    /// @notice A loan was written off past its product's threshold of days past due. Entry kind 13.
    /// `lineFrozen` is true when the write-off froze the loan's line (reason code 0xFFFF).
    /// @param account the account
    /// @param loanNo the loan number
    /// @param seq the entry's seq
    /// @param head the account's hash-chain head after this entry
    /// @param ref the caller's reference
    /// @param principalWrittenOff the principal outstanding (it stays in the line's and account's usage until recovered)
    /// @param daysPastDue the loan's days past due at the write-off
    /// @param interestAccrued interest accrued at this last checkpoint (stays owed)
    /// @param penaltyAccrued penalty accrued at this last checkpoint (stays owed)
    /// @param lineFrozen true when this write-off froze the line; false when it was already frozen
    /// @param by the operator that sent the call
    event WrittenOff(
        bytes32 indexed account,
        uint32 indexed loanNo,
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

    /// @notice Create or change a product. A product's kind never changes once set. Loans keep
    /// the terms they were drawn with (including the penalty rate); the write-off threshold
    /// applied is the product's at the time of the write-off.
    /// @dev Role: `DEFAULT_ADMIN_ROLE`. While paused: accepted.
    /// Requirements: `product.kind` is not None and equals the stored kind if one is set;
    /// `costCeilingPpmPerYear` and `allowedPeriods` are non-zero; a pay-later product has
    /// `graceDays` > 0; `penaltyPpmPerDay` x 365 is at most `costCeilingPpmPerYear`.
    /// Emits `ProductConfigured`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `DEFAULT_ADMIN_ROLE`;
    /// - `InvalidProduct(productId, "kind")` if the kind is None or differs from the stored kind;
    /// - `InvalidProduct(productId, "costCeilingPpmPerYear")` if the ceiling is zero;
    /// - `InvalidProduct(productId, "allowedPeriods")` if no period count is allowed;
    /// - `InvalidProduct(productId, "graceDays")` if a pay-later product has no grace days;
    /// - `PenaltyAboveCeiling` if the annualized penalty exceeds the ceiling.
    /// @param productId the product's id
    /// @param product the product's terms
    function configureProduct(uint8 productId, Product calldata product) external;

    /// @notice Set a tier's caps (a tier cannot be removed: both caps must stay non-zero).
    /// @dev Role: `DEFAULT_ADMIN_ROLE`. While paused: accepted.
    /// Requirements: `policy.maxLineLimit` and `policy.maxExposure` are non-zero.
    /// Emits `TierPolicySet`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `DEFAULT_ADMIN_ROLE`;
    /// - `UnknownTier(tier)` if either cap is zero.
    /// @param tier the tier
    /// @param policy the tier's caps
    function setTierPolicy(uint8 tier, TierPolicy calldata policy) external;

    /// @notice Stop new credit (accounts, grants, raises, unfreezes, drawdowns, cap raises);
    /// repayments, refunds, restructures, write-offs, cuts, freezes and declines go on.
    /// @dev Role: `PAUSER_ROLE`. Requirements: not paused.
    /// Emits OpenZeppelin's `Paused(caller)`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `PAUSER_ROLE`;
    /// - `EnforcedPause()` if already paused.
    function pause() external;

    /// @notice Resume after `pause`.
    /// @dev Role: `PAUSER_ROLE`. Requirements: paused.
    /// Emits OpenZeppelin's `Unpaused(caller)`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `PAUSER_ROLE`;
    /// - `ExpectedPause()` if not paused.
    function unpause() external;

    // ------------------------------------------------------------------ accounts and lines (operator)

    /// @notice Run many ledger operations in one transaction. Each element of `calls` is the
    /// ABI-encoded call (4-byte selector and arguments) of one ledger operation (openAccount,
    /// setExposureCap, recordDecline, grantLine, increaseLimit, cutLimit, freezeLine,
    /// unfreezeLine, reinstateLine, purchase, drawCash, refund, repay, restructure, writeOff).
    /// They run in order, each by DELEGATECALL to the ledger itself, so each keeps its own role
    /// check, pause check, `expectedSeq` and `ref` guarantee, and its events are those of the
    /// same direct call. A call the ledger refuses does not sink the batch: its state changes
    /// are undone, `OperationRefused(account, index, call, reason)` records it, and the next
    /// call runs (a later call of the same account expecting the refused one's seq is then
    /// refused with `SeqMismatch`). Return values of the calls are discarded.
    /// @dev Role: `OPERATOR_ROLE` (the batch itself, and each call its own role again, so a
    /// batch grants nothing a direct call by the same sender would not). While paused: accepted
    /// (each call applies its own pause rule). A `batch` call inside a batch is refused with
    /// `NestedBatch()`; a selector the ledger does not have is refused with empty revert data;
    /// a call shorter than 36 bytes is recorded with `account` zero. Reverts as a whole (nothing
    /// applied) with `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`, or
    /// when it runs out of gas.
    /// Emits per call the call's own events (each entry followed by `LedgerAdvanced`) or `OperationRefused`.
    /// @param calls the operations, in order
    function batch(bytes[] calldata calls) external;


    /// @notice Open an account: the first entry of its hash chain (seq 1). A retried open
    /// reverts with `AccountExists`.
    /// @dev Role: `OPERATOR_ROLE`. While paused: refused (`EnforcedPause`).
    /// Requirements: `account` is non-zero and not opened; `expectedSeq` is 0; `tier` has a
    /// policy and `exposureCap` is at most its `maxExposure`.
    /// Emits `AccountOpened`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `EnforcedPause()` while paused;
    /// - `InvalidAccountId()` if `account` is zero;
    /// - `AccountExists(account)` if the account is already open;
    /// - `SeqMismatch(account, expectedSeq, 0)` if `expectedSeq` is not 0;
    /// - `UnknownTier(tier)` if the tier has no policy;
    /// - `TierCapExceeded(tier, exposureCap, maxExposure)` if the cap is above the tier's.
    /// @param account the new account's id (random, non-zero)
    /// @param tier the account's identity tier
    /// @param exposureCap the account's exposure cap, in fen
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq must be 0
    function openAccount(bytes32 account, uint8 tier, uint64 exposureCap, bytes32 ref, uint64 expectedSeq) external;

    /// @notice Change the account's exposure cap (at most the tier's `maxExposure`). Raising it
    /// is new credit capacity and is refused while paused; lowering it (even below the account's
    /// usage, which then blocks drawdowns) or keeping it is always allowed.
    /// @dev Role: `OPERATOR_ROLE`. While paused: refused (`EnforcedPause`) if `newCap` is above
    /// the current cap, accepted otherwise.
    /// Requirements: the account exists at `expectedSeq`; `newCap` is at most the tier's `maxExposure`.
    /// Emits `ExposureCapChanged`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `UnknownAccount(account)` if the account does not exist;
    /// - `SeqMismatch(account, expectedSeq, seq)` if the account is not at `expectedSeq`;
    /// - `EnforcedPause()` if paused and the cap would rise;
    /// - `UnknownTier(tier)` if the account's tier has no policy (a guard: opening and approved
    ///   decisions only ever set a tier that has one, and a policy cannot be removed);
    /// - `TierCapExceeded(tier, newCap, maxExposure)` if the cap is above the tier's.
    /// @param account the account
    /// @param newCap the new exposure cap, in fen
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function setExposureCap(bytes32 account, uint64 newCap, bytes32 ref, uint64 expectedSeq) external;

    /// @notice Record a declined decision signed by `scorer`. A decline is a fact of the account's
    /// history; it spends the decision's nonce and changes nothing else (not the tier).
    /// @dev Role: `OPERATOR_ROLE` (the signature needs a `SCORER_ROLE` holder). While paused: accepted.
    /// Requirements: `decision.approved` is false; the account `decision.account` exists at
    /// `expectedSeq`; purpose Line and subject zero; `decision.scorer == scorer`; the product is
    /// active; issued no later than now, with a deadline at most `MAX_DECISION_LIFETIME` after
    /// `issuedAt` that has not passed; the nonce is the account's `decisionNonce`; `scorer` holds
    /// `SCORER_ROLE` and `signature` is its valid signature (ECDSA, or ERC-1271 for a contract)
    /// of `decisionDigest(decision)`. The signature is checked last in every decision path, so a
    /// simulation with an empty signature that fails with `InvalidDecisionSignature` alone
    /// passes every other check.
    /// Emits `DecisionDeclined`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `DecisionOutcomeMismatch(true)` if the decision is an approval;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `DecisionPurposeMismatch(0, purpose)` if the purpose is not Line;
    /// - `DecisionSubjectMismatch(0, subject)` if the subject is not zero;
    /// - `DecisionScorerMismatch(scorer, decision.scorer)` if the decision names another scorer;
    /// - `UnknownProduct(productId)` if the decision's product is not active;
    /// - `DecisionIssuedInFuture(issuedAt, now)` if `issuedAt` > `block.timestamp`;
    /// - `DecisionLifetimeTooLong(issuedAt, deadline, MAX_DECISION_LIFETIME)` if the deadline is too far;
    /// - `DecisionExpired(deadline, now)` if `deadline` < `block.timestamp`;
    /// - `DecisionNonceMismatch(account, decisionNonce, nonce)` if the nonce is not the next one;
    /// - `NotScorer(scorer)` if `scorer` lacks `SCORER_ROLE`;
    /// - `InvalidDecisionSignature(scorer, digest)` if the signature does not verify.
    /// @param decision the declined decision
    /// @param scorer the scorer that signed it
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function recordDecline(Decision calldata decision, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external;

    /// @notice Grant a line on an approved decision signed by `scorer`: the line gets the
    /// decision's limit (permanent) and daily rate, and the account the decision's tier.
    /// @dev Role: `OPERATOR_ROLE` (the signature needs a `SCORER_ROLE` holder). While paused:
    /// refused (`EnforcedPause`).
    /// Requirements: `decision.approved` is true and `limitExpiry` 0; the decision checks of
    /// `recordDecline`; `decision.tier` has a policy; `limit` is non-zero and at most the tier's
    /// `maxLineLimit`; `ratePpmPerDay` at most `MAX_RATE_PPM_PER_DAY`; no line of the product yet.
    /// Emits `LineGranted`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `EnforcedPause()` while paused;
    /// - `DecisionOutcomeMismatch(false)` if the decision is a decline;
    /// - `InvalidExpiry(limitExpiry)` if `limitExpiry` is not 0;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - the decision checks of `recordDecline` up to `NotScorer`, in its order;
    /// - `UnknownTier(tier)` if the decision's tier has no policy;
    /// - `InvalidAmount(0)` if the limit is zero;
    /// - `TierCapExceeded(tier, limit, maxLineLimit)` if the limit is above the tier's;
    /// - `RateAboveMaximum(ratePpmPerDay, 10000)` if the rate is above the maximum;
    /// - `LineExists(account, productId)` if the line is already granted;
    /// - `InvalidDecisionSignature(scorer, digest)` if the signature does not verify (last).
    /// @param decision the approved decision
    /// @param scorer the scorer that signed it
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function grantLine(Decision calldata decision, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external;

    /// @notice Raise a line's limit on an approved decision: permanent when `limitExpiry == 0`,
    /// else a temporary limit until `limitExpiry`. The new limit must exceed the limit in force.
    /// The decision's daily rate becomes the line's rate for later drawdowns, and its tier the
    /// account's tier.
    /// @dev Role: `OPERATOR_ROLE` (the signature needs a `SCORER_ROLE` holder). While paused:
    /// refused (`EnforcedPause`).
    /// Requirements: `decision.approved` is true; the decision checks of `grantLine` (tier, limit,
    /// rate); the line is granted; `limit` is above the limit in force; a temporary raise's
    /// `limitExpiry` is in the future.
    /// Emits `LimitIncreased`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `EnforcedPause()` while paused;
    /// - `DecisionOutcomeMismatch(false)` if the decision is a decline;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - the decision checks of `recordDecline` up to `NotScorer`, then `UnknownTier`,
    ///   `InvalidAmount`, `TierCapExceeded`, `RateAboveMaximum` as in `grantLine`;
    /// - `NoLine(account, productId)` if the line is not granted;
    /// - `LimitNotIncreased(current, limit)` if the limit does not exceed the limit in force;
    /// - `InvalidExpiry(limitExpiry)` if a temporary raise's expiry is not after `block.timestamp`;
    /// - `InvalidDecisionSignature(scorer, digest)` if the signature does not verify (last).
    /// @param decision the approved decision (`limit` the new limit)
    /// @param scorer the scorer that signed it
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function increaseLimit(Decision calldata decision, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external;

    /// @notice Cut a line's limit in force; may go below usage (blocks drawdowns, never creates a
    /// debt). Needs no decision. A temporary raise in force drops to `newLimit` and keeps its expiry.
    /// A cut is adverse: it advances the account's `decisionNonce`, so no decision issued before
    /// it (a raise in flight) can be applied after it.
    /// @dev Role: `OPERATOR_ROLE`. While paused: accepted.
    /// Requirements: the account exists at `expectedSeq`; the line is granted; `newLimit` is
    /// below the limit in force.
    /// Emits `LimitCut`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `NoLine(account, productId)` if the line is not granted;
    /// - `LimitNotCut(current, newLimit)` if `newLimit` is not below the limit in force.
    /// @param account the account
    /// @param productId the line's product
    /// @param newLimit the new limit, in fen (0 allowed)
    /// @param reasonCode the operator's reason code, kept in the event
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function cutLimit(bytes32 account, uint8 productId, uint64 newLimit, uint16 reasonCode, bytes32 ref, uint64 expectedSeq)
        external;

    /// @notice Freeze a line: no drawdowns until an explicit unfreeze (no repayment or other
    /// path clears it). Repayments, refunds and restructures of its loans go on. A freeze advances
    /// the account's `decisionNonce`: decisions issued before it no longer apply.
    /// @dev Role: `OPERATOR_ROLE`. While paused: accepted.
    /// Requirements: the account exists at `expectedSeq`; the line is granted and not frozen.
    /// Emits `LineFrozen`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `NoLine(account, productId)` if the line is not granted;
    /// - `FreezeStateUnchanged(account, productId, true)` if the line is already frozen.
    /// @param account the account
    /// @param productId the line's product
    /// @param reasonCode the freeze reason, kept as the line's `freezeReason` and in the event
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function freezeLine(bytes32 account, uint8 productId, uint16 reasonCode, bytes32 ref, uint64 expectedSeq) external;

    /// @notice Unfreeze a line, except one frozen by a write-off (reason 0xFFFF: `reinstateLine`,
    /// with a decision). Unfreezing gives credit back, so it is refused while paused.
    /// @dev Role: `OPERATOR_ROLE`. While paused: refused (`EnforcedPause`).
    /// Requirements: the account exists at `expectedSeq`; the line is granted and frozen.
    /// Emits `LineUnfrozen`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `EnforcedPause()` while paused;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `NoLine(account, productId)` if the line is not granted;
    /// - `FreezeStateUnchanged(account, productId, false)` if the line is not frozen;
    /// - `DecisionRequired(account, productId, 0xFFFF)` if a write-off froze it.
    /// @param account the account
    /// @param productId the line's product
    /// @param reasonCode the unfreeze reason, kept as the line's `freezeReason` and in the event
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function unfreezeLine(bytes32 account, uint8 productId, uint16 reasonCode, bytes32 ref, uint64 expectedSeq) external;

    /// @notice Reinstate a line frozen (by a write-off or otherwise) on a scorer's decision of
    /// purpose Reinstate: the line `decision.productId` of `decision.account` is unfrozen and its
    /// `freezeReason` becomes 0. Spends the decision's nonce.
    /// @dev Role: `OPERATOR_ROLE` (the signature needs a `SCORER_ROLE` holder). While paused:
    /// refused (`EnforcedPause`).
    /// Emits `LineReinstated`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `EnforcedPause()` while paused;
    /// - `DecisionOutcomeMismatch(false)` if the decision is a decline;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `DecisionPurposeMismatch(2, purpose)`, `DecisionSubjectMismatch(0, subject)`, then the
    ///   decision checks of `recordDecline` up to `NotScorer`, in its order;
    /// - `NoLine(account, productId)` if the line is not granted;
    /// - `FreezeStateUnchanged(account, productId, false)` if the line is not frozen;
    /// - `InvalidDecisionSignature(scorer, digest)` if the signature does not verify (last).
    /// @param decision the approved Reinstate decision
    /// @param scorer the scorer that signed it
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function reinstateLine(Decision calldata decision, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external;

    // ------------------------------------------------------------------ loans (operator)

    /// @notice A pay-later purchase: `periods` 1 (single payment, free until the grace end) or an
    /// installment count the product allows (with its installment fee, spread evenly). The loan
    /// starts now, its first due date `graceDays` later, at the product's penalty rate, with no interest.
    /// @dev Role: `OPERATOR_ROLE`. While paused: refused (`EnforcedPause`).
    /// Requirements: the product is an active pay-later product; `periods` is 1, 3, 6, 9 or 12 and
    /// allowed by the product; `amount` is non-zero; the account exists at `expectedSeq`; the line
    /// is granted and not frozen; `amount` fits the line (limit in force, capped by the tier's
    /// `maxLineLimit`, minus usage) and the account (exposure cap, capped by the tier's
    /// `maxExposure`, minus usage); an installment fee keeps the APR within the cost ceiling.
    /// Emits `Drawn`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `EnforcedPause()` while paused;
    /// - `UnknownProduct(productId)` if the product is not active;
    /// - `WrongProductKind(productId, PayLater)` if it is a cash-loan product;
    /// - `PeriodsNotAllowed(productId, periods)` if the period count is not allowed;
    /// - `InvalidAmount(0)` if `amount` is zero;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `NoLine(account, productId)` if the line is not granted;
    /// - `LineIsFrozen(account, productId, freezeReason)` if the line is frozen;
    /// - `LimitExceeded(account, productId, amount, available)` if the line cannot take it;
    /// - `ExposureCapExceeded(account, amount, available)` if the account cannot take it;
    /// - `CostCeilingExceeded` if the installment fee's APR is above the product's ceiling.
    /// Loan numbers are uint16: an account's 65,536th drawdown reverts (arithmetic panic).
    /// @param account the account
    /// @param productId the pay-later product
    /// @param amount the purchase amount (principal), in fen
    /// @param periods 1, or the number of monthly installments
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    /// @return loanNo the new loan's number on the account
    function purchase(bytes32 account, uint8 productId, uint64 amount, uint8 periods, bytes32 ref, uint64 expectedSeq)
        external
        returns (uint32 loanNo);

    /// @notice A merchant refund against a purchase: reduces its principal (oldest period first)
    /// and waives the matching share of its installment fee, computed from the total refunded so
    /// that refunds of 167 + 166 waive what one of 333 does. A refund that brings the principal to
    /// zero waives all the fee left and closes the loan (unless penalty is owed). Refunds reduce
    /// debt, so they are accepted while paused and on frozen lines.
    /// @dev Role: `OPERATOR_ROLE`. While paused: accepted.
    /// Requirements: the account exists at `expectedSeq`; the loan exists and is `Active`; it is a
    /// pay-later purchase; `amount` is non-zero and at most its outstanding principal.
    /// Emits `Refunded`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `UnknownLoan(account, loanNo)` if there is no such loan;
    /// - `LoanNotActive(account, loanNo, status)` if it is closed or written off;
    /// - `NotAPurchase(account, loanNo)` if it is a cash loan;
    /// - `InvalidAmount(0)` if `amount` is zero;
    /// - `RefundExceedsOutstanding(account, loanNo, amount, outstanding)` if it is above the outstanding principal;
    /// - `ValueOverflow` if accrued penalty would not fit its storage width (a guard).
    /// @param account the account
    /// @param loanNo the purchase's loan number
    /// @param amount the principal refunded, in fen
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function refund(bytes32 account, uint32 loanNo, uint64 amount, bytes32 ref, uint64 expectedSeq) external;

    /// @notice A cash loan of `periods` periods at the line's daily rate, equal principal or
    /// annuity. The loan starts now, its first due date 30 days later, at the product's penalty rate.
    /// @dev Role: `OPERATOR_ROLE`. While paused: refused (`EnforcedPause`).
    /// Requirements: the product is an active cash-loan product; `method` is not `Bullet`;
    /// `periods` is 3 to 12 and allowed by the product; then as `purchase` (amount, account, line,
    /// limits); a non-zero rate keeps the APR within the cost ceiling.
    /// Emits `Drawn`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `EnforcedPause()` while paused;
    /// - `UnknownProduct(productId)` if the product is not active;
    /// - `WrongProductKind(productId, CashLoan)` if it is a pay-later product;
    /// - `InvalidMethod(Bullet)` if `method` is `Bullet`;
    /// - `PeriodsNotAllowed(productId, periods)` if the period count is not allowed;
    /// - `InvalidAmount`, `UnknownAccount`, `SeqMismatch`, `NoLine`, `LineIsFrozen`,
    ///   `LimitExceeded`, `ExposureCapExceeded` as in `purchase`;
    /// - `CostCeilingExceeded` if the interest's APR is above the product's ceiling.
    /// @param account the account
    /// @param productId the cash-loan product
    /// @param amount the principal, in fen
    /// @param periods the number of monthly periods (3 to 12)
    /// @param method `EqualPrincipal` or `Annuity`
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    /// @return loanNo the new loan's number on the account
    function drawCash(
        bytes32 account,
        uint8 productId,
        uint64 amount,
        uint8 periods,
        RepaymentMethod method,
        bytes32 ref,
        uint64 expectedSeq
    ) external returns (uint32 loanNo);

    /// @notice Repay a loan. Interest and penalty are accrued to today, then the amount is applied
    /// to penalty, fees, interest, overdue principal (oldest first), the current period's
    /// principal, then prepayment (no charge). Always accepted: while paused, on a frozen line,
    /// and on a written-off loan (a recovery: no accrual, the principal it repays is released from
    /// the usage the write-off kept, the loan stays `WrittenOff`). A loan whose principal, billed fees, interest and penalty are all paid is `Closed`.
    /// @dev Role: `OPERATOR_ROLE`. While paused: accepted.
    /// Requirements: `amount` is non-zero; the account exists at `expectedSeq`; the loan exists
    /// and is not `Closed`; `amount` is at most the payoff.
    /// Emits `Repaid`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `InvalidAmount(0)` if `amount` is zero;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `UnknownLoan(account, loanNo)` if there is no such loan;
    /// - `LoanNotActive(account, loanNo, Closed)` if the loan is closed;
    /// - `ValueOverflow` if a position amount would not fit uint64 (a guard);
    /// - `RepaymentExceedsPayoff(account, loanNo, amount, payoff)` if it is more than closes the loan.
    /// @param account the account
    /// @param loanNo the loan number
    /// @param amount the amount repaid, in fen
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    /// @return allocation how `amount` was split over the buckets
    function repay(bytes32 account, uint32 loanNo, uint64 amount, bytes32 ref, uint64 expectedSeq)
        external
        returns (Allocation memory allocation);

    /// @notice Hardship restructure: the remaining principal and the fee billed and unpaid are
    /// spread over `newPeriods` periods starting now, the first due `holidayDays` + 30 days from
    /// now, at a daily rate no higher than before; the fees of periods not yet started are waived
    /// (as at a payoff), so the payoff never rises. Accrued interest and penalty stay owed. The
    /// schedule's last due date may not move earlier, and the new terms must meet the product's
    /// cost ceiling. A loan has at most `MAX_RESTRUCTURES_PER_LOAN` restructures, granting at most
    /// `MAX_TOTAL_HOLIDAY_DAYS` holiday days together. The days past due it clears are in the event.
    /// Needs an approved scorer decision of purpose Restructure about the account whose subject is
    /// `keccak256(abi.encode(uint32 loanNo, uint8 newPeriods, uint16 holidayDays, uint32 newRatePpmPerDay))`;
    /// it spends the decision's nonce.
    /// @dev Role: `OPERATOR_ROLE` (the signature needs a `SCORER_ROLE` holder). While paused: accepted.
    /// Requirements: the decision checks of `recordDecline` with purpose Restructure and that
    /// subject, `decision.approved` true; `newPeriods` is 1 to 36; `holidayDays` at most 180; the
    /// loan exists and is `Active` with principal left; `newRatePpmPerDay` is at most the loan's
    /// rate; the new last due date is not before the old one; the signature, checked last.
    /// Emits `Restructured`. Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `DecisionOutcomeMismatch(false)` if the decision is a decline;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `DecisionPurposeMismatch(1, purpose)`, `DecisionSubjectMismatch(subject, decision.subject)`,
    ///   then the decision checks of `recordDecline` up to `NotScorer`, in its order;
    /// - `InvalidRestructure("newPeriods", newPeriods)` if it is 0 or more than 36;
    /// - `InvalidRestructure("holidayDays", holidayDays)` if it is more than 180;
    /// - `UnknownLoan(account, loanNo)` if there is no such loan;
    /// - `LoanNotActive(account, loanNo, status)` if it is closed or written off;
    /// - `InvalidRestructure("newRatePpmPerDay", newRatePpmPerDay)` if the rate would rise;
    /// - `RestructureLimitReached(account, loanNo, restructures, MAX_RESTRUCTURES_PER_LOAN)` if it had its last one;
    /// - `HolidayDaysExceeded(account, loanNo, holidayDays, remaining)` if the loan's holidays would exceed `MAX_TOTAL_HOLIDAY_DAYS`;
    /// - `ValueOverflow` if accrued interest or penalty would not fit its storage width (a guard);
    /// - `LoanNotActive(account, loanNo, Active)` if no principal is left;
    /// - `InvalidRestructure("newPeriods", newPeriods)` if the last due date would move earlier;
    /// - `CostCeilingExceeded(productId, presentValue, principal, ceiling)` if the new terms cost more than the product's ceiling;
    /// - `InvalidDecisionSignature(scorer, digest)` if the signature does not verify (last).
    /// @param decision the scorer's decision (its `account` is the loan's account)
    /// @param scorer the scorer that signed it
    /// @param signature the scorer's signature over `decisionDigest(decision)`
    /// @param loanNo the loan number
    /// @param newPeriods the new number of periods (1 to 36)
    /// @param holidayDays days without payments before the new first period (0 to 180)
    /// @param newRatePpmPerDay the new daily rate, at most the loan's
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function restructure(
        Decision calldata decision,
        address scorer,
        bytes calldata signature,
        uint32 loanNo,
        uint8 newPeriods,
        uint16 holidayDays,
        uint32 newRatePpmPerDay,
        bytes32 ref,
        uint64 expectedSeq
    ) external;

    /// @notice Write a loan off once it is at least its terms' `writeOffDays` past due (the
    /// product's threshold when the loan was drawn; a later product change does not move it). Accrual
    /// stops and later repayments are recorded as recoveries. Its principal keeps counting against
    /// the line and the exposure cap until recovered (each recovery releases the principal it
    /// repays), so a defaulted borrower cannot draw the written-off amount again on another line.
    /// The loan's line is frozen with reason code 0xFFFF (the reason is set to 0xFFFF also when the
    /// line was already frozen), so no new credit follows on it without an explicit unfreeze.
    /// A write-off advances the account's `decisionNonce`: decisions issued before it no longer apply.
    /// @dev Role: `OPERATOR_ROLE`. While paused: accepted.
    /// Requirements: the account exists at `expectedSeq`; the loan exists and is `Active`; the
    /// loan's `writeOffDays` is non-zero and the loan is at least that many days past due.
    /// Emits `WrittenOff` (the line's freeze is recorded there, not as a `LineFrozen` entry).
    /// Reverts with, in this order:
    /// - `AccessControlUnauthorizedAccount` if the caller lacks `OPERATOR_ROLE`;
    /// - `UnknownAccount(account)`, `SeqMismatch(account, expectedSeq, seq)`;
    /// - `UnknownLoan(account, loanNo)` if there is no such loan;
    /// - `LoanNotActive(account, loanNo, status)` if it is closed or already written off;
    /// - `WriteOffTooEarly(account, loanNo, daysPastDue, writeOffDays)` if it is too early by the
    ///   loan's own `writeOffDays` (or its terms allow no write-off).
    /// Also `ValueOverflow` if a position or accrued amount would not fit its storage width (a
    /// guard, checked before and after `WriteOffTooEarly`).
    /// @param account the account
    /// @param loanNo the loan number
    /// @param ref the caller's reference, kept in the event
    /// @param expectedSeq the account's current `seq`
    function writeOff(bytes32 account, uint32 loanNo, bytes32 ref, uint64 expectedSeq) external;

    // ------------------------------------------------------------------ views

    /// @notice The EIP-712 digest a scorer signs for `decision` (domain "CreditLedger", version
    /// "1", this chain and this ledger's address).
    /// @dev No role; answers while paused; never reverts.
    /// @param decision the decision
    /// @return the digest
    function decisionDigest(Decision calldata decision) external view returns (bytes32);

    /// @notice A product's terms.
    /// @dev No role; answers while paused; never reverts (all zero for a product never configured).
    /// @param productId the product
    /// @return the product's terms
    function productOf(uint8 productId) external view returns (Product memory);

    /// @notice A tier's caps.
    /// @dev No role; answers while paused; never reverts (zero caps for a tier never configured).
    /// @param tier the tier
    /// @return the tier's caps
    function tierPolicyOf(uint8 tier) external view returns (TierPolicy memory);

    /// @notice The account, including its `seq` and hash-chain `head`: the one read an export of
    /// its history is checked against.
    /// @dev No role; answers while paused; never reverts (all zero, `exists` false, for an unknown account).
    /// @param account the account
    /// @return the account as stored
    function accountOf(bytes32 account) external view returns (Account memory);

    /// @notice A line of the account.
    /// @dev No role; answers while paused; never reverts (all zero, `granted` false, for no line).
    /// @param account the account
    /// @param productId the line's product
    /// @return the line as stored
    function lineOf(bytes32 account, uint8 productId) external view returns (Line memory);

    /// @notice The limit in force now: the temporary limit while it lasts and is above the
    /// permanent one, else the permanent limit. Drawdowns are also capped by the tier's `maxLineLimit`.
    /// @dev No role; answers while paused; never reverts (0 for no line).
    /// @param account the account
    /// @param productId the line's product
    /// @return the limit in force, in fen
    function effectiveLimit(bytes32 account, uint8 productId) external view returns (uint64);

    /// @notice A loan's terms and servicing state as stored (after a restructure, its new terms).
    /// @dev No role; answers while paused. Reverts with `UnknownLoan(account, loanNo)` if there
    /// is no such loan.
    /// @param account the account
    /// @param loanNo the loan number
    /// @return terms the loan's terms
    /// @return state the loan's servicing state
    function loanOf(bytes32 account, uint32 loanNo) external view returns (LoanTerms memory terms, LoanState memory state);

    /// @notice The loan's schedule: due date, principal and fee of each period of its current terms.
    /// @dev No role; answers while paused. Reverts with `UnknownLoan(account, loanNo)` if there
    /// is no such loan.
    /// @param account the account
    /// @param loanNo the loan number
    /// @return the installments, one per period
    function scheduleOf(bytes32 account, uint32 loanNo) external view returns (Installment[] memory);

    /// @notice The loan as of `time` (>= its last checkpoint): due, overdue, days past due, payoff.
    /// A closed loan reads as all zero; a written-off loan accrues nothing more.
    /// @dev No role; answers while paused. Reverts with:
    /// - `UnknownLoan(account, loanNo)` if there is no such loan;
    /// - `TimeBeforeCheckpoint(time, checkpointTime)` if `time` is before the loan's last checkpoint;
    /// - `ValueOverflow` if an amount would not fit uint64 (a guard).
    /// @param account the account
    /// @param loanNo the loan number
    /// @param time the timestamp to look at
    /// @return the loan's position at `time`
    function positionOf(bytes32 account, uint32 loanNo, uint256 time) external view returns (LoanPosition memory);

    /// @notice The ledger-wide count and head over every entry of every account and every
    /// ledger-wide event, as of the block it is read at: one call an auditor compares with what
    /// it read. From a zero head, entry n (ledgerSeq counts from 1) gives
    /// `ledgerHead_n = keccak256(abi.encode(bytes32 ledgerHead_{n-1}, uint64 n, bytes32 account, bytes32 entryHead))`
    /// where for an account entry `account` is the account id and `entryHead` the account's
    /// head after the entry, and for a ledger-wide event (`LedgerEventKind`) `account` is
    /// zero and `entryHead = keccak256(abi.encode(uint8 kind, keccak256(payload)))`, the payload
    /// the ABI encoding of the event's fields in event order (indexed ones included). The
    /// constructor's grant of DEFAULT_ADMIN_ROLE is entry 1. Every entry's event is followed by
    /// `LedgerAdvanced(n, ledgerHead_n)`. Mirrored by `core/hash-chain.ts` (`nextLedgerHead`,
    /// `ledgerEventEntryHead`).
    /// @return ledgerSeq the number of ledger-wide entries so far
    /// @return head the ledger-wide head after the last of them
    function ledgerHead() external view returns (uint64 ledgerSeq, bytes32 head);
}
