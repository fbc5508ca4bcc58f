/**
 * The published hash-chain rule, recomputed by an outsider. The payload table of
 * `ICreditLedger.sol`'s header and docs/VERIFIER.md is written here as data (entry kind ->
 * ordered (field name, ABI type) list). It is deliberately independent of
 * `core/hash-chain.ts`: nothing here reads event fragments to decide what is hashed. A
 * scenario on the real ledger records every entry kind. Then, for every entry of every
 * account, the payload hash is encoded from the decoded event's fields named by the table, and
 * the head chain is rebuilt from the zero genesis:
 *
 *   head_0 = bytes32(0), seq_0 = 0
 *   head_n = keccak256(abi.encode(bytes32 head_{n-1}, uint64 seq_n, uint8 kind, bytes32 payloadHash_n))
 *
 * Each event's `head` must be the recomputed one, and the chain must end at `accountOf`.
 */
import fs from "node:fs";
import path from "node:path";
import { DecisionPurpose } from "../../core/decision";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import { AbiCoder, keccak256, ParamType, ZeroHash, type Interface, type LogDescription } from "ethers";

import {
  CASH_LOAN_ID,
  DAY,
  PAY_LATER_ID,
  deployLedger,
  drawCash,
  grantLine,
  makeDecision,
  now,
  openAccount,
  purchase,
  repay,
  seqOf,
  sign,
  newRef,
  type Ledger,
  restructureArgs,
} from "../helpers/fixtures";
import { PAY_LATER, TIERS } from "../../deploy/defaults";

const coder = AbiCoder.defaultAbiCoder();
const ROOT = path.join(__dirname, "..", "..");

// ================================================================== the published table

const DECISION =
  "tuple(bytes32 account, uint8 purpose, uint8 productId, bool approved, uint8 tier, uint16 score, uint64 limit, " +
  "uint40 limitExpiry, uint32 ratePpmPerDay, bytes32 modelId, bytes32 featuresHash, uint16[4] reasonCodes, " +
  "bytes32 subject, address scorer, uint32 nonce, uint40 issuedAt, uint64 deadline)";
const LOAN_TERMS =
  "tuple(uint64 principal, uint40 startTime, uint8 periods, uint8 method, uint8 productId, uint32 ratePpmPerDay, " +
  "uint64 totalFee, uint16 firstDueDay, uint32 penaltyPpmPerDay, uint16 writeOffDays)";
const ALLOCATION =
  "tuple(uint64 penalty, uint64 fee, uint64 interest, uint64 overduePrincipal, uint64 currentPrincipal, uint64 prepaidPrincipal)";

/** The tuple of each struct that appears in a payload, by its Solidity name. */
const STRUCTS: Record<string, string> = { Decision: DECISION, LoanTerms: LOAN_TERMS, Allocation: ALLOCATION };

type Field = readonly [name: string, abiType: string];
interface KindRow {
  kind: number;
  name: string;
  fields: readonly Field[];
}

