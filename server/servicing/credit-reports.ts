/**
 * The credit-report view of an account (GET /v1/accounts/{id}/credit-report): one status per
 * calendar month in the borrower's zone, rebuilt from the account's ledger entries with the
 * core's credit-report rule (core/credit-report.ts), which the explorer uses too.
 */
import type { z } from "zod";

import { creditReport } from "../../core/credit-report";
import { DEFAULT_TIME_ZONE } from "../../core/zone-time";
import { nowSeconds, type Clock } from "../clock";
import { accountNotFound, OPERATOR, type Reach, type Viewer } from "../lending/reach";
import type { CreditReportResponse } from "../schemas/servicing";
import type { Store } from "../store/store";
import type { ServicingStore } from "./servicing-store";

export type CreditReportView = z.output<typeof CreditReportResponse>;

export class CreditReports {
  constructor(
    private readonly store: Store,
    private readonly servicingStore: ServicingStore,
    private readonly reach: Reach,
    private readonly business: Clock,
    private readonly blockTime: (blockNumber: number) => Promise<bigint>
  ) {}

  /** The account's months; for a partner, read from its own loans only (reach.ts). */
  async of(accountId: string, viewer: Viewer = OPERATOR): Promise<CreditReportView> {
    const snapshot = (await this.reach.account(viewer, accountId)) ? await this.store.accountSnapshot(accountId) : undefined;
    if (!snapshot) throw accountNotFound(accountId);
    const all = await this.store.entriesOf(accountId);
    const filter = await this.reach.entryFilter(viewer, accountId);
    const entries = filter ? all.filter(filter) : all;
    const now = nowSeconds(this.business);
    const openedAt = all.length > 0 ? await this.blockTime(all[0].blockNumber) : now;
    const zone = (await this.servicingStore.profileOf(accountId))?.timeZone ?? DEFAULT_TIME_ZONE;
    return { accountId, timeZone: zone, openedAt, asOf: now, months: creditReport(entries, openedAt, now, zone) };
  }
}
