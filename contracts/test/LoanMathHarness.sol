// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICreditLedger} from "../interfaces/ICreditLedger.sol";
import {LoanMath} from "../libraries/LoanMath.sol";

/// @title LoanMathHarness — test only: `LoanMath`'s internal functions as external pure calls
/// @notice Not deployed by `deploy/`; the differential tests (test/differential/loan-math)
/// call it to compare the Solidity math with the TypeScript mirror `core/loan-math.ts`.
/// @dev Each function is a one-line pass-through, so what is tested is the library itself.
contract LoanMathHarness {
    function dayOf(ICreditLedger.LoanTerms memory t, uint256 time) external pure returns (uint256) {
        return LoanMath.dayOf(t, time);
    }

    function dueDay(ICreditLedger.LoanTerms memory t, uint256 k) external pure returns (uint256) {
        return LoanMath.dueDay(t, k);
    }

    function periodsElapsed(ICreditLedger.LoanTerms memory t, uint256 day) external pure returns (uint256) {
        return LoanMath.periodsElapsed(t, day);
    }

    function periodRateWad(uint256 ratePpmPerDay) external pure returns (uint256) {
        return LoanMath.periodRateWad(ratePpmPerDay);
    }

    function cumulativePrincipals(ICreditLedger.LoanTerms memory t) external pure returns (uint256[] memory) {
        return LoanMath.cumulativePrincipals(t);
    }

    function cumulativeFee(ICreditLedger.LoanTerms memory t, uint256 k) external pure returns (uint256) {
        return LoanMath.cumulativeFee(t, k);
    }

    function installmentFee(uint256 principal, uint256 feePpm) external pure returns (uint256) {
        return LoanMath.installmentFee(principal, feePpm);
    }

    function accrue(
        ICreditLedger.LoanTerms memory t,
        ICreditLedger.LoanState memory s,
        uint256[] memory cum,
        uint256 day
    ) external pure returns (uint256 interest, uint256 penalty) {
        return LoanMath.accrue(t, s, cum, day);
    }

    function position(
        ICreditLedger.LoanTerms memory t,
        ICreditLedger.LoanState memory s,
        uint256 day
    ) external pure returns (ICreditLedger.LoanPosition memory) {
        return LoanMath.position(t, s, day);
    }

    function allocate(ICreditLedger.LoanPosition memory p, uint256 amount)
        external
        pure
        returns (ICreditLedger.Allocation memory)
    {
        return LoanMath.allocate(p, amount);
    }

    function presentValueUp(ICreditLedger.LoanTerms memory t, uint256 annualRatePpm) external pure returns (uint256) {
        return LoanMath.presentValueUp(t, annualRatePpm);
    }
}
