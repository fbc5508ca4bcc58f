/**
 * `LedgerCompleteness` as a checkpoint carries it: the tally after any event, given to a new
 * instance, lets the check resume there and reach the same verdict as one pass over the whole
 * history (an incremental audit equals a full one), and a resumed check still names a gap that
 * lies after the checkpoint.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { LedgerCompleteness, type LedgerTally } from "../../verifier/ledger-completeness";
import type { TimedEvent } from "../../verifier/types";
import { accountWithLines, deployLedger, purchase, repay } from "../helpers/fixtures";
import { audit } from "../helpers/audit";

async function history(): Promise<{ events: TimedEvent[]; onChain: { seq: bigint; head: string } }> {
  const l = await loadFixture(deployLedger);
  const a = await accountWithLines(l);
  const loanNo = await purchase(l, a, 100_000n, 3);
  await l.ledger.connect(l.pauser).pause();
  await l.ledger.connect(l.pauser).unpause();
  await repay(l, a, loanNo, 20_000n);
  await accountWithLines(l);
  const { history: h } = await audit({ ledger: await l.ledger.getAddress() });
  if (h.ledgerHead === undefined || "error" in h.ledgerHead) throw new Error("no ledger head read");
  return { events: h.events, onChain: h.ledgerHead };
}

/** Observe `events` from `start` (JSON round trip of the tally, as a checkpoint file stores it). */
function resumed(start: LedgerTally | undefined, events: readonly TimedEvent[]): LedgerCompleteness {
  const stored = start && (JSON.parse(JSON.stringify({ ...start, seq: String(start.seq) })) as Omit<LedgerTally, "seq"> & { seq: string });
  const c = new LedgerCompleteness(stored && { ...stored, seq: BigInt(stored.seq) });
  for (const e of events) c.observe(e);
  return c;
}

describe("ledger-head check: resuming from a tally", () => {
  it("reaches the same head and verdict resumed from the tally after any event as in one pass", async () => {
    const { events, onChain } = await history();
    const whole = resumed(undefined, events);
    expect(whole.finish(onChain)).to.deep.equal([]);
    expect(whole.tally().seq).to.equal(onChain.seq);
    for (let cut = 0; cut <= events.length; cut++) {
      // A checkpoint is taken between transactions: never between an event and its LedgerAdvanced.
      if (cut < events.length && events[cut].name === "LedgerAdvanced") continue;
      const first = resumed(undefined, events.slice(0, cut));
      const rest = resumed(first.tally(), events.slice(cut));
      expect(rest.finish(onChain), `cut after event ${cut}`).to.deep.equal([]);
      expect(rest.tally()).to.deep.equal(whole.tally());
    }
  });

  it("names a gap after the checkpoint: entries hidden from the new events fail the resumed check", async () => {
    const { events, onChain } = await history();
    let cut = Math.floor(events.length / 2);
    while (events[cut].name === "LedgerAdvanced") cut++; // a checkpoint is taken between transactions
    const first = resumed(undefined, events.slice(0, cut));
    const later = events.slice(cut);
    const pause = later.findIndex((e) => e.name === "Paused");
    const hidden = later.filter((_, i) => i < pause || i > pause + 3); // Paused, its advance, Unpaused, its advance
    expect(hidden.length).to.equal(later.length - 4);
    const rest = resumed(first.tally(), hidden);
    const seq = BigInt(later[pause + 1].args.ledgerSeq as bigint);
    const findings = rest.finish(onChain);
    expect(findings.map((f) => f.message), JSON.stringify(findings.map((f) => f.message))).to.have.length(1);
    expect(findings[0].message).to.contain(`ledger entries ${seq}..${seq + 1n} are missing`);
  });
});
