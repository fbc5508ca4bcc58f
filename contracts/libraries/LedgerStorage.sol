// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICreditLedger} from "../interfaces/ICreditLedger.sol";

/// @title LedgerStorage — the ledger's state and the helpers every entry point shares
/// @notice The ledger keeps all of its state in one `Layout`, so the contract and the linked
/// `LoanServicing` library (which runs on the ledger's storage through DELEGATECALL) read
/// and write the same slots through the same helpers.
library LedgerStorage {
    /// @dev A loan is two slots: terms (written when drawn) and state (zero when drawn).
    struct Loan {
        ICreditLedger.LoanTerms terms;
        ICreditLedger.LoanState state;
    }

    struct Layout {
        mapping(uint8 productId => ICreditLedger.Product) products;
        mapping(uint8 tier => ICreditLedger.TierPolicy) tiers;
        mapping(bytes32 account => ICreditLedger.Account) accounts;
        mapping(bytes32 account => mapping(uint8 productId => ICreditLedger.Line)) lines;
        mapping(bytes32 account => mapping(uint16 loanNo => Loan)) loans;
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

    function loadLoan(Layout storage $, bytes32 account, uint16 loanNo) internal view returns (Loan memory loan) {
        loan = $.loans[account][loanNo];
        if (loan.terms.principal == 0) revert ICreditLedger.UnknownLoan(account, loanNo);
    }

    function loadActiveLoan(Layout storage $, bytes32 account, uint16 loanNo) internal view returns (Loan memory loan) {
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
