/**
 * The local clock: in development mode only (GATEWAY_MODE), an admin moves the chain's time N
 * days forward (evm_increaseTime + evm_mine) and the business clock with it, to see a loan's
 * days go by; the servicing then runs the skipped days (scheduler.ts). A move is recorded as
 * soon as it is made, under the request's idempotency key: a retry of a request whose run
 * failed does not move the chain again.
 */
import { nowSeconds } from "../clock";
import { DomainError, idempotencyKeyReused } from "../errors";
import type { Logger } from "../logger";
import { CLOCK_OFFSET_KEY, type BusinessClock } from "./business-clock";
import type { ServicingStore } from "./servicing-store";

/** What the servicing needs of the chain beyond the ledger client. */
export interface ChainControl {
  /** Whether the chain's time may be moved (development mode, on a node that has evm_increaseTime). */
  local: boolean;
  /** evm_increaseTime + evm_mine; resolves to the new latest block's timestamp. */
  increaseTime(seconds: number): Promise<bigint>;
  /** The timestamp of a block. */
  blockTime(blockNumber: number): Promise<bigint>;
}

export interface ClockMove {
  previousTime: bigint;
  chainTime: bigint;
  /** The move was made by an earlier try of the same request. */
  retried: boolean;
}

export class LocalClock {
  constructor(
    private readonly chain: ChainControl,
    private readonly business: BusinessClock,
    private readonly servicingStore: ServicingStore,
    private readonly logger: Logger
  ) {}

  /** Refuses unless the chain's time may be moved (development mode). */
  requireLocal(): void {
    if (!this.chain.local) {
      throw new DomainError("clock-advance-refused", "the clock can only be advanced in development mode (GATEWAY_MODE=development), on a chain whose time can be moved (Hardhat, anvil)", { field: "days" });
    }
  }

  /** Moves the chain and the business clock `days` forward (once per request, with `once`). */
  async move(days: number, once?: { request: string; fingerprint: string }): Promise<ClockMove> {
    this.requireLocal();
    const ss = this.servicingStore;
    const moveKey = once && `clock_advance:${once.request}`;
    const made = moveKey === undefined ? undefined : await ss.getMeta(moveKey);
    let previousTime: bigint;
    let chainTime: bigint;
    if (made !== undefined) {
      const move = JSON.parse(made) as { fingerprint: string; previousTime: string; chainTime: string };
      if (move.fingerprint !== once!.fingerprint) throw idempotencyKeyReused();
      previousTime = BigInt(move.previousTime);
      chainTime = BigInt(move.chainTime);
    } else {
      previousTime = nowSeconds(this.business);
      chainTime = await this.chain.increaseTime(days * 86_400);
      if (moveKey !== undefined) {
        await ss.setMeta(moveKey, JSON.stringify({ fingerprint: once!.fingerprint, previousTime: String(previousTime), chainTime: String(chainTime) }));
      }
    }
    const offset = this.business.catchUpTo(Number(chainTime) * 1000);
    await ss.setMeta(CLOCK_OFFSET_KEY, String(offset));
    this.logger.info({ days, previousTime: String(previousTime), chainTime: String(chainTime), retried: made !== undefined }, "business clock advanced");
    return { previousTime, chainTime, retried: made !== undefined };
  }
}
