// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICreditLedger, MAX_RESTRUCTURES_PER_LOAN, MAX_TOTAL_HOLIDAY_DAYS} from "../interfaces/ICreditLedger.sol";
import {LoanMath} from "./LoanMath.sol";
import {LedgerStorage} from "./LedgerStorage.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title LoanServicing — what happens to a loan after it is drawn
/// @notice Refunds, repayments, restructures and write-offs, plus the pure calculators
/// (position, schedule, cost-ceiling present value). Deployed once and linked into
/// `CreditLedger`, whose storage it works on (DELEGATECALL), so the ledger stays under the
/// EIP-170 size limit. Every entry point takes the ledger's storage, so none is callable on
/// its own (and none appears in the library's ABI); the math is `LoanMath`.
/// @dev Access control and pause are the ledger's: every entry point here is reached only
/// through a ledger function guarded by its role. Events are the ledger's (`ICreditLedger`).
library LoanServicing {
    using LedgerStorage for LedgerStorage.Layout;

    uint8 internal constant MAX_RESTRUCTURE_PERIODS = 36;
    uint16 internal constant MAX_HOLIDAY_DAYS = 180;
    /// @notice The freeze reason code a write-off sets on the loan's line.
    uint16 internal constant WRITE_OFF_FREEZE_REASON = 0xFFFF;
    /// @notice The highest daily rate a line may carry (1 %/day); the cost ceiling is the real bound.
    uint32 internal constant MAX_RATE_PPM_PER_DAY = 10_000;
    /// @notice A decision lives at most this long on-chain: its deadline at most 30 days after its issue time.
    uint256 internal constant MAX_DECISION_LIFETIME = 30 days;

    // ================================================================== decisions

    /// @notice See `ICreditLedger.reinstateLine` (the ledger reads the scorer role and the digest).
    function reinstateLine(
        LedgerStorage.Layout storage $,
        ICreditLedger.Decision calldata d,
        address scorer,
        bytes calldata signature,
        bytes32 digest,
        bool scorerHeld,
        bytes32 ref,
        uint64 expectedSeq
    ) public {
        if (!d.approved) revert ICreditLedger.DecisionOutcomeMismatch(false);
        ICreditLedger.Account memory a = $.loadAccount(d.account, expectedSeq);
        _useDecision($, a, d, ICreditLedger.DecisionPurpose.Reinstate, bytes32(0), scorer, scorerHeld);
        ICreditLedger.Line storage line = $.lines[d.account][d.productId];
        if (!line.granted) revert ICreditLedger.NoLine(d.account, d.productId);
        if (!line.frozen) revert ICreditLedger.FreezeStateUnchanged(d.account, d.productId, false);
        _checkSignature(scorer, digest, signature);
        line.frozen = false;
        line.freezeReason = 0;
        bytes memory payload = abi.encode(d.account, ref, d, scorer, signature, msg.sender);
        bytes32 head = $.append(d.account, a, ICreditLedger.EntryKind.LineReinstated, payload);
        emit ICreditLedger.LineReinstated(d.account, a.seq, head, ref, d, scorer, signature, msg.sender);
        $.advanced();
    }

    /// @notice See `ICreditLedger.grantLine` (the ledger reads the scorer role and the digest).
    function grantLine(
        LedgerStorage.Layout storage $,
        ICreditLedger.Decision calldata d,
        address scorer,
        bytes calldata signature,
        bytes32 digest,
        bool scorerHeld,
        bytes32 ref,
        uint64 expectedSeq
    ) public {
        if (!d.approved) revert ICreditLedger.DecisionOutcomeMismatch(false);
        if (d.limitExpiry != 0) revert ICreditLedger.InvalidExpiry(d.limitExpiry);
        ICreditLedger.Account memory a = $.loadAccount(d.account, expectedSeq);
        _useDecision($, a, d, ICreditLedger.DecisionPurpose.Line, bytes32(0), scorer, scorerHeld);
        ICreditLedger.Line storage line = $.lines[d.account][d.productId];
        if (line.granted) revert ICreditLedger.LineExists(d.account, d.productId);
        _checkSignature(scorer, digest, signature);
        line.limit = d.limit;
        line.granted = true;
        line.ratePpmPerDay = d.ratePpmPerDay;
        bytes memory payload = abi.encode(d.account, ref, d, scorer, signature, msg.sender);
        bytes32 head = $.append(d.account, a, ICreditLedger.EntryKind.LineGranted, payload);
        emit ICreditLedger.LineGranted(d.account, a.seq, head, ref, d, scorer, signature, msg.sender);
        $.advanced();
    }

    /// @notice See `ICreditLedger.recordDecline` (the ledger reads the scorer role and the digest).
    function recordDecline(
        LedgerStorage.Layout storage $,
        ICreditLedger.Decision calldata d,
        address scorer,
        bytes calldata signature,
        bytes32 digest,
        bool scorerHeld,
        bytes32 ref,
        uint64 expectedSeq
    ) public {
        if (d.approved) revert ICreditLedger.DecisionOutcomeMismatch(true);
        ICreditLedger.Account memory a = $.loadAccount(d.account, expectedSeq);
        _useDecision($, a, d, ICreditLedger.DecisionPurpose.Line, bytes32(0), scorer, scorerHeld);
        _checkSignature(scorer, digest, signature);
        bytes memory payload = abi.encode(d.account, ref, d, scorer, signature, msg.sender);
        bytes32 head = $.append(d.account, a, ICreditLedger.EntryKind.DecisionDeclined, payload);
        emit ICreditLedger.DecisionDeclined(d.account, a.seq, head, ref, d, scorer, signature, msg.sender);
        $.advanced();
    }

    /// @notice See `ICreditLedger.increaseLimit` (the ledger reads the scorer role and the digest).
    function increaseLimit(
        LedgerStorage.Layout storage $,
        ICreditLedger.Decision calldata d,
        address scorer,
        bytes calldata signature,
        bytes32 digest,
        bool scorerHeld,
        bytes32 ref,
        uint64 expectedSeq
    ) public {
        if (!d.approved) revert ICreditLedger.DecisionOutcomeMismatch(false);
        ICreditLedger.Account memory a = $.loadAccount(d.account, expectedSeq);
        _useDecision($, a, d, ICreditLedger.DecisionPurpose.Line, bytes32(0), scorer, scorerHeld);
        ICreditLedger.Line memory line = $.lines[d.account][d.productId];
        if (!line.granted) revert ICreditLedger.NoLine(d.account, d.productId);
        uint64 current = effectiveLimit(line);
        if (d.limit <= current) revert ICreditLedger.LimitNotIncreased(current, d.limit);
        uint64 previousTempLimit = line.tempLimit;
        uint40 previousTempExpiry = line.tempExpiry;
        uint64 previousLimit = line.limit;
        if (d.limitExpiry == 0) {
            line.limit = d.limit;
        } else {
            if (d.limitExpiry <= block.timestamp) revert ICreditLedger.InvalidExpiry(d.limitExpiry);
            line.tempLimit = d.limit;
            line.tempExpiry = d.limitExpiry;
        }
        _checkSignature(scorer, digest, signature);
        line.ratePpmPerDay = d.ratePpmPerDay;
        $.lines[d.account][d.productId] = line;
        bytes memory payload =
            abi.encode(d.account, ref, previousLimit, previousTempLimit, previousTempExpiry, d, scorer, signature, msg.sender);
        bytes32 head = $.append(d.account, a, ICreditLedger.EntryKind.LimitIncreased, payload);
        emit ICreditLedger.LimitIncreased(
            d.account, a.seq, head, ref, previousLimit, previousTempLimit, previousTempExpiry, d, scorer, signature, msg.sender
        );
        $.advanced();
    }

    /// @notice Advance the ledger-wide chain by a ledger-wide event (`ICreditLedger.LedgerEventKind`)
    /// whose fields, in event order, ABI-encode to `payload`; emits `LedgerAdvanced`. The ledger
    /// calls it right after the event.
    function advanceLedgerWide(LedgerStorage.Layout storage $, ICreditLedger.LedgerEventKind kind, bytes memory payload)
        public
    {
        $.advanceLedger(bytes32(0), keccak256(abi.encode(kind, keccak256(payload))));
        $.advanced();
    }

    /// @dev The checks of a decision for account `a` but its signature (`_checkSignature`,
    /// always the last check of a decision path, so that a simulation with an empty signature
    /// fails on the signature alone when everything else passes), in this order: purpose,
    /// subject, scorer binding, product, issue time, lifetime, deadline, nonce, scorer role
    /// (`scorerHeld`, read by the ledger), and for an approved line decision tier cap and rate.
    /// Spends the decision's nonce on `a` (and sets an approved line decision's tier).
    function _useDecision(
        LedgerStorage.Layout storage $,
        ICreditLedger.Account memory a,
        ICreditLedger.Decision calldata d,
        ICreditLedger.DecisionPurpose purpose,
        bytes32 subject,
        address scorer,
        bool scorerHeld
    ) private view {
        if (d.purpose != uint8(purpose)) revert ICreditLedger.DecisionPurposeMismatch(uint8(purpose), d.purpose);
        if (d.subject != subject) revert ICreditLedger.DecisionSubjectMismatch(subject, d.subject);
        if (d.scorer != scorer) revert ICreditLedger.DecisionScorerMismatch(scorer, d.scorer);
        if (!$.products[d.productId].active) revert ICreditLedger.UnknownProduct(d.productId);
        if (d.issuedAt > block.timestamp) revert ICreditLedger.DecisionIssuedInFuture(d.issuedAt, block.timestamp);
        if (d.deadline > uint256(d.issuedAt) + MAX_DECISION_LIFETIME) {
            revert ICreditLedger.DecisionLifetimeTooLong(d.issuedAt, d.deadline, MAX_DECISION_LIFETIME);
        }
        if (d.deadline < block.timestamp) revert ICreditLedger.DecisionExpired(d.deadline, block.timestamp);
        if (d.nonce != a.decisionNonce) revert ICreditLedger.DecisionNonceMismatch(d.account, a.decisionNonce, d.nonce);
        if (!scorerHeld) revert ICreditLedger.NotScorer(scorer);
        if (d.approved && purpose == ICreditLedger.DecisionPurpose.Line) {
            ICreditLedger.TierPolicy memory policy = $.tiers[d.tier];
            if (policy.maxLineLimit == 0) revert ICreditLedger.UnknownTier(d.tier);
            if (d.limit == 0) revert ICreditLedger.InvalidAmount(0);
            if (d.limit > policy.maxLineLimit) revert ICreditLedger.TierCapExceeded(d.tier, d.limit, policy.maxLineLimit);
            if (d.ratePpmPerDay > MAX_RATE_PPM_PER_DAY) {
                revert ICreditLedger.RateAboveMaximum(d.ratePpmPerDay, MAX_RATE_PPM_PER_DAY);
            }
            a.tier = d.tier;
        }
        a.decisionNonce += 1;
    }

    function _checkSignature(address scorer, bytes32 digest, bytes calldata signature) private view {
        if (!SignatureChecker.isValidSignatureNow(scorer, digest, signature)) {
            revert ICreditLedger.InvalidDecisionSignature(scorer, digest);
        }
    }

    // ================================================================== views and checks

    /// @notice See `ICreditLedger.positionOf`.
    function positionOf(LedgerStorage.Layout storage $, bytes32 account, uint32 loanNo, uint256 time)
        public
        view
        returns (ICreditLedger.LoanPosition memory)
    {
        LedgerStorage.Loan memory loan = $.loadLoan(account, loanNo);
        uint256 checkpointTime = loan.terms.startTime + uint256(loan.state.checkpointDay) * LoanMath.DAY;
        if (time < checkpointTime) revert ICreditLedger.TimeBeforeCheckpoint(time, checkpointTime);
        return LoanMath.position(loan.terms, loan.state, LoanMath.dayOf(loan.terms, time));
    }

    /// @notice See `ICreditLedger.scheduleOf`.
    function scheduleOf(LedgerStorage.Layout storage $, bytes32 account, uint32 loanNo)
        public
        view
        returns (ICreditLedger.Installment[] memory s)
    {
        ICreditLedger.LoanTerms memory terms = $.loadLoan(account, loanNo).terms;
        uint256[] memory cum = LoanMath.cumulativePrincipals(terms);
        s = new ICreditLedger.Installment[](terms.periods);
        for (uint256 k = 1; k <= terms.periods; ++k) {
            s[k - 1] = ICreditLedger.Installment({
                dueTime: uint64(terms.startTime + LoanMath.dueDay(terms, k) * LoanMath.DAY),
                principal: uint64(cum[k] - cum[k - 1]),
                fee: uint64(LoanMath.cumulativeFee(terms, k) - LoanMath.cumulativeFee(terms, k - 1))
            });
        }
    }

    /// @notice Revert with `CostCeilingExceeded` unless the terms' APR is within the product's
    /// annual cost ceiling (present value at the ceiling, rounded up, at most the principal).
    function checkCostCeiling(LedgerStorage.Layout storage $, ICreditLedger.LoanTerms memory terms) public view {
        if (terms.totalFee == 0 && terms.ratePpmPerDay == 0) return;
        uint32 ceiling = $.products[terms.productId].costCeilingPpmPerYear;
        uint256 pv = LoanMath.presentValueUp(terms, ceiling);
        if (pv > terms.principal) revert ICreditLedger.CostCeilingExceeded(terms.productId, pv, terms.principal, ceiling);
    }

    // ================================================================== drawdown (ledger storage)

    /// @notice The checks and effects every drawdown (`ICreditLedger.purchase`, `drawCash`)
    /// shares: line granted and not frozen, limit, tier cap, exposure cap, cost ceiling; then the
    /// loan, the usage and the entry. Lives here, not in the ledger, to keep the ledger under EIP-170.
    function draw(
        LedgerStorage.Layout storage $,
        bytes32 account,
        ICreditLedger.LoanTerms memory terms,
        bytes32 ref,
        uint64 expectedSeq
    ) public returns (uint32 loanNo) {
        uint64 amount = terms.principal;
        if (amount == 0) revert ICreditLedger.InvalidAmount(0);
        ICreditLedger.Account memory a = $.loadAccount(account, expectedSeq);
        // The line's slot 0 only (slot 1, rate and freeze reason, is not a drawdown's but for the error).
        ICreditLedger.Line storage stored = $.lines[account][terms.productId];
        if (!stored.granted) revert ICreditLedger.NoLine(account, terms.productId);
        if (stored.frozen) revert ICreditLedger.LineIsFrozen(account, terms.productId, stored.freezeReason);
        ICreditLedger.Line memory line;
        (line.limit, line.used, line.tempLimit, line.tempExpiry) = (stored.limit, stored.used, stored.tempLimit, stored.tempExpiry);
        ICreditLedger.TierPolicy memory tier = $.tiers[a.tier];
        uint256 limit = effectiveLimit(line);
        if (limit > tier.maxLineLimit) limit = tier.maxLineLimit;
        uint256 available = limit > line.used ? limit - line.used : 0;
        if (amount > available) revert ICreditLedger.LimitExceeded(account, terms.productId, amount, available);
        uint256 cap = a.exposureCap < tier.maxExposure ? a.exposureCap : tier.maxExposure;
        available = cap > a.used ? cap - a.used : 0;
        if (amount > available) revert ICreditLedger.ExposureCapExceeded(account, amount, available);
        if (terms.totalFee != 0 || terms.ratePpmPerDay != 0) checkCostCeiling($, terms);

        stored.used = line.used + amount;
        loanNo = _recordDraw($, account, a, terms, ref);
    }

    /// @dev The drawdown's loan, account usage and entry (its checks passed).
    function _recordDraw(
        LedgerStorage.Layout storage $,
        bytes32 account,
        ICreditLedger.Account memory a,
        ICreditLedger.LoanTerms memory terms,
        bytes32 ref
    ) private returns (uint32 loanNo) {
        loanNo = ++a.loanCount;
        a.used += terms.principal;
        $.storeNewLoan(account, loanNo, terms);
        bytes32 head = $.append(account, a, ICreditLedger.EntryKind.Drawn, abi.encode(account, loanNo, ref, terms, msg.sender));
        emit ICreditLedger.Drawn(account, loanNo, a.seq, head, ref, terms, msg.sender);
        $.advanced();
    }

    /// @notice The limit in force: the temporary raise until its expiry, else the permanent limit.
    function effectiveLimit(ICreditLedger.Line memory line) internal view returns (uint64) {
        if (block.timestamp < line.tempExpiry && line.tempLimit > line.limit) return line.tempLimit;
        return line.limit;
    }

    // ================================================================== servicing (ledger storage)

    /// @notice See `ICreditLedger.refund`.
    function refund(LedgerStorage.Layout storage $, bytes32 account, uint32 loanNo, uint64 amount, bytes32 ref, uint64 expectedSeq)
        public
    {
        ICreditLedger.Account memory a = $.loadAccount(account, expectedSeq);
        LedgerStorage.Loan memory loan = $.loadActiveLoan(account, loanNo);
        ICreditLedger.Product storage product = $.products[loan.terms.productId];
        if (product.kind != ICreditLedger.ProductKind.PayLater) revert ICreditLedger.NotAPurchase(account, loanNo);
        if (amount == 0) revert ICreditLedger.InvalidAmount(0);
        uint256 outstanding = uint256(loan.terms.principal) - loan.state.principalSettled;
        if (amount > outstanding) {
            revert ICreditLedger.RefundExceedsOutstanding(account, loanNo, amount, outstanding);
        }
        uint256 day = _checkpoint(loan);
        uint256 feeWaived = _feeWaived(loan, amount);
        loan.state.principalSettled += amount;
        loan.state.principalRefunded += amount;
        loan.state.feeSettled += uint64(feeWaived);
        _closeIfSettled(loan, day);
        $.releaseUsage(account, a, loan.terms.productId, amount);
        $.storeLoan(account, loanNo, loan.terms, loan.state);
        bytes memory payload = abi.encode(account, loanNo, ref, amount, uint64(feeWaived), uint16(day), msg.sender);
        bytes32 head = $.append(account, a, ICreditLedger.EntryKind.Refunded, payload);
        emit ICreditLedger.Refunded(account, loanNo, a.seq, head, ref, amount, uint64(feeWaived), uint16(day), msg.sender);
        $.advanced();
    }

    /// @notice See `ICreditLedger.repay`.
    function repay(LedgerStorage.Layout storage $, bytes32 account, uint32 loanNo, uint64 amount, bytes32 ref, uint64 expectedSeq)
        public
        returns (ICreditLedger.Allocation memory allocation)
    {
        if (amount == 0) revert ICreditLedger.InvalidAmount(0);
        ICreditLedger.Account memory a = $.loadAccount(account, expectedSeq);
        LedgerStorage.Loan memory loan = $.loadLoan(account, loanNo);
        if (loan.state.status == ICreditLedger.LoanStatus.Closed) {
            revert ICreditLedger.LoanNotActive(account, loanNo, loan.state.status);
        }
        uint256 day = LoanMath.dayOf(loan.terms, block.timestamp);
        ICreditLedger.LoanPosition memory p = LoanMath.position(loan.terms, loan.state, day);
        if (amount > p.payoff) revert ICreditLedger.RepaymentExceedsPayoff(account, loanNo, amount, p.payoff);
        uint64 interestAccrued = p.interest - uint64(loan.state.interestOwed);
        uint64 penaltyAccrued = p.penalty - uint64(loan.state.penaltyOwed);

        allocation = LoanMath.allocate(p, amount);
        uint64 principal = allocation.overduePrincipal + allocation.currentPrincipal + allocation.prepaidPrincipal;
        ICreditLedger.LoanState memory s = loan.state;
        s.penaltyOwed = uint48(p.penalty - allocation.penalty);
        s.interestOwed = uint48(p.interest - allocation.interest);
        s.feeSettled += allocation.fee;
        s.principalSettled += principal;
        // Recoveries on a written-off loan do not accrue, but release the principal they repay:
        // a written-off loan's principal stays in usage until recovered.
        if (s.status == ICreditLedger.LoanStatus.Active) s.checkpointDay = uint16(day);
        $.releaseUsage(account, a, loan.terms.productId, principal);
        _closeIfSettled(loan, day);
        $.storeLoan(account, loanNo, loan.terms, s);
        _emitRepaid($, account, loanNo, a, ref, amount, allocation, day, interestAccrued, penaltyAccrued, s.status);
    }

    function _emitRepaid(
        LedgerStorage.Layout storage $,
        bytes32 account,
        uint32 loanNo,
        ICreditLedger.Account memory a,
        bytes32 ref,
        uint64 amount,
        ICreditLedger.Allocation memory allocation,
        uint256 day,
        uint64 interestAccrued,
        uint64 penaltyAccrued,
        ICreditLedger.LoanStatus status
    ) private {
        bytes memory payload = abi.encode(
            account, loanNo, ref, amount, allocation, uint16(day), interestAccrued, penaltyAccrued, status, msg.sender
        );
        bytes32 head = $.append(account, a, ICreditLedger.EntryKind.Repaid, payload);
        emit ICreditLedger.Repaid(
            account, loanNo, a.seq, head, ref, amount, allocation, uint16(day), interestAccrued, penaltyAccrued, status, msg.sender
        );
        $.advanced();
    }

    /// @notice See `ICreditLedger.restructure`.
    function restructure(
        LedgerStorage.Layout storage $,
        ICreditLedger.Decision calldata decision,
        address scorer,
        bytes calldata signature,
        bytes32 digest,
        bool scorerHeld,
        uint32 loanNo,
        uint8 newPeriods,
        uint16 holidayDays,
        uint32 newRatePpmPerDay,
        bytes32 ref,
        uint64 expectedSeq
    ) public {
        if (!decision.approved) revert ICreditLedger.DecisionOutcomeMismatch(false);
        bytes32 account = decision.account;
        ICreditLedger.Account memory a = $.loadAccount(account, expectedSeq);
        // The decision authorising exactly these terms; its nonce is spent.
        _useDecision(
            $,
            a,
            decision,
            ICreditLedger.DecisionPurpose.Restructure,
            keccak256(abi.encode(loanNo, newPeriods, holidayDays, newRatePpmPerDay)),
            scorer,
            scorerHeld
        );
        if (newPeriods == 0 || newPeriods > MAX_RESTRUCTURE_PERIODS) {
            revert ICreditLedger.InvalidRestructure("newPeriods", newPeriods);
        }
        if (holidayDays > MAX_HOLIDAY_DAYS) revert ICreditLedger.InvalidRestructure("holidayDays", holidayDays);
        LedgerStorage.Loan memory loan = $.loadActiveLoan(account, loanNo);
        if (newRatePpmPerDay > loan.terms.ratePpmPerDay) {
            revert ICreditLedger.InvalidRestructure("newRatePpmPerDay", newRatePpmPerDay);
        }
        _checkRestructureBudget(account, loanNo, loan.state, holidayDays);
        // The position before (the checkpoint: accrued to today): the fee owed now, the interest
        // and penalty that stay owed, and the days past due the new schedule clears.
        ICreditLedger.LoanPosition memory p =
            LoanMath.position(loan.terms, loan.state, LoanMath.dayOf(loan.terms, block.timestamp));
        uint64 interestAccrued = p.interest - uint64(loan.state.interestOwed);
        uint64 penaltyAccrued = p.penalty - uint64(loan.state.penaltyOwed);
        ICreditLedger.LoanState memory s;
        s.interestOwed = _u48(p.interest);
        s.penaltyOwed = _u48(p.penalty);
        ICreditLedger.LoanTerms memory previous = loan.terms;
        ICreditLedger.LoanTerms memory next = _restructuredTerms(previous, loan.state, p.feesDue, newPeriods, holidayDays, newRatePpmPerDay);
        if (next.principal == 0) revert ICreditLedger.LoanNotActive(account, loanNo, loan.state.status);
        if (_lastDueTime(next) < _lastDueTime(previous)) revert ICreditLedger.InvalidRestructure("newPeriods", newPeriods);
        checkCostCeiling($, next);
        _checkSignature(scorer, digest, signature);
        s.restructures = loan.state.restructures + 1;
        s.holidayDaysGranted = loan.state.holidayDaysGranted + holidayDays;
        $.storeLoan(account, loanNo, next, s);
        bytes memory payload = abi.encode(
            account,
            loanNo,
            ref,
            previous,
            next,
            interestAccrued,
            penaltyAccrued,
            holidayDays,
            p.daysPastDue,
            decision,
            scorer,
            signature,
            msg.sender
        );
        bytes32 head = $.append(account, a, ICreditLedger.EntryKind.Restructured, payload);
        emit ICreditLedger.Restructured(
            account,
            loanNo,
            a.seq,
            head,
            ref,
            previous,
            next,
            interestAccrued,
            penaltyAccrued,
            holidayDays,
            p.daysPastDue,
            decision,
            scorer,
            signature,
            msg.sender
        );
        $.advanced();
    }

    /// @dev A loan's restructures are bounded: at most `MAX_RESTRUCTURES_PER_LOAN` of them, with
    /// at most `MAX_TOTAL_HOLIDAY_DAYS` holiday days together.
    function _checkRestructureBudget(bytes32 account, uint32 loanNo, ICreditLedger.LoanState memory s, uint16 holidayDays)
        private
        pure
    {
        if (s.restructures >= MAX_RESTRUCTURES_PER_LOAN) {
            revert ICreditLedger.RestructureLimitReached(account, loanNo, s.restructures, MAX_RESTRUCTURES_PER_LOAN);
        }
        uint256 remaining = MAX_TOTAL_HOLIDAY_DAYS - s.holidayDaysGranted;
        if (holidayDays > remaining) revert ICreditLedger.HolidayDaysExceeded(account, loanNo, holidayDays, remaining);
    }

    /// @dev The new terms of a restructure: the principal left and the fee billed and unpaid
    /// (`feesDue`: fees of periods not yet started are waived, as at a payoff, so the payoff
    /// never rises), over `newPeriods` from now, first due after the holiday, at the new rate.
    function _restructuredTerms(
        ICreditLedger.LoanTerms memory previous,
        ICreditLedger.LoanState memory state,
        uint64 feesDue,
        uint8 newPeriods,
        uint16 holidayDays,
        uint32 newRatePpmPerDay
    ) private view returns (ICreditLedger.LoanTerms memory) {
        return ICreditLedger.LoanTerms({
            principal: previous.principal - state.principalSettled,
            startTime: uint40(block.timestamp),
            periods: newPeriods,
            method: previous.method == ICreditLedger.RepaymentMethod.Bullet && newPeriods > 1
                ? ICreditLedger.RepaymentMethod.EqualPrincipal
                : previous.method,
            productId: previous.productId,
            ratePpmPerDay: newRatePpmPerDay,
            totalFee: feesDue,
            firstDueDay: holidayDays + uint16(LoanMath.PERIOD_DAYS),
            penaltyPpmPerDay: previous.penaltyPpmPerDay,
            writeOffDays: previous.writeOffDays
        });
    }

    /// @notice See `ICreditLedger.writeOff`.
    function writeOff(LedgerStorage.Layout storage $, bytes32 account, uint32 loanNo, bytes32 ref, uint64 expectedSeq)
        public
    {
        ICreditLedger.Account memory a = $.loadAccount(account, expectedSeq);
        LedgerStorage.Loan memory loan = $.loadActiveLoan(account, loanNo);
        uint256 day = LoanMath.dayOf(loan.terms, block.timestamp);
        uint256 dpd = LoanMath.position(loan.terms, loan.state, day).daysPastDue;
        // The threshold is the loan's own, fixed at drawdown: lowering the product's later must
        // not let an existing loan be written off (and its line frozen) earlier.
        uint16 threshold = loan.terms.writeOffDays;
        if (threshold == 0 || dpd < threshold) revert ICreditLedger.WriteOffTooEarly(account, loanNo, dpd, threshold);
        (uint64 interestAccrued, uint64 penaltyAccrued) = _checkpointDelta(loan);
        uint64 principal = loan.terms.principal - loan.state.principalSettled;
        // The written-off principal stays in the account's and the line's usage until it is
        // recovered (repaid): releasing it would hand a defaulted borrower the same credit again
        // on another line, past the exposure cap that still holds the debt.
        // A written-off borrower gets no new credit on this line until an explicit unfreeze; the
        // freeze reason becomes the write-off's even if the line was already frozen.
        ICreditLedger.Line storage line = $.lines[account][loan.terms.productId];
        bool lineFrozen = !line.frozen;
        line.frozen = true;
        line.freezeReason = WRITE_OFF_FREEZE_REASON;
        loan.state.status = ICreditLedger.LoanStatus.WrittenOff;
        $.storeLoan(account, loanNo, loan.terms, loan.state);
        // A write-off is adverse: decisions issued before it no longer apply.
        a.decisionNonce += 1;
        bytes memory payload = abi.encode(
            account, loanNo, ref, principal, uint32(dpd), interestAccrued, penaltyAccrued, lineFrozen, msg.sender
        );
        bytes32 head = $.append(account, a, ICreditLedger.EntryKind.WrittenOff, payload);
        emit ICreditLedger.WrittenOff(
            account, loanNo, a.seq, head, ref, principal, uint32(dpd), interestAccrued, penaltyAccrued, lineFrozen, msg.sender
        );
        $.advanced();
    }

    // ================================================================== internals

    /// @dev The fee a refund of `amount` waives (before the state records it): the share of
    /// `totalFee` of the principal refunded so far, cumulatively and rounded down once, less what
    /// earlier refunds waived, at most the fee left; all the fee left when it settles the last principal.
    function _feeWaived(LedgerStorage.Loan memory loan, uint256 amount) private pure returns (uint256 waived) {
        uint256 feeLeft = uint256(loan.terms.totalFee) - loan.state.feeSettled;
        if (uint256(loan.state.principalSettled) + amount == loan.terms.principal) return feeLeft;
        uint256 before = loan.state.principalRefunded;
        waived = (uint256(loan.terms.totalFee) * (before + amount)) / loan.terms.principal
            - (uint256(loan.terms.totalFee) * before) / loan.terms.principal;
        if (waived > feeLeft) waived = feeLeft;
    }

    function _lastDueTime(ICreditLedger.LoanTerms memory t) private pure returns (uint256) {
        return t.startTime + LoanMath.dueDay(t, t.periods) * LoanMath.DAY;
    }

    /// @dev Accrue interest and penalty up to today into the loan (in memory); returns today.
    function _checkpoint(LedgerStorage.Loan memory loan) private view returns (uint256 day) {
        day = LoanMath.dayOf(loan.terms, block.timestamp);
        uint256[] memory cum = LoanMath.cumulativePrincipals(loan.terms);
        (uint256 interest, uint256 penalty) = LoanMath.accrue(loan.terms, loan.state, cum, day);
        loan.state.interestOwed = _u48(loan.state.interestOwed + interest);
        loan.state.penaltyOwed = _u48(loan.state.penaltyOwed + penalty);
        if (day > loan.state.checkpointDay) loan.state.checkpointDay = uint16(day);
    }

    /// @dev `_checkpoint`, returning what it accrued.
    function _checkpointDelta(LedgerStorage.Loan memory loan)
        private
        view
        returns (uint64 interestAccrued, uint64 penaltyAccrued)
    {
        uint48 interestBefore = loan.state.interestOwed;
        uint48 penaltyBefore = loan.state.penaltyOwed;
        _checkpoint(loan);
        interestAccrued = loan.state.interestOwed - interestBefore;
        penaltyAccrued = loan.state.penaltyOwed - penaltyBefore;
    }

    /// @dev Close the loan when principal, billed fees, interest and penalty are all settled
    /// (the fees of periods not yet started are waived).
    function _closeIfSettled(LedgerStorage.Loan memory loan, uint256 day) private pure {
        ICreditLedger.LoanState memory s = loan.state;
        if (s.status != ICreditLedger.LoanStatus.Active || s.principalSettled != loan.terms.principal) return;
        if (s.interestOwed != 0 || s.penaltyOwed != 0) return;
        uint256 elapsed = LoanMath.periodsElapsed(loan.terms, day);
        uint256 billed = LoanMath.cumulativeFee(loan.terms, elapsed < loan.terms.periods ? elapsed + 1 : elapsed);
        if (s.feeSettled < billed) return;
        s.status = ICreditLedger.LoanStatus.Closed;
    }

    function _u48(uint256 v) private pure returns (uint48) {
        if (v > type(uint48).max) revert ICreditLedger.ValueOverflow(v);
        return uint48(v);
    }
}
