import { expect } from "chai";
import { z } from "zod";

import { ledgerProblem } from "../../server/api/ledger-problems";
import { asApiError } from "../../server/api/error-answers";
import { ApiError, validationProblem } from "../../server/api/problems";
import { decodeRevert, isTransient } from "../../server/chain/ledger-errors";
import { CreditLedger__factory } from "../../typechain-types";

const iface = CreditLedger__factory.createInterface();
const ACCOUNT = `0x${"ab".repeat(32)}`;
const revertOf = (name: string, args: unknown[]) => decodeRevert(iface as never, { data: iface.encodeErrorResult(name, args) })!;

describe("problem documents", () => {
  it("maps LimitExceeded to 422 naming the amount, with requested and available as decimal strings", () => {
    const revert = revertOf("LimitExceeded", [ACCOUNT, 1, 1_000_001n, 1_000_000n]);
    expect(revert.name).to.equal("LimitExceeded");
    const problem = ledgerProblem(revert).toProblem("/v1/purchases");
    expect(problem).to.deep.include({
      type: "/problems/ledger/limit-exceeded",
      status: 422,
      field: "amount",
      rule: "LimitExceeded",
      instance: "/v1/purchases",
      detail: "1000001 fen requested, 1000000 fen available on the line",
    });
    expect(problem.values).to.deep.equal({ account: ACCOUNT, productId: "1", requested: "1000001", available: "1000000" });
    expect(() => JSON.stringify(problem)).not.to.throw();
  });

  it("maps state conflicts to 409, unknown things to 404, a paused ledger to 503", () => {
    expect(ledgerProblem(revertOf("SeqMismatch", [ACCOUNT, 3, 4])).status).to.equal(409);
    expect(ledgerProblem(revertOf("LineExists", [ACCOUNT, 1])).toProblem()).to.include({ status: 409, field: "product" });
    expect(ledgerProblem(revertOf("UnknownLoan", [ACCOUNT, 9])).toProblem()).to.include({ status: 404, field: "loanId" });
    expect(ledgerProblem(revertOf("EnforcedPause", [])).toProblem()).to.include({ status: 503, type: "/problems/ledger-paused" });
  });

  it("renames a blamed field for the endpoint (purchases say installments)", () => {
    const revert = revertOf("PeriodsNotAllowed", [1, 4]);
    expect(ledgerProblem(revert, { fieldAliases: { periods: "installments" } }).toProblem().field).to.equal("installments");
    const restructure = revertOf("InvalidRestructure", ["newPeriods", 3]);
    expect(ledgerProblem(restructure, { fieldAliases: { newPeriods: "periods" } }).toProblem().field).to.equal("periods");
  });

  it("hides key and role misconfiguration behind a 500 that names no internals", () => {
    const problem = ledgerProblem(
      revertOf("AccessControlUnauthorizedAccount", [ACCOUNT.slice(0, 42), `0x${"00".repeat(32)}`])
    ).toProblem();
    expect(problem).to.include({ status: 500, type: "/problems/gateway-misconfigured" });
    expect(problem.values).to.equal(undefined);
  });

  it("decodes reverts wherever a provider nests the data, and answers an unknown selector generically", () => {
    const data = iface.encodeErrorResult("NoLine", [ACCOUNT, 2]);
    for (const error of [
      { data },
      { error: { data } },
      { info: { error: { data: { data } } } },
      { cause: { revert: { data } } },
    ]) {
      expect(decodeRevert(iface as never, error)?.name).to.equal("NoLine");
    }
    const unknown = decodeRevert(iface as never, { data: "0xdeadbeef" })!;
    expect(unknown.name).to.equal("UnknownError");
    expect(ledgerProblem(unknown).toProblem()).to.include({ status: 422, type: "/problems/ledger/unknown-error" });
    expect(decodeRevert(iface as never, new Error("socket hang up"))).to.equal(undefined);
  });

  it("tells transient RPC failures from answers", () => {
    expect(isTransient(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).to.equal(true);
    expect(isTransient(Object.assign(new Error("timeout"), { code: "TIMEOUT" }))).to.equal(true);
    expect(isTransient(Object.assign(new Error("reverted"), { code: "CALL_EXCEPTION", data: "0x12345678" }))).to.equal(false);
  });

  it("turns a zod failure into a 400 naming every field, the first as `field`", () => {
    const schema = z.strictObject({ a: z.strictObject({ b: z.int() }), c: z.string() });
    const result = schema.safeParse({ a: { b: "x", extra: 1 }, c: 5 });
    const problem = validationProblem(result.error!).toProblem();
    expect(problem).to.include({ status: 400, type: "/problems/validation-failed", field: "a.b" });
    expect((problem.errors as Array<{ field: string }>).map((e) => e.field)).to.have.members(["a.b", "a.extra", "c"]);
  });

  it("turns framework errors into problems and anything unexpected into a 500 that says nothing internal", () => {
    expect(asApiError({ type: "entity.too.large", status: 413 }).status).to.equal(413);
    expect(asApiError({ type: "entity.parse.failed", status: 400 }).slug).to.equal("malformed-json");
    const internal = asApiError(new Error("database is locked at /var/secret/path"));
    expect(internal.status).to.equal(500);
    expect(internal.toProblem().detail).not.to.include("secret");
    expect(new ApiError("not-found", "x").toProblem()).to.include({
      type: "/problems/not-found",
      status: 404,
      title: "No such resource",
    });
  });
});
