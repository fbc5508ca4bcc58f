/**
 * Mocha reporter for `npm test`: mocha's `spec` output for people, then a JSON summary file
 * for machines and, as the very last line, `tests: N passed, M failed`.
 *
 * Configured in hardhat.config.ts (`mocha.reporter`, `mocha.reporterOptions.summaryFile`).
 * `.ci/run` reads the summary file to tell "tests ran" from "never got to mocha" (a failed
 * install or compile). Mocha's `failZero` makes a run without tests fail.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import Mocha from "mocha";

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

interface TestSummary {
  passed: number;
  failed: number;
  pending: number;
  durationMs: number;
  /** Full titles of the failed tests and hooks, with their error messages. */
  failures: { title: string; error: string }[];
}

const summaryLine = (s: Pick<TestSummary, "passed" | "failed">): string =>
  `tests: ${s.passed} passed, ${s.failed} failed`;

class SummaryReporter extends Spec {
  constructor(runner: Mocha.Runner, options: Mocha.MochaOptions) {
    super(runner, options);
    const summaryFile = (options.reporterOptions as { summaryFile?: string } | undefined)?.summaryFile;
    const failures: TestSummary["failures"] = [];
    runner.on(EVENT_TEST_FAIL, (test: Mocha.Runnable, error: Error) => {
      failures.push({ title: test.fullTitle(), error: String(error?.message ?? error) });
    });
    // Registered after Spec's own RUN_END listener, so this prints after its epilogue.
    runner.once(EVENT_RUN_END, () => {
      const stats = this.stats;
      const summary: TestSummary = {
        passed: stats.passes,
        failed: stats.failures,
        pending: stats.pending,
        durationMs: stats.duration ?? 0,
        failures,
      };
      if (summaryFile !== undefined) {
        mkdirSync(path.dirname(summaryFile), { recursive: true });
        writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
      }
      console.log(summaryLine(summary));
    });
  }
}

export = SummaryReporter;
