/**
 * Starts the scorer: a process of its own, with its own key, database and loopback port.
 * Reads SCORER_… (scorer/config.ts). Prints one JSON line {"scorer":"<url>","address":"0x…"}
 * to stdout when it listens, so a parent process (scripts/start.ts) can find it.
 */
import { openSigner } from "../core/key-source";
import { loadScorerConfig } from "./config";
import { listen, scorerApp } from "./http";
import { ScorerService } from "./service";
import { ScorerStore } from "./store";

async function main(): Promise<void> {
  const config = loadScorerConfig(process.env);
  const signer = await openSigner(config.key);
  const store = new ScorerStore(config.dbPath);
  const service = new ScorerService({ config, store, signer });
  const { server, url } = await listen(scorerApp(service, config.token.reveal(), config.adminToken?.reveal()), config.host, config.port);
  process.stdout.write(`${JSON.stringify({ scorer: url, address: service.address })}\n`);
  const stop = (): void => {
    server.close(() => {
      store.close();
      process.exit(0);
    });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
