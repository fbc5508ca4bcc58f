/** Moved to core/scoring/policy.ts (the scorer process imports it too); re-exported for the gateway. */
export * from "../../core/scoring/policy";
