/**
 * The admin role (DEFAULT_ADMIN_ROLE): one holder, handed over in two steps with a delay
 * (OpenZeppelin's AccessControlDefaultAdminRules): the admin begins, the new admin accepts
 * once the delay has passed. A single-step grant or revoke of the admin role is refused.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";

import { ROLES } from "../../deploy/modules/CreditLedger";
import { deployLedger } from "../helpers/fixtures";

const DELAY = 86_400;
const deployWithDelay = () => deployLedger({ adminDelay: DELAY });

describe("CreditLedger admin role hand-over", () => {
  it("has the deployer as its one admin and the module's delay (0 by default)", async () => {
    const l = await loadFixture(deployLedger);
    expect(await l.ledger.defaultAdmin()).to.equal(l.admin.address);
    expect(await l.ledger.defaultAdminDelay()).to.equal(0n);
    const delayed = await loadFixture(deployWithDelay);
    expect(await delayed.ledger.defaultAdminDelay()).to.equal(BigInt(DELAY));
  });

  it("refuses a single-step grantRole(DEFAULT_ADMIN_ROLE, x) with AccessControlEnforcedDefaultAdminRules", async () => {
    const l = await loadFixture(deployLedger);
    const [, , , , , multisig] = await ethers.getSigners();
    await expect(l.ledger.connect(l.admin).grantRole(ROLES.admin, multisig.address)).to.be.revertedWithCustomError(
      l.ledger,
      "AccessControlEnforcedDefaultAdminRules",
    );
    await expect(l.ledger.connect(l.admin).revokeRole(ROLES.admin, l.admin.address)).to.be.revertedWithCustomError(
      l.ledger,
      "AccessControlEnforcedDefaultAdminRules",
    );
    expect(await l.ledger.hasRole(ROLES.admin, multisig.address)).to.equal(false);
    expect(await l.ledger.defaultAdmin()).to.equal(l.admin.address);
  });

  it("refuses beginDefaultAdminTransfer from a non-admin with AccessControlUnauthorizedAccount", async () => {
    const l = await loadFixture(deployWithDelay);
    await expect(l.ledger.connect(l.operator).beginDefaultAdminTransfer(l.operator.address))
      .to.be.revertedWithCustomError(l.ledger, "AccessControlUnauthorizedAccount")
      .withArgs(l.operator.address, ROLES.admin);
  });

  it("refuses acceptDefaultAdminTransfer before the delay with AccessControlEnforcedDefaultAdminDelay", async () => {
    const l = await loadFixture(deployWithDelay);
    const [, , , , , multisig] = await ethers.getSigners();
    await l.ledger.connect(l.admin).beginDefaultAdminTransfer(multisig.address);
    const [pending, schedule] = await l.ledger.pendingDefaultAdmin();
    expect(pending).to.equal(multisig.address);
    expect(schedule).to.equal(BigInt(await time.latest()) + BigInt(DELAY));
    await expect(l.ledger.connect(multisig).acceptDefaultAdminTransfer())
      .to.be.revertedWithCustomError(l.ledger, "AccessControlEnforcedDefaultAdminDelay")
      .withArgs(schedule);
    expect(await l.ledger.defaultAdmin()).to.equal(l.admin.address);
  });

  it("refuses acceptDefaultAdminTransfer by anyone but the pending admin with AccessControlInvalidDefaultAdmin", async () => {
    const l = await loadFixture(deployWithDelay);
    const [, , , , , multisig] = await ethers.getSigners();
    await l.ledger.connect(l.admin).beginDefaultAdminTransfer(multisig.address);
    await time.increase(DELAY);
    await expect(l.ledger.connect(l.stranger).acceptDefaultAdminTransfer())
      .to.be.revertedWithCustomError(l.ledger, "AccessControlInvalidDefaultAdmin")
      .withArgs(l.stranger.address);
  });

  it("hands the role over with beginDefaultAdminTransfer and acceptDefaultAdminTransfer after the delay", async () => {
    const l = await loadFixture(deployWithDelay);
    const [, , , , , multisig] = await ethers.getSigners();
    await l.ledger.connect(l.admin).beginDefaultAdminTransfer(multisig.address);
    await time.increase(DELAY);
    await expect(l.ledger.connect(multisig).acceptDefaultAdminTransfer())
      .to.emit(l.ledger, "RoleRevoked")
      .withArgs(ROLES.admin, l.admin.address, multisig.address)
      .and.to.emit(l.ledger, "RoleGranted")
      .withArgs(ROLES.admin, multisig.address, multisig.address);
    expect(await l.ledger.defaultAdmin()).to.equal(multisig.address);
    expect(await l.ledger.hasRole(ROLES.admin, l.admin.address)).to.equal(false);
    // The new admin acts as admin; the old one no longer can.
    await l.ledger.connect(multisig).grantRole(ROLES.pauser, l.stranger.address);
    await expect(l.ledger.connect(l.admin).grantRole(ROLES.pauser, l.admin.address))
      .to.be.revertedWithCustomError(l.ledger, "AccessControlUnauthorizedAccount")
      .withArgs(l.admin.address, ROLES.admin);
  });
});
