/**
 * `npx hardhat run scripts/batch-gas.ts`: prints the gas/op table of `batch` (scripts/lib/batch-gas.ts).
 */
import { batchGasMarkdown, measureBatchGas } from "./lib/batch-gas";

measureBatchGas()
  .then((table) => console.log(batchGasMarkdown(table)))
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
