// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICreditLedger} from "../interfaces/ICreditLedger.sol";

/// @title DecisionHash — EIP-712 struct hash of a credit decision
/// @notice Mirrored by `core/decision.ts` (ethers' TypedDataEncoder over the same type).
library DecisionHash {
    /// @dev keccak256 of the EIP-712 type string below.
    bytes32 internal constant TYPEHASH = keccak256(
        "Decision(bytes32 account,uint8 purpose,uint8 productId,bool approved,uint8 tier,uint16 score,uint64 limit,"
        "uint40 limitExpiry,uint32 ratePpmPerDay,bytes32 modelId,bytes32 featuresHash,uint16[4] reasonCodes,"
        "bytes32 subject,address scorer,uint32 nonce,uint40 issuedAt,uint64 deadline)"
    );

    /// @notice `hashStruct(decision)` per EIP-712; a fixed array hashes as keccak256 of its
    /// 32-byte encoded elements.
    function structHash(ICreditLedger.Decision calldata d) internal pure returns (bytes32) {
        bytes32 codes = keccak256(abi.encode(d.reasonCodes));
        // abi.encode of static fields is their 32-byte words back to back, so encodes
        // concatenated equal one encode of all fields (and keep the stack shallow).
        return keccak256(
            bytes.concat(
                abi.encode(TYPEHASH, d.account, d.purpose, d.productId, d.approved, d.tier, d.score, d.limit),
                abi.encode(d.limitExpiry, d.ratePpmPerDay, d.modelId, d.featuresHash, codes),
                abi.encode(d.subject, d.scorer, d.nonce, d.issuedAt, d.deadline)
            )
        );
    }
}
