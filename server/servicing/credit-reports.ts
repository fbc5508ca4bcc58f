/**
 * The credit-report view of an account (GET /v1/accounts/{id}/credit-report): one status per
 * calendar month in the borrower's zone, rebuilt from the account's ledger entries with the
 * core's credit-report rule (core/credit-report.ts), which the explorer uses too.
 */
import type { z } from "zod";

import { creditReport } from "../../core/credit-report";
import { DEFAULT_TIME_ZONE } from "../../core/zone-time";
import { nowSeconds, type Clock } from "../clock";
import { DomainError } from "../errors";
import type { CreditReportResponse } from "../schemas/servicing";
import type { Store } from "../store/store";
import type { ServicingStore } from "./servicing-store";

export type CreditReportView = z.output<typeof CreditReportResponse>;

export class CreditReports {
  constructor(
    private readonly store: Store,
    private readonly servicingStore: ServicingStore,
    private readonly business: Clock,
    private readonly blockTime: (blockNumber: number) => Promise<bigint>
  ) {}

  async of(accountId: string): Promise<CreditReportView> {
    const snapshot = await this.store.accountSnapshot(accountId);
    if (!snapshot) throw new DomainError("account-not-found", `no account ${accountId} on the ledger (yet)`, { field: "accountId" });
    const entries = await this.store.entriesOf(accountId);
    const now = nowSeconds(this.business);
    const openedAt = entries.length > 0 ? await this.blockTime(entries[0].blockNumber) : now;
    const zone = (await this.servicingStore.profileOf(accountId))?.timeZone ?? DEFAULT_TIME_ZONE;
    return { accountId, timeZone: zone, openedAt, asOf: now, months: creditReport(entries, openedAt, now, zone) };
  }
}
