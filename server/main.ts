/**
 * Runs the gateway from its configuration (the environment, see server/config.ts):
 *
 *   GATEWAY_RPC_URL=... GATEWAY_LEDGER_ADDRESS=... ... npx ts-node --transpile-only server/main.ts
 *
 * Exits 1 with every bad setting named when the configuration is invalid, 2 when the chain or
 * the ledger cannot be used. SIGINT/SIGTERM stop it cleanly: the HTTP server stops accepting,
 * the outbox sender finishes the step in hand, the store is closed. A SIGKILL at any point is
 * safe too: the outbox resumes on the next start.
 */
import { ConfigError, readGatewayConfig } from "./config";
import { createGateway } from "./gateway";

async function main(): Promise<void> {
  let config;
  try {
    config = readGatewayConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  let gateway;
  try {
    gateway = await createGateway(config);
  } catch (error) {
    console.error(`gateway cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
  const url = await gateway.start();
  console.log(`gateway listening on ${url} (docs ${url}/docs, OpenAPI ${url}/openapi.json)`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.logger.info({ signal }, "stopping");
    await gateway.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(`gateway failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
