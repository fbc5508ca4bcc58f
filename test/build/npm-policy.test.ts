/**
 * The npm policy, read from the files npm reads: `.npmrc` makes `allowScripts` binding
 * (strict-allow-scripts: an install script not reviewed fails the install) and `engines`
 * binding (engine-strict); npm's version is pinned in `packageManager` and `engines.npm`; and
 * `allowScripts` names every package of the lockfile that has an install script, allowing
 * better-sqlite3's native build only.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

const ROOT = path.resolve(__dirname, "..", "..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

interface PackageJson {
  packageManager?: string;
  engines?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}
interface PackageLock {
  packages: Record<string, { name?: string; version?: string; hasInstallScript?: boolean }>;
}

/** The `key=value` settings of an .npmrc (comments and blank lines left out). */
function npmrc(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith(";"))
      .map((line) => {
        const at = line.indexOf("=");
        return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
      })
  );
}

describe("npm policy (.npmrc, package.json, package-lock.json)", () => {
  const pkg = JSON.parse(read("package.json")) as PackageJson;
  const lock = JSON.parse(read("package-lock.json")) as PackageLock;

  it("makes allowScripts and engines binding: strict-allow-scripts and engine-strict are on", () => {
    const settings = npmrc(read(".npmrc"));
    expect(settings["strict-allow-scripts"]).to.equal("true");
    expect(settings["engine-strict"]).to.equal("true");
  });

  it("pins npm's exact version in packageManager and engines.npm, the version in use", () => {
    const pinned = pkg.engines?.npm;
    expect(pinned, "engines.npm").to.match(/^\d+\.\d+\.\d+$/);
    expect(pkg.packageManager).to.equal(`npm@${pinned}`);
    const inUse = execFileSync("npm", ["--version"], { cwd: ROOT, encoding: "utf8" }).trim();
    expect(inUse, "npm --version").to.equal(pinned);
  });

  it("lists every package with an install script in allowScripts: better-sqlite3 allowed, every other one denied", () => {
    const withScripts = [
      ...new Set(
        Object.entries(lock.packages)
          .filter(([, p]) => p.hasInstallScript === true)
          .map(([where, p]) => p.name ?? where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length))
      ),
    ].sort();
    expect(withScripts).to.include("better-sqlite3");
    const policy = pkg.allowScripts ?? {};
    expect(Object.keys(policy).sort()).to.deep.equal(withScripts);
    expect(Object.entries(policy).filter(([, allowed]) => allowed).map(([name]) => name)).to.deep.equal(["better-sqlite3"]);
  });

  it("still loads better-sqlite3's native module (its install script is the one allowed)", () => {
    const db = new Database(":memory:");
    try {
      expect(db.prepare("SELECT 40 + 2 AS n").get()).to.deep.equal({ n: 42 });
    } finally {
      db.close();
    }
  });
});
