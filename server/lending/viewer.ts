/**
 * Who reads or writes: a partner, or the operator (auditor and admin keys, and the gateway's
 * own work), who reaches everything. What a partner reaches is reach.ts's.
 */
import type { ProductName } from "../../core/names";

export interface Viewer {
  /** The partner; undefined for the operator. */
  partnerId?: string;
  /** The products the partner may offer (undefined: any). */
  products?: readonly ProductName[];
}

/** The operator's view. */
export const OPERATOR: Viewer = {};
