/** Moved to core/scoring/underwriting.ts (the scorer process imports it too); re-exported for the gateway. */
export * from "../../core/scoring/underwriting";
