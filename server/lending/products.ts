/**
 * The ledger's products as the gateway uses them: read from the chain (the admin configures
 * them there) and cached for a short while. Product names at the API are `pay_later` and
 * `cash_loan` (core/names.ts maps them to product ids).
 */
import type { LedgerProduct } from "../../core/ledger-structs";
import { PRODUCT_IDS, productNameOf, type ProductName } from "../../core/names";
import type { LedgerClient } from "../chain/ledger-client";
import type { Clock } from "../clock";

export interface Product extends LedgerProduct {
  id: number;
  name: ProductName;
}

const CACHE_MS = 60_000;

export class ProductCatalog {
  private readonly cache = new Map<number, { at: number; product: Product }>();

  constructor(private readonly client: LedgerClient, private readonly clock: Clock) {}

  async byName(name: ProductName): Promise<Product> {
    return this.byId(PRODUCT_IDS[name]);
  }

  async byId(productId: number): Promise<Product> {
    const hit = this.cache.get(productId);
    if (hit && this.clock.nowMs() - hit.at < CACHE_MS) return hit.product;
    const product: Product = { ...(await this.client.productOf(productId)), id: productId, name: productNameOf(productId) ?? "pay_later" };
    this.cache.set(productId, { at: this.clock.nowMs(), product });
    return product;
  }
}
