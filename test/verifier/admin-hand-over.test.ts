/**
 * The verifier replays the two-step admin hand-over of the real ledger
 * (AccessControlDefaultAdminRules): `acceptDefaultAdminTransfer` revokes and grants
 * DEFAULT_ADMIN_ROLE with the pending admin as sender, who does not hold the role yet; after the
 * delay that is the rule, and what the new admin does next is by the admin. Staged on the
 * double (histories the real ledger refuses): an acceptance before the delay, or by another key
 * than the pending admin, fails the roles check.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";

import { ROLES } from "../../deploy/modules/CreditLedger";
import type { AuditReport } from "../../verifier/types";
import { audit, describeFindings, failingChecks, firstFinding } from "../helpers/audit";
import { deployLedger } from "../helpers/fixtures";
import { deployDouble, StagedLedger } from "../helpers/ledger-double";

const DELAY = 3_600;
const deployWithDelay = () => deployLedger({ adminDelay: DELAY });

describe("verifier: the two-step admin hand-over", () => {
  it("passes the roles check on a history where the new admin accepted after the delay and then acts", async () => {
    const l = await loadFixture(deployWithDelay);
    const [, , , , , multisig] = await ethers.getSigners();
    await l.ledger.connect(l.admin).beginDefaultAdminTransfer(multisig.address);
    await time.increase(DELAY);
    await l.ledger.connect(multisig).acceptDefaultAdminTransfer();
    await l.ledger.connect(multisig).grantRole(ROLES.pauser, l.stranger.address);
    const { report } = await audit({ ledger: await l.ledger.getAddress() });
    expect(failingChecks(report), describeFindings(report)).to.deep.equal([]);
    const kinds = report.timeline.map((t) => t.kind);
    expect(kinds).to.include("admin-transfer-scheduled");
  });

  it("passes the roles check on a hand-over begun, cancelled, and begun again", async () => {
    const l = await loadFixture(deployWithDelay);
    const [, , , , , multisig, other] = await ethers.getSigners();
    await l.ledger.connect(l.admin).beginDefaultAdminTransfer(other.address);
    await l.ledger.connect(l.admin).cancelDefaultAdminTransfer();
    await l.ledger.connect(l.admin).beginDefaultAdminTransfer(multisig.address);
    await time.increase(DELAY);
    await l.ledger.connect(multisig).acceptDefaultAdminTransfer();
    const { report } = await audit({ ledger: await l.ledger.getAddress() });
    expect(failingChecks(report), describeFindings(report)).to.deep.equal([]);
    expect(report.timeline.map((t) => t.kind)).to.include("admin-transfer-canceled");
  });
});

describe("verifier: a staged admin hand-over that breaks the rule", () => {
  const DAY = 86_400n;

  async function auditStaged(s: StagedLedger): Promise<AuditReport> {
    await s.syncViews();
    return (await audit({ ledger: s.f.address, fromBlock: s.f.deployBlock })).report;
  }

  it("passes the roles check on an acceptance by the pending admin at its schedule", async () => {
    const s = new StagedLedger(await loadFixture(deployDouble));
    const schedule = (await s.now()) + DAY;
    await s.scheduleAdminTransfer(s.f.stranger.address, schedule);
    await s.acceptAdminTransfer(s.f.stranger, schedule);
    const report = await auditStaged(s);
    expect(failingChecks(report), describeFindings(report)).to.deep.equal([]);
  });

  it("fails the roles check on an acceptance before the delay, naming its transaction", async () => {
    const s = new StagedLedger(await loadFixture(deployDouble));
    const schedule = (await s.now()) + DAY;
    await s.scheduleAdminTransfer(s.f.stranger.address, schedule);
    const early = await s.acceptAdminTransfer(s.f.stranger, schedule - 3_600n);
    const report = await auditStaged(s);
    expect(failingChecks(report), describeFindings(report)).to.deep.equal(["roles"]);
    expect(firstFinding(report, "roles")?.txHash?.toLowerCase()).to.equal(early.txHash.toLowerCase());
  });

  it("fails the roles check on an acceptance by another key than the pending admin, naming its transaction", async () => {
    const s = new StagedLedger(await loadFixture(deployDouble));
    const schedule = (await s.now()) + DAY;
    await s.scheduleAdminTransfer(s.f.stranger.address, schedule);
    const usurped = await s.acceptAdminTransfer(s.f.scorer2, schedule);
    const report = await auditStaged(s);
    expect(failingChecks(report), describeFindings(report)).to.deep.equal(["roles"]);
    expect(firstFinding(report, "roles")?.txHash?.toLowerCase()).to.equal(usurped.txHash.toLowerCase());
  });
});
