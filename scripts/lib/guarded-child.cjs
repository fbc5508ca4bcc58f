/**
 * Runs a program that cannot watch its own parent (a native binary such as anvil) so that it
 * never outlives the process that started it:
 *
 *   node scripts/lib/guarded-child.cjs <program> [args...]
 *
 * The program inherits stdio; SIGTERM, SIGINT and SIGHUP are passed on to it; when the parent
 * of this guard goes away (even by SIGKILL, which leaves no chance to clean up) the program is
 * killed and the guard exits. The guard exits with the program's code.
 */
"use strict";
const { spawn } = require("node:child_process");

const [program, ...args] = process.argv.slice(2);
if (!program) {
  console.error("usage: node guarded-child.cjs <program> [args...]");
  process.exit(2);
}
const child = spawn(program, args, { stdio: "inherit" });
child.once("error", (error) => {
  console.error(`cannot run ${program}: ${error.message}`);
  process.exit(127);
});
child.once("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => child.kill(signal));
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    child.kill("SIGKILL");
    process.exit(0);
  }
}, 250).unref();
