/** Moved to core/scoring/scorecard.ts (the scorer process imports it too); re-exported for the gateway. */
export * from "../../core/scoring/scorecard";