/** Entry kind -> the fields `abi.encode`d into its payload hash, in order. */
const PAYLOAD_TABLE: readonly KindRow[] = [
  {
    kind: 1,
    name: "AccountOpened",
    fields: [["account", "bytes32"], ["ref", "bytes32"], ["tier", "uint8"], ["exposureCap", "uint64"], ["by", "address"]],
  },
  {
    kind: 2,
    name: "DecisionDeclined",
    fields: [
      ["account", "bytes32"],
      ["ref", "bytes32"],
      ["decision", DECISION],
      ["scorer", "address"],
      ["signature", "bytes"],
      ["by", "address"],
    ],
  },
  {
    kind: 3,
    name: "LineGranted",
    fields: [
      ["account", "bytes32"],
      ["ref", "bytes32"],
      ["decision", DECISION],
      ["scorer", "address"],
      ["signature", "bytes"],
      ["by", "address"],
    ],
  },
  {
    kind: 4,
    name: "LimitIncreased",
    fields: [
      ["account", "bytes32"],
      ["ref", "bytes32"],
      ["previousLimit", "uint64"],
      ["previousTempLimit", "uint64"],
      ["previousTempExpiry", "uint40"],
      ["decision", DECISION],
      ["scorer", "address"],
      ["signature", "bytes"],
      ["by", "address"],
    ],
  },
  {
    kind: 5,
    name: "LimitCut",
    fields: [
      ["account", "bytes32"],
      ["ref", "bytes32"],
      ["productId", "uint8"],
      ["previousLimit", "uint64"],
      ["newLimit", "uint64"],
      ["reasonCode", "uint16"],
      ["by", "address"],
    ],
  },
  {
    kind: 6,
    name: "LineFrozen",
    fields: [["account", "bytes32"], ["ref", "bytes32"], ["productId", "uint8"], ["reasonCode", "uint16"], ["by", "address"]],
  },
  {
    kind: 7,
    name: "LineUnfrozen",
    fields: [["account", "bytes32"], ["ref", "bytes32"], ["productId", "uint8"], ["reasonCode", "uint16"], ["by", "address"]],
  },
  {
    kind: 8,
    name: "ExposureCapChanged",
    fields: [["account", "bytes32"], ["ref", "bytes32"], ["previousCap", "uint64"], ["newCap", "uint64"], ["by", "address"]],
  },
  {
    kind: 9,
    name: "Drawn",
    fields: [["account", "bytes32"], ["loanNo", "uint32"], ["ref", "bytes32"], ["terms", LOAN_TERMS], ["by", "address"]],
  },
  {
    kind: 10,
    name: "Refunded",
    fields: [
      ["account", "bytes32"],
      ["loanNo", "uint32"],
      ["ref", "bytes32"],
      ["amount", "uint64"],
      ["feeWaived", "uint64"],
      ["day", "uint16"],
      ["by", "address"],
    ],
  },
  {
    kind: 11,
    name: "Repaid",
    fields: [
      ["account", "bytes32"],
      ["loanNo", "uint32"],
      ["ref", "bytes32"],
      ["amount", "uint64"],
      ["allocation", ALLOCATION],
      ["day", "uint16"],
      ["interestAccrued", "uint64"],
      ["penaltyAccrued", "uint64"],
      ["status", "uint8"],
      ["by", "address"],
    ],
  },
  {
    kind: 12,
    name: "Restructured",
    fields: [
      ["account", "bytes32"],
      ["loanNo", "uint32"],
      ["ref", "bytes32"],
      ["previousTerms", LOAN_TERMS],
      ["newTerms", LOAN_TERMS],
      ["interestAccrued", "uint64"],
      ["penaltyAccrued", "uint64"],
      ["holidayDays", "uint16"],
      ["daysPastDueCleared", "uint32"],
      ["decision", DECISION],
      ["scorer", "address"],
      ["signature", "bytes"],
      ["by", "address"],
    ],
  },
  {
    kind: 13,
    name: "WrittenOff",
    fields: [
      ["account", "bytes32"],
      ["loanNo", "uint32"],
      ["ref", "bytes32"],
      ["principalWrittenOff", "uint64"],
      ["daysPastDue", "uint32"],
      ["interestAccrued", "uint64"],
      ["penaltyAccrued", "uint64"],
      ["lineFrozen", "bool"],
      ["by", "address"],
    ],
  },
  {
    kind: 14,
    name: "LineReinstated",
    fields: [
      ["account", "bytes32"],
      ["ref", "bytes32"],
      ["decision", DECISION],
      ["scorer", "address"],
      ["signature", "bytes"],
      ["by", "address"],
    ],
  },
];

const ROW_BY_NAME = new Map(PAYLOAD_TABLE.map((row) => [row.name, row]));

// ================================================================== recomputing from the table

