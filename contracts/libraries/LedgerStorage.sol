// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICreditLedger} from "../interfaces/ICreditLedger.sol";

/// @title LedgerStorage — the ledger's state and the helpers every entry point shares
/// @notice The ledger keeps all of its state in one `Layout`, so the contract and the linked
/// `LoanServicing` library (which runs on the ledger's storage through DELEGATECALL) read
/// and write the same slots through the same helpers.
library LedgerStorage {
    /// @dev A loan as the code works on it (in memory): its terms and its servicing state.
    struct Loan {
        ICreditLedger.LoanTerms terms;
        ICreditLedger.LoanState state;
    }

    /// @dev A loan as stored: two slots laid out by how often each field changes, so that a
    /// single-payment purchase writes one new slot when drawn and one slot per repayment.
    /// slot 0 (written when drawn and at every checkpoint):
    ///   principal 56 | principalSettled 56 | startTime 40 | firstDueDay 16 | checkpointDay 16 |
    ///   periods 8 | method 8 | productId 8 | status 8 | penaltyPpmPerDay 24 | writeOffDays 16 (256 bits)
    /// The penalty rate fits 24 bits: `configureProduct` keeps it at most the uint32 ceiling / 365.
    /// Principal fits 56 bits (7.2e16 fen): `storeLoan` refuses a larger one with `ValueOverflow`
    /// (so only a drawdown could), and settled principal never exceeds it.
    /// slot 1 (zero for an interest-free single payment until a penalty accrues):
    ///   ratePpmPerDay 32 | totalFee 64 | feeSettled 64 | interestOwed 48 | penaltyOwed 48 (256 bits)
    /// slot 2 (zero until the loan is refunded or restructured):
    ///   principalRefunded 64 | restructures 8 | holidayDaysGranted 16
    struct StoredLoan {
        uint56 principal;
        uint56 principalSettled;
        uint40 startTime;
        uint16 firstDueDay;
        uint16 checkpointDay;
        uint8 periods;
        ICreditLedger.RepaymentMethod method;
        uint8 productId;
        ICreditLedger.LoanStatus status;
        uint24 penaltyPpmPerDay;
        uint16 writeOffDays;
        uint32 ratePpmPerDay;
        uint64 totalFee;
        uint64 feeSettled;
        uint48 interestOwed;
        uint48 penaltyOwed;
        uint64 principalRefunded;
        uint8 restructures;
        uint16 holidayDaysGranted;
    }

    struct Layout {
        mapping(uint8 productId => ICreditLedger.Product) products;
        mapping(uint8 tier => ICreditLedger.TierPolicy) tiers;
        mapping(bytes32 account => ICreditLedger.Account) accounts;
        mapping(bytes32 account => mapping(uint8 productId => ICreditLedger.Line)) lines;
        mapping(bytes32 account => mapping(uint32 loanNo => StoredLoan)) loans;
        // The ledger-wide chain (`ICreditLedger.ledgerHead`): entries of every account and
        // every ledger-wide event, in the order they happened.
        uint64 ledgerSeq;
        bytes32 ledgerHead;
    }

    /// @notice Advance the account's hash chain by one entry and write the account back:
    /// `head = keccak256(abi.encode(prevHead, seq, kind, keccak256(payload)))`.
    function append(
        Layout storage $,
        bytes32 account,
        ICreditLedger.Account memory a,
        ICreditLedger.EntryKind kind,
        bytes memory payload
    ) internal returns (bytes32 head) {
        a.seq += 1;
        head = keccak256(abi.encode(a.head, a.seq, kind, keccak256(payload)));
        a.head = head;
        $.accounts[account] = a;
        advanceLedger($, account, head);
    }

    /// @notice Advance the ledger-wide chain by one entry:
    /// `ledgerHead_n = keccak256(abi.encode(ledgerHead_{n-1}, uint64 n, account, entryHead))`.
    /// The caller emits the entry's event and then `advanced` (so `LedgerAdvanced` follows it).
    function advanceLedger(Layout storage $, bytes32 account, bytes32 entryHead) internal {
        uint64 n = $.ledgerSeq + 1;
        $.ledgerSeq = n;
        $.ledgerHead = keccak256(abi.encode($.ledgerHead, n, account, entryHead));
    }

    /// @notice Emit `LedgerAdvanced` with the ledger-wide seq and head: right after the event
    /// of the entry `append` (or `advanceLedger`) recorded.
    function advanced(Layout storage $) internal {
        emit ICreditLedger.LedgerAdvanced($.ledgerSeq, $.ledgerHead);
    }

    function checkSeq(bytes32 account, ICreditLedger.Account memory a, uint64 expectedSeq) internal pure {
        if (a.seq != expectedSeq) revert ICreditLedger.SeqMismatch(account, expectedSeq, a.seq);
    }

    /// @notice The account, which must exist and be at `expectedSeq`.
    function loadAccount(Layout storage $, bytes32 account, uint64 expectedSeq)
        internal
        view
        returns (ICreditLedger.Account memory a)
    {
        a = $.accounts[account];
        if (!a.exists) revert ICreditLedger.UnknownAccount(account);
        checkSeq(account, a, expectedSeq);
    }

    function loadLine(Layout storage $, bytes32 account, uint8 productId)
        internal
        view
        returns (ICreditLedger.Line memory line)
    {
        line = $.lines[account][productId];
        if (!line.granted) revert ICreditLedger.NoLine(account, productId);
    }

    function loadLoan(Layout storage $, bytes32 account, uint32 loanNo) internal view returns (Loan memory loan) {
        StoredLoan memory l = $.loans[account][loanNo];
        if (l.principal == 0) revert ICreditLedger.UnknownLoan(account, loanNo);
        loan.terms = ICreditLedger.LoanTerms({
            principal: l.principal,
            startTime: l.startTime,
            periods: l.periods,
            method: l.method,
            productId: l.productId,
            ratePpmPerDay: l.ratePpmPerDay,
            totalFee: l.totalFee,
            firstDueDay: l.firstDueDay,
            penaltyPpmPerDay: l.penaltyPpmPerDay,
            writeOffDays: l.writeOffDays
        });
        loan.state = ICreditLedger.LoanState({
            principalSettled: l.principalSettled,
            feeSettled: l.feeSettled,
            interestOwed: l.interestOwed,
            penaltyOwed: l.penaltyOwed,
            checkpointDay: l.checkpointDay,
            status: l.status,
            principalRefunded: l.principalRefunded,
            restructures: l.restructures,
            holidayDaysGranted: l.holidayDaysGranted
        });
    }

    /// @notice Write a loan's terms and state.
    function storeLoan(
        Layout storage $,
        bytes32 account,
        uint32 loanNo,
        ICreditLedger.LoanTerms memory t,
        ICreditLedger.LoanState memory s
    ) internal {
        if (t.principal > type(uint56).max) revert ICreditLedger.ValueOverflow(t.principal);
        $.loans[account][loanNo] = StoredLoan({
            principal: uint56(t.principal),
            principalSettled: uint56(s.principalSettled),
            startTime: t.startTime,
            firstDueDay: t.firstDueDay,
            checkpointDay: s.checkpointDay,
            periods: t.periods,
            method: t.method,
            productId: t.productId,
            status: s.status,
            penaltyPpmPerDay: uint24(t.penaltyPpmPerDay),
            writeOffDays: t.writeOffDays,
            ratePpmPerDay: t.ratePpmPerDay,
            totalFee: t.totalFee,
            feeSettled: s.feeSettled,
            interestOwed: s.interestOwed,
            penaltyOwed: s.penaltyOwed,
            principalRefunded: s.principalRefunded,
            restructures: s.restructures,
            holidayDaysGranted: s.holidayDaysGranted
        });
    }

    /// @notice Write a new loan (its state all zero) into its slots, which are still zero: slot 0,
    /// slot 1 only when the terms carry a rate or a fee, slot 2 never (all its fields are state),
    /// so a single-payment purchase writes one slot. The words are packed as `StoredLoan` lays
    /// them out (first field in the lowest bits), so `loadLoan` reads them back.
    function storeNewLoan(Layout storage $, bytes32 account, uint32 loanNo, ICreditLedger.LoanTerms memory t) internal {
        if (t.principal > type(uint56).max) revert ICreditLedger.ValueOverflow(t.principal);
        StoredLoan storage l = $.loans[account][loanNo];
        // slot 0: principal 56 | principalSettled 56 (0) | startTime 40 | firstDueDay 16 | checkpointDay 16 (0) |
        // periods 8 | method 8 | productId 8 | status 8 (Active, 0) | penaltyPpmPerDay 24 | writeOffDays 16
        uint256 w0 = uint256(t.principal) | (uint256(t.startTime) << 112) | (uint256(t.firstDueDay) << 152)
            | (uint256(t.periods) << 184) | (uint256(uint8(t.method)) << 192) | (uint256(t.productId) << 200)
            | (uint256(uint24(t.penaltyPpmPerDay)) << 216) | (uint256(t.writeOffDays) << 240);
        // slot 1: ratePpmPerDay 32 | totalFee 64 | the rest state (0)
        uint256 w1 = uint256(t.ratePpmPerDay) | (uint256(t.totalFee) << 32);
        assembly ("memory-safe") {
            let slot := l.slot
            sstore(slot, w0)
            if w1 { sstore(add(slot, 1), w1) }
        }
    }

    function loadActiveLoan(Layout storage $, bytes32 account, uint32 loanNo) internal view returns (Loan memory loan) {
        loan = loadLoan($, account, loanNo);
        if (loan.state.status != ICreditLedger.LoanStatus.Active) {
            revert ICreditLedger.LoanNotActive(account, loanNo, loan.state.status);
        }
    }

    /// @notice Settled principal no longer counts against the line and the exposure cap.
    function releaseUsage(
        Layout storage $,
        bytes32 account,
        ICreditLedger.Account memory a,
        uint8 productId,
        uint64 principal
    ) internal {
        if (principal == 0) return;
        a.used -= principal;
        $.lines[account][productId].used -= principal;
    }
}
