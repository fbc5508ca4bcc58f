/**
 * What the explorer page needs from the gateway before it reads the chain itself (GET
 * /v1/explorer/config): the RPC URL its browser should use, the ledger's address, chain id and
 * deploy block, and the compiled runtime code of the ledger and its library for the bytecode
 * check. Nothing here is account data: the page reads every fact from the chain. The gateway
 * answers with this schema (server/api/explorer.ts); the page reads it as this type.
 */
import { z } from "zod";

const Reference = z.strictObject({ start: z.int().min(0), length: z.int().min(1) });

const Runtime = z.strictObject({
  name: z.string().describe("Fully qualified name: contracts/CreditLedger.sol:CreditLedger"),
  object: z.string().describe("Runtime code as hex, with `__$...$__` placeholders where libraries are linked"),
  linkReferences: z.record(z.string(), z.record(z.string(), z.array(Reference))),
  immutableReferences: z.record(z.string(), z.array(Reference)).optional(),
});

export const ExplorerConfigResponse = z
  .strictObject({
    rpcUrl: z.string().describe("The JSON-RPC URL the page's browser reads the chain from (GATEWAY_EXPLORER_RPC_URL)"),
    ledger: z.string().describe("The CreditLedger address"),
    chainId: z.string().describe("The chain id, as a decimal string"),
    deployBlock: z.int().min(0).describe("The block the ledger's history starts at (GATEWAY_LEDGER_START_BLOCK)"),
    pageBlocks: z.int().min(1).describe("Blocks per eth_getLogs request the page makes (GATEWAY_EXPLORER_PAGE_BLOCKS)"),
    artifacts: z
      .strictObject({ ledger: Runtime, libraries: z.array(Runtime) })
      .nullable()
      .describe("This gateway's build of the ledger and its library (null when it runs without a build: the bytecode check is skipped)"),
  })
  .meta({ id: "ExplorerConfig" });

export type ExplorerConfig = z.output<typeof ExplorerConfigResponse>;
