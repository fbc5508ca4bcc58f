// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ICreditLedger} from "./interfaces/ICreditLedger.sol";
import {LoanMath} from "./libraries/LoanMath.sol";
import {LoanServicing} from "./libraries/LoanServicing.sol";
import {LedgerStorage} from "./libraries/LedgerStorage.sol";
import {DecisionHash} from "./libraries/DecisionHash.sol";

/// @title CreditLedger
/// @notice The on-chain record of accounts, lines and loans. See `ICreditLedger` for the rules.
/// @dev Roles: DEFAULT_ADMIN_ROLE (products, tiers, roles; a multisig or timelock; one holder,
/// handed over in two steps with a delay: `beginDefaultAdminTransfer`, then
/// `acceptDefaultAdminTransfer` by the new admin once `adminDelay` has passed),
/// OPERATOR_ROLE (the gateway's sending key), SCORER_ROLE (signs decisions, never sends),
/// PAUSER_ROLE. The operator alone cannot grant credit: grants and raises need a decision
/// signed by a scorer.
contract CreditLedger is ICreditLedger, AccessControlDefaultAdminRules, Pausable, EIP712 {
    using LedgerStorage for LedgerStorage.Layout;

    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    bytes32 public constant SCORER_ROLE = keccak256("SCORER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice The highest daily rate a line may carry (1 %/day); the cost ceiling is the real bound.
    uint32 public constant MAX_RATE_PPM_PER_DAY = LoanServicing.MAX_RATE_PPM_PER_DAY;
    /// @notice Cash loans run 3 to 12 periods; pay-later purchases 1 (single payment) or 3/6/9/12.
    uint8 public constant MIN_CASH_PERIODS = 3;
    uint8 public constant MAX_CASH_PERIODS = 12;
    /// @notice A decision lives at most this long on-chain: its deadline at most 30 days after its issue time.
    uint256 public constant MAX_DECISION_LIFETIME = LoanServicing.MAX_DECISION_LIFETIME;
    uint16 private constant WRITE_OFF_FREEZE_REASON = LoanServicing.WRITE_OFF_FREEZE_REASON;

    LedgerStorage.Layout private _s;

    /// @param admin the first (and only) holder of DEFAULT_ADMIN_ROLE.
    /// @param adminDelay seconds between beginning an admin hand-over and the new admin
    /// accepting it (`AccessControlDefaultAdminRules`); changing it is itself delayed.
    constructor(address admin, uint48 adminDelay) AccessControlDefaultAdminRules(adminDelay, admin) EIP712("CreditLedger", "1") {}

    // ================================================================== admin

    /// @inheritdoc ICreditLedger
    function configureProduct(uint8 productId, Product calldata product) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (product.kind == ProductKind.None) revert InvalidProduct(productId, "kind");
        ProductKind existing = _s.products[productId].kind;
        if (existing != ProductKind.None && existing != product.kind) revert InvalidProduct(productId, "kind");
        if (product.costCeilingPpmPerYear == 0) revert InvalidProduct(productId, "costCeilingPpmPerYear");
        if (product.allowedPeriods == 0) revert InvalidProduct(productId, "allowedPeriods");
        if (product.kind == ProductKind.PayLater && product.graceDays == 0) revert InvalidProduct(productId, "graceDays");
        uint256 penaltyPerYear = uint256(product.penaltyPpmPerDay) * LoanMath.DAYS_PER_YEAR;
        if (penaltyPerYear > product.costCeilingPpmPerYear) {
            revert PenaltyAboveCeiling(productId, penaltyPerYear, product.costCeilingPpmPerYear);
        }
        Product memory previous = _s.products[productId];
        emit ProductConfigured(productId, previous, product, msg.sender);
        _s.products[productId] = product;
        _advanceWide(LedgerEventKind.ProductConfigured, abi.encode(productId, previous, product, msg.sender));
    }

    /// @inheritdoc ICreditLedger
    function setTierPolicy(uint8 tier, TierPolicy calldata policy) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (policy.maxLineLimit == 0 || policy.maxExposure == 0) revert UnknownTier(tier);
        TierPolicy memory previous = _s.tiers[tier];
        emit TierPolicySet(tier, previous, policy, msg.sender);
        _s.tiers[tier] = policy;
        _advanceWide(LedgerEventKind.TierPolicySet, abi.encode(tier, previous, policy, msg.sender));
    }

    /// @inheritdoc ICreditLedger
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
        _advanceWide(LedgerEventKind.Paused, abi.encode(msg.sender));
    }

    /// @inheritdoc ICreditLedger
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
        _advanceWide(LedgerEventKind.Unpaused, abi.encode(msg.sender));
    }

    // ================================================================== batches

    /// @inheritdoc ICreditLedger
    function batch(bytes[] calldata calls) external onlyRole(OPERATOR_ROLE) {
        bytes4 nested = this.batch.selector;
        for (uint256 i; i < calls.length; ++i) {
            bytes calldata c = calls[i];
            bool ok;
            bool outOfGas;
            assembly ("memory-safe") {
                // Every call is copied to the same scratch at the free-memory pointer, which
                // does not move: memory grows to the longest call, not with the batch.
                let scratch := mload(0x40)
                if iszero(eq(shr(224, calldataload(c.offset)), shr(224, nested))) {
                    calldatacopy(scratch, c.offset, c.length)
                    let g := gas()
                    ok := delegatecall(g, address(), scratch, c.length, 0, 0)
                    // A call that used up the gas it was given failed for the batch's gas
                    // limit, not by a rule: the batch reverts, so it is never a refusal.
                    outOfGas := and(iszero(ok), and(iszero(returndatasize()), lt(mul(gas(), 63), g)))
                }
            }
            if (outOfGas) revert();
            if (!ok) _refused(i, c, nested);
        }
    }

    /// @dev Record the refused call `i` with its revert data (or `NestedBatch()` for a nested batch).
    function _refused(uint256 i, bytes calldata c, bytes4 nested) private {
        bytes memory reason = bytes4(c) == nested && c.length >= 4 ? abi.encodeWithSelector(NestedBatch.selector) : _returnData();
        emit OperationRefused(c.length >= 36 ? bytes32(c[4:36]) : bytes32(0), i, c, reason);
    }

    function _returnData() private pure returns (bytes memory data) {
        assembly ("memory-safe") {
            data := mload(0x40)
            mstore(data, returndatasize())
            returndatacopy(add(data, 0x20), 0, returndatasize())
            mstore(0x40, add(add(data, 0x20), and(add(returndatasize(), 31), not(31))))
        }
    }

    // ================================================================== accounts

    /// @inheritdoc ICreditLedger
    function openAccount(bytes32 account, uint8 tier, uint64 exposureCap, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
        whenNotPaused
    {
        if (account == bytes32(0)) revert InvalidAccountId();
        Account memory a = _s.accounts[account];
        if (a.exists) revert AccountExists(account);
        LedgerStorage.checkSeq(account, a, expectedSeq);
        _checkExposureCap(tier, exposureCap);
        a.exists = true;
        a.tier = tier;
        a.exposureCap = exposureCap;
        bytes memory payload = abi.encode(account, ref, tier, exposureCap, msg.sender);
        bytes32 head = _s.append(account, a, EntryKind.AccountOpened, payload);
        emit AccountOpened(account, a.seq, head, ref, tier, exposureCap, msg.sender);
        _s.advanced();
    }

    /// @inheritdoc ICreditLedger
    function setExposureCap(bytes32 account, uint64 newCap, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
    {
        Account memory a = _s.loadAccount(account, expectedSeq);
        uint64 previous = a.exposureCap;
        if (newCap > previous) _requireNotPaused();
        _checkExposureCap(a.tier, newCap);
        a.exposureCap = newCap;
        bytes memory payload = abi.encode(account, ref, previous, newCap, msg.sender);
        bytes32 head = _s.append(account, a, EntryKind.ExposureCapChanged, payload);
        emit ExposureCapChanged(account, a.seq, head, ref, previous, newCap, msg.sender);
        _s.advanced();
    }

    // ================================================================== decisions and lines

    /// @inheritdoc ICreditLedger
    function recordDecline(Decision calldata d, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
    {
        LoanServicing.recordDecline(_s, d, scorer, signature, decisionDigest(d), hasRole(SCORER_ROLE, scorer), ref, expectedSeq);
    }

    /// @inheritdoc ICreditLedger
    function grantLine(Decision calldata d, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
        whenNotPaused
    {
        LoanServicing.grantLine(_s, d, scorer, signature, decisionDigest(d), hasRole(SCORER_ROLE, scorer), ref, expectedSeq);
    }

    /// @inheritdoc ICreditLedger
    function increaseLimit(Decision calldata d, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
        whenNotPaused
    {
        LoanServicing.increaseLimit(_s, d, scorer, signature, decisionDigest(d), hasRole(SCORER_ROLE, scorer), ref, expectedSeq);
    }

    /// @inheritdoc ICreditLedger
    function cutLimit(bytes32 account, uint8 productId, uint64 newLimit, uint16 reasonCode, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
    {
        Account memory a = _s.loadAccount(account, expectedSeq);
        Line memory line = _s.loadLine(account, productId);
        uint64 previous = _effectiveLimit(line);
        if (newLimit >= previous) revert LimitNotCut(previous, newLimit);
        bool temporaryInForce = previous != line.limit;
        if (newLimit < line.limit) line.limit = newLimit;
        if (temporaryInForce) {
            // The temporary raise drops to the new limit and still ends at its expiry.
            line.tempLimit = newLimit;
        } else {
            line.tempLimit = 0;
            line.tempExpiry = 0;
        }
        _s.lines[account][productId] = line;
        // A cut is adverse: decisions issued before it (a raise in flight) no longer apply.
        a.decisionNonce += 1;
        bytes memory payload = abi.encode(account, ref, productId, previous, newLimit, reasonCode, msg.sender);
        bytes32 head = _s.append(account, a, EntryKind.LimitCut, payload);
        emit LimitCut(account, a.seq, head, ref, productId, previous, newLimit, reasonCode, msg.sender);
        _s.advanced();
    }

    /// @inheritdoc ICreditLedger
    function freezeLine(bytes32 account, uint8 productId, uint16 reasonCode, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
    {
        _setFrozen(account, productId, true, reasonCode, ref, expectedSeq);
    }

    /// @inheritdoc ICreditLedger
    function unfreezeLine(bytes32 account, uint8 productId, uint16 reasonCode, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
        whenNotPaused
    {
        _setFrozen(account, productId, false, reasonCode, ref, expectedSeq);
    }

    /// @inheritdoc ICreditLedger
    function reinstateLine(Decision calldata d, address scorer, bytes calldata signature, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
        whenNotPaused
    {
        LoanServicing.reinstateLine(_s, d, scorer, signature, decisionDigest(d), hasRole(SCORER_ROLE, scorer), ref, expectedSeq);
    }

    // ================================================================== drawdowns

    /// @inheritdoc ICreditLedger
    function purchase(bytes32 account, uint8 productId, uint64 amount, uint8 periods, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
        whenNotPaused
        returns (uint32 loanNo)
    {
        Product storage product = _loadProduct(productId, ProductKind.PayLater);
        if ((periods != 1 && (periods % 3 != 0 || periods > 12)) || (product.allowedPeriods >> periods) & 1 == 0) {
            revert PeriodsNotAllowed(productId, periods);
        }
        uint256 totalFee;
        if (periods != 1) {
            totalFee = LoanMath.installmentFee(amount, product.installmentFeePpm[periods / 3 - 1]);
        }
        LoanTerms memory terms = LoanTerms({
            principal: amount,
            startTime: uint40(block.timestamp),
            periods: periods,
            method: periods == 1 ? RepaymentMethod.Bullet : RepaymentMethod.EqualPrincipal,
            productId: productId,
            ratePpmPerDay: 0,
            totalFee: uint64(totalFee),
            firstDueDay: product.graceDays,
            penaltyPpmPerDay: product.penaltyPpmPerDay,
            writeOffDays: product.writeOffDays
        });
        loanNo = LoanServicing.draw(_s, account, terms, ref, expectedSeq);
    }

    /// @inheritdoc ICreditLedger
    function drawCash(
        bytes32 account,
        uint8 productId,
        uint64 amount,
        uint8 periods,
        RepaymentMethod method,
        bytes32 ref,
        uint64 expectedSeq
    ) external onlyRole(OPERATOR_ROLE) whenNotPaused returns (uint32 loanNo) {
        Product storage product = _loadProduct(productId, ProductKind.CashLoan);
        if (method == RepaymentMethod.Bullet) revert InvalidMethod(method);
        if (periods < MIN_CASH_PERIODS || periods > MAX_CASH_PERIODS || (product.allowedPeriods >> periods) & 1 == 0) {
            revert PeriodsNotAllowed(productId, periods);
        }
        LoanTerms memory terms = LoanTerms({
            principal: amount,
            startTime: uint40(block.timestamp),
            periods: periods,
            method: method,
            productId: productId,
            ratePpmPerDay: _s.lines[account][productId].ratePpmPerDay,
            totalFee: 0,
            firstDueDay: uint16(LoanMath.PERIOD_DAYS),
            penaltyPpmPerDay: product.penaltyPpmPerDay,
            writeOffDays: product.writeOffDays
        });
        loanNo = LoanServicing.draw(_s, account, terms, ref, expectedSeq);
    }

    // ================================================================== servicing

    /// @inheritdoc ICreditLedger
    function refund(bytes32 account, uint32 loanNo, uint64 amount, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
    {
        LoanServicing.refund(_s, account, loanNo, amount, ref, expectedSeq);
    }

    /// @inheritdoc ICreditLedger
    function repay(bytes32 account, uint32 loanNo, uint64 amount, bytes32 ref, uint64 expectedSeq)
        external
        onlyRole(OPERATOR_ROLE)
        returns (Allocation memory)
    {
        return LoanServicing.repay(_s, account, loanNo, amount, ref, expectedSeq);
    }

    /// @inheritdoc ICreditLedger
    function restructure(
        Decision calldata d,
        address scorer,
        bytes calldata signature,
        uint32 loanNo,
        uint8 newPeriods,
        uint16 holidayDays,
        uint32 newRatePpmPerDay,
        bytes32 ref,
        uint64 expectedSeq
    ) external onlyRole(OPERATOR_ROLE) {
        LoanServicing.restructure(
            _s,
            d,
            scorer,
            signature,
            decisionDigest(d),
            hasRole(SCORER_ROLE, scorer),
            loanNo,
            newPeriods,
            holidayDays,
            newRatePpmPerDay,
            ref,
            expectedSeq
        );
    }

    /// @inheritdoc ICreditLedger
    function writeOff(bytes32 account, uint32 loanNo, bytes32 ref, uint64 expectedSeq) external onlyRole(OPERATOR_ROLE) {
        LoanServicing.writeOff(_s, account, loanNo, ref, expectedSeq);
    }

    // ================================================================== views

    /// @inheritdoc ICreditLedger
    function decisionDigest(Decision calldata d) public view returns (bytes32) {
        return _hashTypedDataV4(DecisionHash.structHash(d));
    }

    /// @inheritdoc ICreditLedger
    function productOf(uint8 productId) external view returns (Product memory) {
        return _s.products[productId];
    }

    /// @inheritdoc ICreditLedger
    function tierPolicyOf(uint8 tier) external view returns (TierPolicy memory) {
        return _s.tiers[tier];
    }

    /// @inheritdoc ICreditLedger
    function accountOf(bytes32 account) external view returns (Account memory) {
        return _s.accounts[account];
    }

    /// @inheritdoc ICreditLedger
    function lineOf(bytes32 account, uint8 productId) external view returns (Line memory) {
        return _s.lines[account][productId];
    }

    /// @inheritdoc ICreditLedger
    function effectiveLimit(bytes32 account, uint8 productId) external view returns (uint64) {
        return _effectiveLimit(_s.lines[account][productId]);
    }

    /// @inheritdoc ICreditLedger
    function loanOf(bytes32 account, uint32 loanNo) external view returns (LoanTerms memory, LoanState memory) {
        LedgerStorage.Loan memory loan = _s.loadLoan(account, loanNo);
        return (loan.terms, loan.state);
    }

    /// @inheritdoc ICreditLedger
    function scheduleOf(bytes32 account, uint32 loanNo) external view returns (Installment[] memory) {
        return LoanServicing.scheduleOf(_s, account, loanNo);
    }

    /// @inheritdoc ICreditLedger
    function positionOf(bytes32 account, uint32 loanNo, uint256 time) external view returns (LoanPosition memory) {
        return LoanServicing.positionOf(_s, account, loanNo, time);
    }

    /// @inheritdoc ICreditLedger
    function ledgerHead() external view returns (uint64 ledgerSeq, bytes32 head) {
        return (_s.ledgerSeq, _s.ledgerHead);
    }

    // ================================================================== internals

    /// @dev Every role change (grants, revocations, renouncements, the constructor's grant and
    /// an admin hand-over's) is a ledger-wide entry.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted) _advanceWide(LedgerEventKind.RoleGranted, abi.encode(role, account, _msgSender()));
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked) _advanceWide(LedgerEventKind.RoleRevoked, abi.encode(role, account, _msgSender()));
    }

    /// @dev Right after the ledger-wide event of `kind` with the fields `payload`.
    function _advanceWide(LedgerEventKind kind, bytes memory payload) private {
        LoanServicing.advanceLedgerWide(_s, kind, payload);
    }


    function _loadProduct(uint8 productId, ProductKind kind) private view returns (Product storage product) {
        product = _s.products[productId];
        if (!product.active) revert UnknownProduct(productId);
        if (product.kind != kind) revert WrongProductKind(productId, kind);
    }

    function _checkExposureCap(uint8 tier, uint64 cap) private view {
        TierPolicy memory policy = _s.tiers[tier];
        if (policy.maxExposure == 0) revert UnknownTier(tier);
        if (cap > policy.maxExposure) revert TierCapExceeded(tier, cap, policy.maxExposure);
    }

    function _setFrozen(bytes32 account, uint8 productId, bool frozen, uint16 reasonCode, bytes32 ref, uint64 expectedSeq)
        private
    {
        Account memory a = _s.loadAccount(account, expectedSeq);
        Line memory line = _s.loadLine(account, productId);
        if (line.frozen == frozen) revert FreezeStateUnchanged(account, productId, frozen);
        // A write-off's freeze gives credit back only on a scorer's decision (reinstateLine).
        if (!frozen && line.freezeReason == WRITE_OFF_FREEZE_REASON) {
            revert DecisionRequired(account, productId, WRITE_OFF_FREEZE_REASON);
        }
        line.frozen = frozen;
        line.freezeReason = reasonCode;
        _s.lines[account][productId] = line;
        bytes memory payload = abi.encode(account, ref, productId, reasonCode, msg.sender);
        if (frozen) {
            // A freeze is adverse: decisions issued before it no longer apply.
            a.decisionNonce += 1;
            bytes32 head = _s.append(account, a, EntryKind.LineFrozen, payload);
            emit LineFrozen(account, a.seq, head, ref, productId, reasonCode, msg.sender);
        } else {
            bytes32 head = _s.append(account, a, EntryKind.LineUnfrozen, payload);
            emit LineUnfrozen(account, a.seq, head, ref, productId, reasonCode, msg.sender);
        }
        _s.advanced();
    }

    function _effectiveLimit(Line memory line) private view returns (uint64) {
        return LoanServicing.effectiveLimit(line);
    }

}
