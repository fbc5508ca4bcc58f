// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICreditLedger} from "../interfaces/ICreditLedger.sol";

/// @title LoanMath — the loan servicing rules of DESIGN.md, as pure functions
/// @notice Schedules, accrual, positions, allocation and the cost-ceiling test. Mirrored to the
/// unit by `core/loan-math.ts`; differential tests prove they agree.
/// @dev Rounding, everywhere: every division rounds down unless its name says otherwise.
/// Leftovers of principal and fee from spreading over periods go into the first period.
/// Interest and penalty are rounded down once per checkpoint (a repayment, refund,
/// restructure or write-off). Days are whole days since the loan's start time.
library LoanMath {
    uint256 internal constant DAY = 86_400;
    uint256 internal constant PERIOD_DAYS = 30;
    uint256 internal constant PPM = 1_000_000;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant DAYS_PER_YEAR = 365;

    // ------------------------------------------------------------------ calendar

    /// @notice Whole days elapsed from the loan's start to `time` (0 before the start).
    function dayOf(ICreditLedger.LoanTerms memory t, uint256 time) internal pure returns (uint256) {
        return time <= t.startTime ? 0 : (time - t.startTime) / DAY;
    }

    /// @notice The due day (days since start) of period `k` (1-based).
    function dueDay(ICreditLedger.LoanTerms memory t, uint256 k) internal pure returns (uint256) {
        return uint256(t.firstDueDay) + (k - 1) * PERIOD_DAYS;
    }

    /// @notice How many periods' due days lie strictly before `day` (those amounts are overdue if unpaid).
    function periodsElapsed(ICreditLedger.LoanTerms memory t, uint256 day) internal pure returns (uint256) {
        if (day <= t.firstDueDay) return 0;
        uint256 e = (day - t.firstDueDay - 1) / PERIOD_DAYS + 1;
        return e > t.periods ? t.periods : e;
    }

    // ------------------------------------------------------------------ schedule

    /// @notice The per-period rate of a daily rate, in WAD: ratePpmPerDay * 30 / 1e6.
    function periodRateWad(uint256 ratePpmPerDay) internal pure returns (uint256) {
        return (ratePpmPerDay * PERIOD_DAYS * WAD) / PPM;
    }

    /// @notice Scheduled principal of periods 1..k together, for k = 0..periods.
    /// @dev Equal principal and bullet: each period gets floor(P/n), period 1 also the leftover.
    /// Annuity: period i >= 2 gets floor(P * r * (1+r)^(i-1) / ((1+r)^n - 1)) with (1+r)^j
    /// computed in WAD by repeated multiplication rounding down; period 1 gets the rest.
    /// An annuity at rate 0 is equal principal.
    function cumulativePrincipals(ICreditLedger.LoanTerms memory t) internal pure returns (uint256[] memory cum) {
        uint256 n = t.periods;
        uint256 principal = t.principal;
        cum = new uint256[](n + 1);
        if (t.method != ICreditLedger.RepaymentMethod.Annuity || t.ratePpmPerDay == 0) {
            uint256 base = principal / n;
            for (uint256 k = 1; k <= n; ++k) {
                cum[k] = principal - base * (n - k);
            }
            return cum;
        }
        uint256 r = periodRateWad(t.ratePpmPerDay);
        // cum[k] temporarily holds (1+r)^(k-1) in WAD; pow ends as (1+r)^n.
        uint256 pow = WAD;
        for (uint256 k = 1; k <= n; ++k) {
            cum[k] = pow;
            pow = (pow * (WAD + r)) / WAD;
        }
        uint256 denominator = (pow - WAD) * WAD;
        uint256 later; // principal of periods k+1..n
        for (uint256 k = n; k > 0; --k) {
            uint256 share = k == 1 ? 0 : (principal * r * cum[k]) / denominator;
            cum[k] = principal - later;
            later += share;
        }
    }

    /// @notice Installment fee of periods 1..k together: floor(F/n) each, period 1 also the leftover.
    function cumulativeFee(ICreditLedger.LoanTerms memory t, uint256 k) internal pure returns (uint256) {
        uint256 n = t.periods;
        if (k == 0) return 0;
        if (k >= n) return t.totalFee;
        return uint256(t.totalFee) - (uint256(t.totalFee) / n) * (n - k);
    }

    /// @notice Total installment fee: floor(principal * feePpm / 1e6).
    function installmentFee(uint256 principal, uint256 feePpm) internal pure returns (uint256) {
        return (principal * feePpm) / PPM;
    }

    // ------------------------------------------------------------------ accrual

    /// @notice Interest and penalty accrued from the loan's checkpoint to `day`, rounded down.
    /// @dev Interest: outstanding principal x daily rate x whole days. Penalty: for each period
    /// whose due day has passed, its unpaid principal x penalty rate x days overdue since the
    /// checkpoint. Penalty is on principal only, so nothing compounds.
    function accrue(
        ICreditLedger.LoanTerms memory t,
        ICreditLedger.LoanState memory s,
        uint256[] memory cum,
        uint256 day
    ) internal pure returns (uint256 interest, uint256 penalty) {
        if (day <= s.checkpointDay || s.status != ICreditLedger.LoanStatus.Active) return (0, 0);
        uint256 paid = s.principalSettled;
        interest = ((uint256(t.principal) - paid) * t.ratePpmPerDay * (day - s.checkpointDay)) / PPM;
        uint256 elapsed = periodsElapsed(t, day);
        uint256 weighted; // sum of unpaid overdue principal x days
        for (uint256 k = 1; k <= elapsed; ++k) {
            uint256 floor = cum[k - 1] > paid ? cum[k - 1] : paid;
            if (cum[k] > floor) {
                uint256 due = dueDay(t, k);
                uint256 from = due > s.checkpointDay ? due : s.checkpointDay;
                weighted += (cum[k] - floor) * (day - from);
            }
        }
        penalty = (weighted * t.penaltyPpmPerDay) / PPM;
    }

    // ------------------------------------------------------------------ position

    /// @notice The loan as of `day` (days since start), accruing from its checkpoint.
    function position(ICreditLedger.LoanTerms memory t, ICreditLedger.LoanState memory s, uint256 day)
        internal
        pure
        returns (ICreditLedger.LoanPosition memory p)
    {
        if (s.status == ICreditLedger.LoanStatus.Closed) return p;
        uint256[] memory cum = cumulativePrincipals(t);
        (uint256 interest, uint256 penalty) = accrue(t, s, cum, day);
        p.interest = _u64(interest + s.interestOwed);
        p.penalty = _u64(penalty + s.penaltyOwed);
        uint256 paid = s.principalSettled;
        uint256 elapsed = periodsElapsed(t, day);
        uint256 cumElapsed = cum[elapsed];
        p.principalOutstanding = _u64(uint256(t.principal) - paid);
        p.overduePrincipal = cumElapsed > paid ? _u64(cumElapsed - paid) : 0;
        if (elapsed < t.periods) {
            uint256 cumCurrent = cum[elapsed + 1];
            uint256 floor = cumElapsed > paid ? cumElapsed : paid;
            p.currentPrincipal = cumCurrent > floor ? _u64(cumCurrent - floor) : 0;
            p.nextDueTime = _u64(uint256(t.startTime) + dueDay(t, elapsed + 1) * DAY);
        }
        uint256 billed = cumulativeFee(t, elapsed < t.periods ? elapsed + 1 : elapsed);
        p.feesDue = billed > s.feeSettled ? _u64(billed - s.feeSettled) : 0;
        p.daysPastDue = uint32(_daysPastDue(t, s, cum, elapsed, day));
        uint256 owed = uint256(p.penalty) + p.feesDue + p.interest;
        p.amountDue = _u64(owed + p.overduePrincipal + p.currentPrincipal);
        p.payoff = _u64(owed + p.principalOutstanding);
    }

    /// @dev Days since the due day of the oldest period with unpaid principal or fee.
    function _daysPastDue(
        ICreditLedger.LoanTerms memory t,
        ICreditLedger.LoanState memory s,
        uint256[] memory cum,
        uint256 elapsed,
        uint256 day
    ) private pure returns (uint256) {
        for (uint256 k = 1; k <= elapsed; ++k) {
            if (cum[k] > s.principalSettled || cumulativeFee(t, k) > s.feeSettled) {
                return day - dueDay(t, k);
            }
        }
        return 0;
    }

    // ------------------------------------------------------------------ allocation

    /// @notice Split `amount` over the buckets of `p` in DESIGN.md's order: penalty, fees,
    /// interest, overdue principal, current period's principal, prepayment. The caller
    /// ensures `amount <= p.payoff`.
    function allocate(ICreditLedger.LoanPosition memory p, uint256 amount)
        internal
        pure
        returns (ICreditLedger.Allocation memory a)
    {
        uint256 left = amount;
        (a.penalty, left) = _take(left, p.penalty);
        (a.fee, left) = _take(left, p.feesDue);
        (a.interest, left) = _take(left, p.interest);
        (a.overduePrincipal, left) = _take(left, p.overduePrincipal);
        (a.currentPrincipal, left) = _take(left, p.currentPrincipal);
        uint256 future = uint256(p.principalOutstanding) - p.overduePrincipal - p.currentPrincipal;
        (a.prepaidPrincipal,) = _take(left, future);
    }

    function _take(uint256 left, uint256 bucket) private pure returns (uint64 taken, uint256 rest) {
        taken = uint64(left < bucket ? left : bucket);
        rest = left - taken;
    }

    // ------------------------------------------------------------------ cost ceiling

    /// @notice Present value of the loan's scheduled payments (principal, fee and on-time
    /// interest) discounted at the annual ceiling, rounded up.
    /// @dev The terms are within the ceiling iff this is <= principal (the IRR-style APR is at
    /// most the ceiling, since present value falls as the discount rate rises). The APR is the
    /// nominal annual rate 365/30 x the IRR per 30-day period; payment k is discounted by k
    /// periods (for a pay-later first due date beyond 30 days this overstates the APR, never
    /// understates it). Interest of period k is floor(remaining principal x daily rate x days
    /// in the period). The per-period discount rate rounds down, each discount factor rounds up
    /// and the sum rounds up once, so rounding can only make the test stricter (by under a fen).
    function presentValueUp(ICreditLedger.LoanTerms memory t, uint256 annualRatePpm) internal pure returns (uint256 pv) {
        uint256 i = (annualRatePpm * PERIOD_DAYS * WAD) / (DAYS_PER_YEAR * PPM);
        uint256 factor = WAD;
        uint256 sum; // sum of payment x factor, in WAD
        uint256[] memory cum = cumulativePrincipals(t);
        for (uint256 k = 1; k <= t.periods; ++k) {
            uint256 days_ = k == 1 ? t.firstDueDay : PERIOD_DAYS;
            uint256 interest = ((uint256(t.principal) - cum[k - 1]) * t.ratePpmPerDay * days_) / PPM;
            uint256 payment = (cum[k] - cum[k - 1]) + (cumulativeFee(t, k) - cumulativeFee(t, k - 1)) + interest;
            factor = _divUp(factor * WAD, WAD + i);
            sum += payment * factor;
        }
        pv = _divUp(sum, WAD);
    }

    function _divUp(uint256 a, uint256 b) private pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    function _u64(uint256 v) private pure returns (uint64) {
        if (v > type(uint64).max) revert ICreditLedger.ValueOverflow(v);
        return uint64(v);
    }
}
