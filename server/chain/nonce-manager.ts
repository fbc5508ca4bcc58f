/**
 * The operator's transaction nonces, handed out by the gateway itself: read from the chain
 * (pending count) once, then counted locally as transactions are signed; re-read after
 * anything that may have consumed or dropped one. The sender passes the nonce after its
 * highest stored transaction as a floor, so a transaction stored but never broadcast (a crash
 * in between, or a node that lost it) keeps its nonce: it is broadcast again, never reused.
 */
import type { BlockTag, Provider } from "ethers";

export class NonceManager {
  private next?: number;

  constructor(private readonly provider: Provider, private readonly address: string) {}

  /** The nonce the next new transaction takes: the chain's pending count, or `floor` when that is higher. */
  async peek(floor = 0): Promise<number> {
    this.next ??= await this.provider.getTransactionCount(this.address, "pending");
    this.next = Math.max(this.next, floor);
    return this.next;
  }

  /** A transaction with `nonce` was signed and stored: the next one follows it. */
  commit(nonce: number): void {
    this.next = Math.max(this.next ?? 0, nonce + 1);
  }

  /** Forget the local count; the next `peek` reads the chain again. */
  reset(): void {
    this.next = undefined;
  }

  /** Whether a transaction with `nonce` from this address is mined as of `blockTag` (default: the latest block). */
  async isUsed(nonce: number, blockTag: BlockTag = "latest"): Promise<boolean> {
    return (await this.provider.getTransactionCount(this.address, blockTag)) > nonce;
  }
}