function payloadHashFromTable(row: KindRow, event: LogDescription): string {
  const types = row.fields.map(([, abiType]) => abiType);
  const values = row.fields.map(([name]) => event.args.getValue(name));
  return keccak256(coder.encode(types, values));
}

function nextHeadFromRule(prevHead: string, seq: bigint, kind: number, payloadHash: string): string {
  return keccak256(coder.encode(["bytes32", "uint64", "uint8", "bytes32"], [prevHead, seq, kind, payloadHash]));
}

/** `EntryKind`'s members in declaration order (index = value), read from the interface source. */
function entryKindsFromSource(): string[] {
  const source = fs.readFileSync(path.join(ROOT, "contracts", "interfaces", "ICreditLedger.sol"), "utf8");
  const body = /enum EntryKind\s*\{([^}]*)\}/.exec(source);
  if (!body) throw new Error("enum EntryKind not found in ICreditLedger.sol");
  return body[1].split(",").map((member) => member.trim()).filter((member) => member.length > 0);
}

/** A field as one canonical string ("tuple(...) name"), for comparing tables written differently. */
const canonical = (abiType: string, name: string): string => ParamType.from(`${abiType} ${name}`).format("full");

/** "Decision decision" -> "tuple(...) decision", with a struct's tuple written as `(t a, u b)`. */
function canonicalFromText(field: string, structs: Record<string, string>): string {
  const [abiType, name] = field.trim().split(/\s+/);
  return canonical(structs[abiType] ?? abiType, name);
}

/** The table as canonical strings, by kind: "1 AccountOpened" -> ["bytes32 account", ...]. */
function tableOfTest(): Map<string, string[]> {
  return new Map(PAYLOAD_TABLE.map((row) => [`${row.kind} ${row.name}`, row.fields.map(([name, t]) => canonical(t, name))]));
}

