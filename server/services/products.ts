/**
 * The ledger's products and tier policies as the gateway uses them: read from the chain (the
 * admin configures them there) and cached for a short while. Product names at the API are
 * `pay_later` and `cash_loan` (server/scoring/policy.ts maps them to product ids).
 */
import { bigField } from "../chain/chain-values";
import type { LedgerClient } from "../chain/ledger-client";
import type { Clock } from "../clock";
import { PRODUCT_IDS, type ProductName } from "../scoring/policy";
import type { ProductTerms } from "../servicing/quotes";

export interface Product extends ProductTerms {
  id: number;
  name: ProductName;
  kind: number;
  allowedPeriods: number;
  writeOffDays: bigint;
  active: boolean;
}

const CACHE_MS = 60_000;

export const productNameOf = (productId: number): ProductName | undefined =>
  (Object.keys(PRODUCT_IDS) as ProductName[]).find((name) => PRODUCT_IDS[name] === productId);

export class ProductCatalog {
  private readonly cache = new Map<number, { at: number; product: Product }>();

  constructor(private readonly client: LedgerClient, private readonly clock: Clock) {}

  async byName(name: ProductName): Promise<Product> {
    return this.byId(PRODUCT_IDS[name]);
  }

  async byId(productId: number): Promise<Product> {
    const hit = this.cache.get(productId);
    if (hit && this.clock.nowMs() - hit.at < CACHE_MS) return hit.product;
    const p = await this.client.productOf(productId);
    const product: Product = {
      id: productId,
      name: productNameOf(productId) ?? "pay_later",
      kind: Number(p.kind),
      graceDays: bigField(p, "graceDays"),
      allowedPeriods: Number(p.allowedPeriods),
      penaltyPpmPerDay: bigField(p, "penaltyPpmPerDay"),
      costCeilingPpmPerYear: bigField(p, "costCeilingPpmPerYear"),
      writeOffDays: bigField(p, "writeOffDays"),
      active: Boolean(p.active),
      installmentFeePpm: (p.installmentFeePpm as unknown[]).map((v) => BigInt(v as bigint)),
    };
    this.cache.set(productId, { at: this.clock.nowMs(), product });
    return product;
  }

  /** Whether the product allows a loan of `periods` periods (its bit mask). */
  static allows(product: Product, periods: number): boolean {
    return periods > 0 && periods < 16 && ((product.allowedPeriods >> periods) & 1) === 1;
  }
}
