/**
 * The verifier's bytecode check: the code deployed at the ledger's address (and at the
 * library it links) must be this repository's compiled runtime code, linked library
 * addresses filled in, immutables and the trailing metadata hash aside. A different contract
 * at the address (the ledger double), or one changed byte of the compiled code, fails it.
 */
import path from "node:path";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { PAY_LATER_ID } from "../../deploy/defaults";
import { loadRuntimeArtifacts } from "../../verifier/artifacts-node";
import { compareRuntime, splitMetadata, type RuntimeArtifact, type RuntimeArtifacts } from "../../verifier/bytecode";
import { audit, describeFindings, failingChecks, rpcProvider } from "../helpers/audit";
import { deployLedger } from "../helpers/fixtures";
import { deployDouble, StagedLedger } from "../helpers/ledger-double";

const ARTIFACTS = loadRuntimeArtifacts(path.join(__dirname, "..", ".."));

/** A byte of the code body that no link or immutable reference covers (so it is compared as is). */
function plainByte(runtime: RuntimeArtifact, from: number): number {
  const refs = [
    ...Object.values(runtime.linkReferences).flatMap((libs) => Object.values(libs).flat()),
    ...Object.values(runtime.immutableReferences ?? {}).flat(),
  ];
  for (let at = from; ; at++) if (!refs.some((r) => at >= r.start && at < r.start + r.length)) return at;
}

/** The artifact with the byte at `at` (counted from the start of the code) flipped. */
function flipByte(runtime: RuntimeArtifact, at: number): RuntimeArtifact {
  const hex = runtime.object.replace(/^0x/, "");
  const flipped = (parseInt(hex.slice(at * 2, at * 2 + 2), 16) ^ 0x01).toString(16).padStart(2, "0");
  return { ...runtime, object: hex.slice(0, at * 2) + flipped + hex.slice(at * 2 + 2) };
}

const withLedger = (ledger: RuntimeArtifact): RuntimeArtifacts => ({ ...ARTIFACTS, ledger });

describe("verifier: bytecode", function () {
  it("passes the deployed ledger and its library against the compiled artifacts", async function () {
    const l = await loadFixture(deployLedger);
    const { history, report } = await audit({ ledger: await l.ledger.getAddress(), artifacts: ARTIFACTS });
    expect(history.bytecode?.map((b) => [b.contract, b.matches])).to.deep.equal([
      ["contracts/CreditLedger.sol:CreditLedger", true],
      ["contracts/libraries/LoanServicing.sol:LoanServicing", true],
    ]);
    expect(report.checks.find((c) => c.check === "bytecode")).to.deep.include({ status: "pass", checked: 2 });
  });

  it("fails the bytecode check when one byte of the ledger's compiled code differs, naming the contract and the byte", async function () {
    const l = await loadFixture(deployLedger);
    const at = plainByte(ARTIFACTS.ledger, 100);
    const { report } = await audit({ ledger: await l.ledger.getAddress(), artifacts: withLedger(flipByte(ARTIFACTS.ledger, at)) });
    expect(failingChecks(report), describeFindings(report)).to.deep.equal(["bytecode"]);
    const [finding, ...rest] = report.checks.find((c) => c.check === "bytecode")!.findings;
    expect(rest, "the library still matches").to.deep.equal([]);
    expect(finding.message).to.contain("contracts/CreditLedger.sol:CreditLedger").and.contain(`first difference at byte ${at}`);
  });

  it("fails the bytecode check when one byte of the linked library's compiled code differs", async function () {
    const l = await loadFixture(deployLedger);
    const [library] = ARTIFACTS.libraries;
    const altered = flipByte(library, plainByte(library, 64));
    const { report } = await audit({ ledger: await l.ledger.getAddress(), artifacts: { ...ARTIFACTS, libraries: [altered] } });
    expect(failingChecks(report), describeFindings(report)).to.deep.equal(["bytecode"]);
    const findings = report.checks.find((c) => c.check === "bytecode")!.findings;
    expect(findings.map((f) => f.message.split(" at ")[0])).to.deep.equal(["contracts/libraries/LoanServicing.sol:LoanServicing"]);
  });

  it("passes when only the metadata hash differs (a comment or path change outside the code)", async function () {
    const l = await loadFixture(deployLedger);
    const hex = ARTIFACTS.ledger.object.replace(/^0x/, "");
    const { body } = splitMetadata(hex);
    const { history, report } = await audit({
      ledger: await l.ledger.getAddress(),
      artifacts: withLedger(flipByte(ARTIFACTS.ledger, body.length / 2 + 10)),
    });
    expect(report.checks.find((c) => c.check === "bytecode")?.status, describeFindings(report)).to.equal("pass");
    expect(history.bytecode?.[0].detail).to.match(/only the metadata hash differs/);
  });

  it("fails the bytecode check on a contract at the ledger's address that is not the ledger (a double emitting the same events)", async function () {
    const s = new StagedLedger(await loadFixture(deployDouble));
    const { account } = await s.openAccount();
    await s.grantLine(account, { productId: PAY_LATER_ID, limit: 500_000n });
    await s.purchase(account, 1_000n);
    await s.syncViews();
    const { report } = await audit({ ledger: s.f.address, fromBlock: s.f.deployBlock, artifacts: ARTIFACTS });
    // Every event of the double's history is honest: only the code gives it away.
    expect(failingChecks(report), describeFindings(report)).to.deep.equal(["bytecode"]);
    expect(report.checks.find((c) => c.check === "bytecode")!.findings[0].message).to.contain("CreditLedger");
  });

  it("compares pure inputs: equal code matches, and a one-byte change is a mismatch", async function () {
    const l = await loadFixture(deployLedger);
    const address = await l.ledger.getAddress();
    const deployedCode = await rpcProvider().getCode(address);
    const { history } = await audit({ ledger: address, artifacts: ARTIFACTS });
    const libraries = { "contracts/libraries/LoanServicing.sol:LoanServicing": history.bytecode![1].address };
    const input = { contract: "CreditLedger", address, deployedCode, runtime: ARTIFACTS.ledger, libraries };
    expect(compareRuntime(input).matches).to.equal(true);
    const at = plainByte(ARTIFACTS.ledger, 2_000);
    const mismatch = compareRuntime({ ...input, runtime: flipByte(ARTIFACTS.ledger, at) });
    expect(mismatch.matches).to.equal(false);
    expect(mismatch.detail).to.contain(`first difference at byte ${at}`);
  });
});
