/**
 * Operations (what an accepted request became: its outbox steps and transactions) and the
 * gateway's health.
 */
import { z } from "zod";

import { uint64 } from "./money";
import { ProblemSchema } from "./problem";

export const OperationResponse = z
  .object({
    id: z.string(),
    kind: z.string(),
    accountId: z.string(),
    status: z.enum(["pending", "confirmed", "failed"]),
    createdAt: z.string(),
    updatedAt: z.string(),
    steps: z.array(
      z.object({
        step: z.int(),
        call: z.string().describe("The ledger function"),
        status: z.enum(["queued", "sent", "confirmed", "failed", "cancelled"]),
        ref: z.string().describe("The reference the entry carries on-chain"),
        expectedSeq: uint64.nullable(),
        txHash: z.string().nullable(),
        blockNumber: z.int().nullable(),
        logIndex: z.int().nullable(),
        entrySeq: uint64.nullable(),
        event: z.string().nullable(),
        transactions: z.array(z.string()).describe("Every transaction signed for the step (replacements included)"),
        attempts: z.int(),
      })
    ),
    problem: ProblemSchema.nullable().describe("Why the operation failed"),
  })
  .meta({ id: "Operation" });

export const HealthResponse = z
  .object({
    status: z.enum(["ok", "degraded"]),
    chain: z.object({
      reachable: z.boolean(),
      chainId: z.string().nullable(),
      blockNumber: z.int().nullable(),
      ledger: z.string(),
    }),
    scorer: z
      .object({ reachable: z.boolean(), address: z.string().describe("The scorer process's key (holds SCORER_ROLE)") })
      .describe("The scorer process: decisions wait in the outbox while it cannot be reached"),
    outbox: z.object({ depth: z.int(), oldestCreatedAt: z.string().nullable() }),
    indexer: z.object({ nextBlock: z.int().nullable(), lagBlocks: z.int().nullable() }),
  })
  .meta({ id: "Health" });