/** The payload table as docs/VERIFIER.md's section "The hash chain, exactly" writes it. */
function tableOfVerifierDoc(): Map<string, string[]> {
  const doc = fs.readFileSync(path.join(ROOT, "docs", "VERIFIER.md"), "utf8");
  const start = doc.indexOf("## The hash chain, exactly");
  if (start < 0) throw new Error('docs/VERIFIER.md has no section "The hash chain, exactly"');
  const end = doc.indexOf("\n## ", start + 1);
  const lines = doc.slice(start, end < 0 ? undefined : end).split("\n");
  const structs: Record<string, string> = {};
  for (const line of lines) {
    const m = /^\| (\w+) \| `\((.*)\)` \|$/.exec(line);
    if (m) structs[m[1]] = `tuple(${m[2]})`;
  }
  const table = new Map<string, string[]>();
  for (const line of lines) {
    const m = /^\| (\d+) \| (\w+) \| (.*) \|$/.exec(line);
    if (!m) continue;
    const fields = [...m[3].matchAll(/`([^`]+)`/g)].map((f) => canonicalFromText(f[1], structs));
    table.set(`${m[1]} ${m[2]}`, fields);
  }
  return table;
}

/** The payload table as the NatSpec header of ICreditLedger.sol writes it. */
function tableOfInterfaceHeader(): Map<string, string[]> {
  const source = fs.readFileSync(path.join(ROOT, "contracts", "interfaces", "ICreditLedger.sol"), "utf8");
  const header = source
    .slice(0, source.indexOf("interface ICreditLedger"))
    .split("\n")
    .map((line) => line.replace(/^\/\/\/ ?/, "").trim())
    .join(" ");
  const structs: Record<string, string> = {};
  for (const m of header.matchAll(/- (\w+) = \(([^)]*)\)/g)) structs[m[1]] = `tuple(${m[2]})`;
  const table = new Map<string, string[]>();
  for (const m of header.matchAll(/- (\d+) (\w+): \(([^)]*)\)/g)) {
    table.set(`${m[1]} ${m[2]}`, m[3].split(",").map((f) => canonicalFromText(f, structs)));
  }
  return table;
}

// ================================================================== a history of every kind

/**
 * Two accounts. The first records every kind of entry: a decline, two grants, a permanent and a
 * temporary raise, a cut while the temporary raise lasts, a cap change, a freeze and unfreeze,
 * an installment purchase with a refund and a repayment, a cash loan restructured and later
 * repaid with interest and penalty accrued, a single purchase written off past 180 days past
 * due (freezing its line), a recovery on it and the line reinstated on a decision. The second has a purchase repaid in full
 * (closed).
 */
async function everyKindOfEntry(): Promise<Ledger & { accounts: string[] }> {
  const l = await deployLedger();
  const op = l.asOperator;

  const a = await openAccount(l);
  const decline = await makeDecision(l, a, { productId: CASH_LOAN_ID, approved: false, limit: 0n });
  await op.recordDecline(decline, l.scorer.address, await sign(l, decline), newRef(), await seqOf(l, a));
  await grantLine(l, a, { productId: PAY_LATER_ID, limit: 1_000_000n });
  await grantLine(l, a, { productId: CASH_LOAN_ID, limit: 2_000_000n, ratePpmPerDay: 500n });
  const raise = await makeDecision(l, a, { productId: PAY_LATER_ID, limit: 1_500_000n });
  await op.increaseLimit(raise, l.scorer.address, await sign(l, raise), newRef(), await seqOf(l, a));
  const temporary = await makeDecision(l, a, {
    productId: PAY_LATER_ID,
    limit: 2_000_000n,
    limitExpiry: (await now()) + 30n * BigInt(DAY),
  });
  await op.increaseLimit(temporary, l.scorer.address, await sign(l, temporary), newRef(), await seqOf(l, a));
  await op.cutLimit(a, PAY_LATER_ID, 1_800_000n, 3, newRef(), await seqOf(l, a));
  await op.setExposureCap(a, 7_000_000n, newRef(), await seqOf(l, a));
  await op.freezeLine(a, CASH_LOAN_ID, 7, newRef(), await seqOf(l, a));
  await op.unfreezeLine(a, CASH_LOAN_ID, 8, newRef(), await seqOf(l, a));
  const installments = await purchase(l, a, 300_000n, 3);
  await op.refund(a, installments, 100_000n, newRef(), await seqOf(l, a));
  await repay(l, a, installments, 10_000n);
  const cash = await drawCash(l, a, 600_000n, 6, 2);
  await op.restructure(...(await restructureArgs(l, a, cash, 12, 30, 400)), newRef(), await seqOf(l, a));
  const single = await purchase(l, a, 100_000n, 1);
  await time.increase(221 * DAY); // the single purchase is 181 days past its day-40 due date
  await op.writeOff(a, single, newRef(), await seqOf(l, a));
  await repay(l, a, cash, 50_000n);
  await repay(l, a, single, 5_000n);
  const reinstate = await makeDecision(l, a, { purpose: DecisionPurpose.Reinstate, productId: PAY_LATER_ID, limit: 0n });
  await op.reinstateLine(reinstate, l.scorer.address, await sign(l, reinstate), newRef(), await seqOf(l, a));

  const b = await openAccount(l, 0, 800_000n);
  await grantLine(l, b, { productId: PAY_LATER_ID, limit: 500_000n });
  const paidOff = await purchase(l, b, 50_000n, 1);
  await repay(l, b, paidOff, 50_000n);

  return { ...l, accounts: [a, b] };
}

/** Every entry event of the ledger, in chain order (block, log index), decoded with its ABI. */
async function entryEvents(l: Ledger): Promise<LogDescription[]> {
  const logs = await ethers.provider.getLogs({ address: await l.ledger.getAddress(), fromBlock: 0, toBlock: "latest" });
  const events: LogDescription[] = [];
  for (const log of logs) {
    const parsed = l.ledger.interface.parseLog(log);
    if (parsed && parsed.fragment.inputs.some((i) => i.name === "head")) events.push(parsed);
  }
  return events;
}

// ================================================================== the rule

describe("payload hash table (the published hash-chain rule)", () => {
  it("has one row for every EntryKind except None, numbered as the enum, and one for every event that carries a head", async () => {
    const kinds = entryKindsFromSource();
    expect(kinds[0]).to.equal("None");
    expect(PAYLOAD_TABLE.map((row) => [row.kind, row.name])).to.deep.equal(kinds.slice(1).map((name, i) => [i + 1, name]));

    const { ledger } = await loadFixture(deployLedger);
    const eventsWithHead: string[] = [];
    ledger.interface.forEachEvent((e) => {
      if (e.inputs.some((i) => i.name === "head")) eventsWithHead.push(e.name);
    });
    expect([...eventsWithHead].sort()).to.deep.equal(PAYLOAD_TABLE.map((row) => row.name).sort());
  });

  it("is, for every kind, the event's fields in event order leaving out seq and head", async () => {
    const { ledger } = await loadFixture(deployLedger);
    for (const row of PAYLOAD_TABLE) {
      const event = (ledger.interface as Interface).getEvent(row.name);
      expect(event, `event ${row.name}`).to.not.equal(null);
      const fromEvent = event!.inputs.filter((i) => i.name !== "seq" && i.name !== "head").map((i) => `${i.format("sighash")} ${i.name}`);
      const fromTable = row.fields.map(([name, t]) => `${ParamType.from(t).format("sighash")} ${name}`);
      expect(fromTable, row.name).to.deep.equal(fromEvent);
    }
  });

  it("is stated the same in docs/VERIFIER.md and in the header of ICreditLedger.sol", () => {
    const expected = [...tableOfTest()];
    expect([...tableOfVerifierDoc()], "docs/VERIFIER.md").to.deep.equal(expected);
    expect([...tableOfInterfaceHeader()], "ICreditLedger.sol header").to.deep.equal(expected);
  });

  it("rebuilds every account's chain from the zero genesis: each event's head and the on-chain seq and head", async () => {
    const l = await loadFixture(everyKindOfEntry);
    const events = await entryEvents(l);

    const seen = new Set(events.map((e) => e.name));
    expect([...seen].sort(), "every kind was recorded").to.deep.equal(PAYLOAD_TABLE.map((row) => row.name).sort());

    const chains = new Map<string, { seq: bigint; head: string }>();
    for (const event of events) {
      const row = ROW_BY_NAME.get(event.name);
      expect(row, `a table row for ${event.name}`).to.not.equal(undefined);
      const account = String(event.args.getValue("account")).toLowerCase();
      const prev = chains.get(account) ?? { seq: 0n, head: ZeroHash };
      const seq = prev.seq + 1n;
      expect(event.args.getValue("seq"), `${event.name} of ${account}`).to.equal(seq);
      if (seq === 1n) expect(event.name, "the first entry").to.equal("AccountOpened");
      const head = nextHeadFromRule(prev.head, seq, row!.kind, payloadHashFromTable(row!, event));
      expect(event.args.getValue("head"), `head of ${event.name} at seq ${seq} of ${account}`).to.equal(head);
      chains.set(account, { seq, head });
    }

    expect([...chains.keys()].sort()).to.deep.equal(l.accounts.map((a) => a.toLowerCase()).sort());
    for (const account of l.accounts) {
      const onchain = await l.ledger.accountOf(account);
      const chain = chains.get(account.toLowerCase())!;
      expect(chain.seq, `seq of ${account}`).to.equal(onchain.seq);
      expect(chain.head, `head of ${account}`).to.equal(onchain.head);
    }
  });
});

// ================================================================== the ledger-wide kinds (issue 12)

const PRODUCT =
  "tuple(uint8 kind, uint16 graceDays, uint16 allowedPeriods, uint32 penaltyPpmPerDay, uint32 costCeilingPpmPerYear, " +
  "uint16 writeOffDays, bool active, uint32[4] installmentFeePpm)";
const TIER_POLICY = "tuple(uint64 maxLineLimit, uint64 maxExposure)";

/** LedgerEventKind -> the event whose fields, in event order, are its payload. Written as data. */
const LEDGER_EVENT_TABLE: readonly KindRow[] = [
  { kind: 1, name: "RoleGranted", fields: [["role", "bytes32"], ["account", "address"], ["sender", "address"]] },
  { kind: 2, name: "RoleRevoked", fields: [["role", "bytes32"], ["account", "address"], ["sender", "address"]] },
  { kind: 3, name: "Paused", fields: [["account", "address"]] },
  { kind: 4, name: "Unpaused", fields: [["account", "address"]] },
  {
    kind: 5,
    name: "ProductConfigured",
    fields: [["productId", "uint8"], ["previous", PRODUCT], ["current", PRODUCT], ["by", "address"]],
  },
  { kind: 6, name: "TierPolicySet", fields: [["tier", "uint8"], ["previous", TIER_POLICY], ["current", TIER_POLICY], ["by", "address"]] },
];

describe("ledger-wide kinds (the published ledger head rule)", () => {
  it("numbers the kinds as LedgerEventKind in ICreditLedger.sol", () => {
    const source = fs.readFileSync(path.join(ROOT, "contracts", "interfaces", "ICreditLedger.sol"), "utf8");
    const body = /enum LedgerEventKind \{([^}]*)\}/.exec(source)![1];
    const members = body.split(",").map((m) => m.trim()).filter((m) => m.length > 0);
    expect(members).to.deep.equal(["None", ...LEDGER_EVENT_TABLE.map((r) => r.name)]);
  });

  it("rebuilds ledgerHead() from the logs of every ledger-wide kind and account entries, from the table alone", async () => {
    const l = await loadFixture(deployLedger);
    const a = await openAccount(l);
    await grantLine(l, a);
    const admin = l.ledger.connect(l.admin);
    const role = ethers.id("OPERATOR_ROLE");
    await admin.grantRole(role, l.stranger.address);
    await admin.revokeRole(role, l.stranger.address);
    await l.ledger.connect(l.pauser).pause();
    await l.ledger.connect(l.pauser).unpause();
    await admin.configureProduct(PAY_LATER_ID, PAY_LATER);
    await admin.setTierPolicy(1, TIERS[1]);
    const logs = await ethers.provider.getLogs({ address: await l.ledger.getAddress(), fromBlock: 0 });
    let head = ZeroHash;
    let seq = 0n;
    const seen = new Set<string>();
    for (const log of logs) {
      const e = l.ledger.interface.parseLog(log)!;
      const row = LEDGER_EVENT_TABLE.find((r) => r.name === e.name);
      let account: string;
      let entryHead: string;
      if (row) {
        const payload = coder.encode(row.fields.map((f) => ParamType.from(f[1])), row.fields.map((f) => e.args[f[0]]));
        entryHead = keccak256(coder.encode(["uint8", "bytes32"], [row.kind, keccak256(payload)]));
        account = ZeroHash;
        seen.add(e.name);
      } else if (PAYLOAD_TABLE.some((r) => r.name === e.name)) {
        account = e.args.account as string;
        entryHead = e.args.head as string;
      } else continue;
      seq += 1n;
      head = keccak256(coder.encode(["bytes32", "uint64", "bytes32", "bytes32"], [head, seq, account, entryHead]));
    }
    expect([...seen].sort()).to.deep.equal(LEDGER_EVENT_TABLE.map((r) => r.name).sort());
    expect(await l.ledger.ledgerHead()).to.deep.equal([seq, head]);
  });
});
