// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IAccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ICreditLedger} from "../interfaces/ICreditLedger.sol";
import {DecisionHash} from "../libraries/DecisionHash.sol";

/// @title LedgerDouble — test only: a ledger that records whatever it is told
/// @notice Emits exactly the events of `CreditLedger` (the same declarations, so the same
/// selectors and encodings: the verifier decodes them with the real ABI) and answers the
/// same views, but enforces none of the rules: no roles, no limits, no hash chain, no seq.
/// The tests of the verifier (test/verifier) stage histories on it that the real ledger would
/// refuse to record (a drawdown over the limit, an overcharge, a reused reference, a decision
/// signed by a stranger, a broken hash chain) and prove that the verifier names each one.
/// `test/helpers/ledger-double.ts` computes every event's values (and the views, replayed
/// honestly) so that only the staged violation is wrong. Not deployed by `deploy/`.
/// @dev Each `emit*` function is a one-line pass-through of its event's fields in declaration
/// order; each `set*` function overwrites a view. Admin events (products, tiers, roles,
/// pause) are emitted by functions named like the ledger's, which also store the value.
contract LedgerDouble is EIP712 {
    mapping(uint8 productId => ICreditLedger.Product) private _products;
    mapping(uint8 tier => ICreditLedger.TierPolicy) private _tiers;
    mapping(bytes32 account => ICreditLedger.Account) private _accounts;
    mapping(bytes32 account => mapping(uint8 productId => ICreditLedger.Line)) private _lines;
    mapping(bytes32 account => mapping(uint32 loanNo => ICreditLedger.LoanTerms)) private _terms;
    mapping(bytes32 account => mapping(uint32 loanNo => ICreditLedger.LoanState)) private _states;
    mapping(bytes32 role => mapping(address account => bool)) private _roles;
    bool private _paused;
    uint64 private _ledgerSeq;
    bytes32 private _ledgerHead;

    constructor() EIP712("CreditLedger", "1") {}

    // ================================================================== admin events (and their state)

    function configureProduct(uint8 productId, ICreditLedger.Product calldata product) external {
        emit ICreditLedger.ProductConfigured(productId, _products[productId], product, msg.sender);
        _products[productId] = product;
    }

    function setTierPolicy(uint8 tier, ICreditLedger.TierPolicy calldata policy) external {
        emit ICreditLedger.TierPolicySet(tier, _tiers[tier], policy, msg.sender);
        _tiers[tier] = policy;
    }

    function grantRole(bytes32 role, address account) external {
        _roles[role][account] = true;
        emit IAccessControl.RoleGranted(role, account, msg.sender);
    }

    function revokeRole(bytes32 role, address account) external {
        _roles[role][account] = false;
        emit IAccessControl.RoleRevoked(role, account, msg.sender);
    }

    /// @dev `beginDefaultAdminTransfer`'s event, with any schedule.
    function scheduleAdminTransfer(address newAdmin, uint48 acceptSchedule) external {
        emit IAccessControlDefaultAdminRules.DefaultAdminTransferScheduled(newAdmin, acceptSchedule);
    }

    /// @dev `acceptDefaultAdminTransfer`'s events, at any time: the sender takes the role from `oldAdmin`.
    function acceptAdminTransfer(address oldAdmin) external {
        _roles[bytes32(0)][oldAdmin] = false;
        emit IAccessControl.RoleRevoked(bytes32(0), oldAdmin, msg.sender);
        _roles[bytes32(0)][msg.sender] = true;
        emit IAccessControl.RoleGranted(bytes32(0), msg.sender, msg.sender);
    }

    function pause() external {
        _paused = true;
        emit Pausable.Paused(msg.sender);
    }

    function unpause() external {
        _paused = false;
        emit Pausable.Unpaused(msg.sender);
    }

    // ================================================================== views as the test sets them

    // ================================================================== the ledger-wide chain (issue 12)

    /// @dev `LedgerAdvanced` with any values: the helper emits it after each staged entry (or
    /// leaves it out, or gives a wrong head, to stage a ledger whose logs break the rule).
    function emitLedgerAdvanced(uint64 ledgerSeq, bytes32 head) external {
        emit ICreditLedger.LedgerAdvanced(ledgerSeq, head);
    }

    /// @dev What `ledgerHead()` answers: any seq and head (one that disagrees with the logs, to
    /// stage a hidden entry or a skipped advance).
    function setLedgerHead(uint64 ledgerSeq, bytes32 head) external {
        _ledgerSeq = ledgerSeq;
        _ledgerHead = head;
    }

    function emitOperationRefused(bytes32 account, uint256 index, bytes calldata call, bytes calldata reason) external {
        emit ICreditLedger.OperationRefused(account, index, call, reason);
    }

    function setAccount(bytes32 account, ICreditLedger.Account calldata a) external {
        _accounts[account] = a;
    }

    function setLine(bytes32 account, uint8 productId, ICreditLedger.Line calldata line) external {
        _lines[account][productId] = line;
    }

    function setLoan(
        bytes32 account,
        uint32 loanNo,
        ICreditLedger.LoanTerms calldata terms,
        ICreditLedger.LoanState calldata state
    ) external {
        _terms[account][loanNo] = terms;
        _states[account][loanNo] = state;
    }

    // ================================================================== entry events, unchecked

    function emitAccountOpened(
        bytes32 account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint8 tier,
        uint64 exposureCap,
        address by
    ) external {
        emit ICreditLedger.AccountOpened(account, seq, head, ref, tier, exposureCap, by);
    }

    function emitExposureCapChanged(
        bytes32 account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint64 previousCap,
        uint64 newCap,
        address by
    ) external {
        emit ICreditLedger.ExposureCapChanged(account, seq, head, ref, previousCap, newCap, by);
    }

    function emitDecisionDeclined(
        bytes32 account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        ICreditLedger.Decision calldata decision,
        address scorer,
        bytes calldata signature,
        address by
    ) external {
        emit ICreditLedger.DecisionDeclined(account, seq, head, ref, decision, scorer, signature, by);
    }

    function emitLineReinstated(
        bytes32 account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        ICreditLedger.Decision calldata decision,
        address scorer,
        bytes calldata signature,
        address by
    ) external {
        emit ICreditLedger.LineReinstated(account, seq, head, ref, decision, scorer, signature, by);
    }

    function emitLineGranted(
        bytes32 account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        ICreditLedger.Decision calldata decision,
        address scorer,
        bytes calldata signature,
        address by
    ) external {
        emit ICreditLedger.LineGranted(account, seq, head, ref, decision, scorer, signature, by);
    }

    function emitLimitIncreased(
        bytes32 account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint64 previousLimit,
        uint64 previousTempLimit,
        uint40 previousTempExpiry,
        ICreditLedger.Decision calldata decision,
        address scorer,
        bytes calldata signature,
        address by
    ) external {
        emit ICreditLedger.LimitIncreased(
            account, seq, head, ref, previousLimit, previousTempLimit, previousTempExpiry, decision, scorer, signature, by
        );
    }

    function emitLimitCut(
        bytes32 account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint8 productId,
        uint64 previousLimit,
        uint64 newLimit,
        uint16 reasonCode,
        address by
    ) external {
        emit ICreditLedger.LimitCut(account, seq, head, ref, productId, previousLimit, newLimit, reasonCode, by);
    }

    function emitLineFrozen(
        bytes32 account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint8 productId,
        uint16 reasonCode,
        address by
    ) external {
        emit ICreditLedger.LineFrozen(account, seq, head, ref, productId, reasonCode, by);
    }

    function emitLineUnfrozen(
        bytes32 account,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint8 productId,
        uint16 reasonCode,
        address by
    ) external {
        emit ICreditLedger.LineUnfrozen(account, seq, head, ref, productId, reasonCode, by);
    }

    function emitDrawn(
        bytes32 account,
        uint32 loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        ICreditLedger.LoanTerms calldata terms,
        address by
    ) external {
        emit ICreditLedger.Drawn(account, loanNo, seq, head, ref, terms, by);
    }

    function emitRefunded(
        bytes32 account,
        uint32 loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint64 amount,
        uint64 feeWaived,
        uint16 day,
        address by
    ) external {
        emit ICreditLedger.Refunded(account, loanNo, seq, head, ref, amount, feeWaived, day, by);
    }

    function emitRepaid(
        bytes32 account,
        uint32 loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint64 amount,
        ICreditLedger.Allocation calldata allocation,
        uint16 day,
        uint64 interestAccrued,
        uint64 penaltyAccrued,
        ICreditLedger.LoanStatus status,
        address by
    ) external {
        emit ICreditLedger.Repaid(
            account, loanNo, seq, head, ref, amount, allocation, day, interestAccrued, penaltyAccrued, status, by
        );
    }

    function emitRestructured(
        bytes32 account,
        uint32 loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        ICreditLedger.LoanTerms calldata previousTerms,
        ICreditLedger.LoanTerms calldata newTerms,
        uint64 interestAccrued,
        uint64 penaltyAccrued,
        uint16 holidayDays,
        uint32 daysPastDueCleared,
        ICreditLedger.Decision calldata decision,
        address scorer,
        bytes calldata signature,
        address by
    ) external {
        emit ICreditLedger.Restructured(
            account,
            loanNo,
            seq,
            head,
            ref,
            previousTerms,
            newTerms,
            interestAccrued,
            penaltyAccrued,
            holidayDays,
            daysPastDueCleared,
            decision,
            scorer,
            signature,
            by
        );
    }

    function emitWrittenOff(
        bytes32 account,
        uint32 loanNo,
        uint64 seq,
        bytes32 head,
        bytes32 ref,
        uint64 principalWrittenOff,
        uint32 daysPastDue,
        uint64 interestAccrued,
        uint64 penaltyAccrued,
        bool lineFrozen,
        address by
    ) external {
        emit ICreditLedger.WrittenOff(
            account, loanNo, seq, head, ref, principalWrittenOff, daysPastDue, interestAccrued, penaltyAccrued, lineFrozen, by
        );
    }

    // ================================================================== the ledger's views

    function decisionDigest(ICreditLedger.Decision calldata d) external view returns (bytes32) {
        return _hashTypedDataV4(DecisionHash.structHash(d));
    }

    function hasRole(bytes32 role, address account) external view returns (bool) {
        return _roles[role][account];
    }

    function paused() external view returns (bool) {
        return _paused;
    }

    function productOf(uint8 productId) external view returns (ICreditLedger.Product memory) {
        return _products[productId];
    }

    function tierPolicyOf(uint8 tier) external view returns (ICreditLedger.TierPolicy memory) {
        return _tiers[tier];
    }

    function ledgerHead() external view returns (uint64 ledgerSeq, bytes32 head) {
        return (_ledgerSeq, _ledgerHead);
    }

    function accountOf(bytes32 account) external view returns (ICreditLedger.Account memory) {
        return _accounts[account];
    }

    function lineOf(bytes32 account, uint8 productId) external view returns (ICreditLedger.Line memory) {
        return _lines[account][productId];
    }

    function effectiveLimit(bytes32 account, uint8 productId) external view returns (uint64) {
        ICreditLedger.Line memory line = _lines[account][productId];
        if (block.timestamp < line.tempExpiry && line.tempLimit > line.limit) return line.tempLimit;
        return line.limit;
    }

    function loanOf(bytes32 account, uint32 loanNo)
        external
        view
        returns (ICreditLedger.LoanTerms memory, ICreditLedger.LoanState memory)
    {
        return (_terms[account][loanNo], _states[account][loanNo]);
    }
}
