/**
 * The operator's transaction nonces, handed out by the gateway itself: read from the chain
 * (pending count) once, then counted locally as transactions are signed; re-read after
 * anything that may have consumed or dropped one.
 */
import type { Provider } from "ethers";

export class NonceManager {
  private next?: number;

  constructor(private readonly provider: Provider, private readonly address: string) {}

  /** The nonce the next new transaction takes. */
  async peek(): Promise<number> {
    this.next ??= await this.provider.getTransactionCount(this.address, "pending");
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

  /** Whether the chain has mined a transaction with `nonce` from this address. */
  async isUsed(nonce: number): Promise<boolean> {
    return (await this.provider.getTransactionCount(this.address, "latest")) > nonce;
  }
}
