/**
 * The real four-node local network, started by the real `ecert-testnet up` and stopped
 * by `ecert-testnet down`.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "./tools.mjs";

const DEPARTMENTS = ["justice", "public-security", "social-security", "transport"];

/**
 * Starts (creating on first use) the network in `dir`, serving the apps from `web`.
 * Resolves to
 * { dir, nodes: { department: url }, anchorPath, anchorText, caPath, passphrase, output,
 *   issuerHome(department), down() }.
 */
export async function testnetUp(dir, { web = null } = {}) {
  const args = ["up", "--dir", dir, ...(web ? ["--web", web] : [])];
  const { stdout, stderr } = await run("ecert-testnet", args, { timeoutMs: 180000 });
  const output = stdout + stderr;
  const nodes = {};
  for (const line of output.split("\n")) {
    const words = line.trim().split(/\s+/);
    const department = DEPARTMENTS.find((d) => words[0] === d);
    const url = words.find((w) => /^https?:\/\//.test(w));
    if (department && url && !nodes[department]) nodes[department] = url.replace(/\/+$/, "");
  }
  if (Object.keys(nodes).length !== DEPARTMENTS.length) {
    throw new Error(`ecert-testnet up did not list the four nodes:\n${output}`);
  }
  const anchorPath = join(dir, "anchor.toml");
  const caPath = join(dir, "tls", "ca.pem");
  return {
    dir,
    nodes,
    output,
    anchorPath,
    anchorText: readFileSync(anchorPath, "utf8"),
    caPath: existsSync(caPath) ? caPath : null,
    passphrase: readFileSync(join(dir, "dev-passphrase"), "utf8").trim(),
    issuerHome: (department) => join(dir, "issuers", department),
    down: () => run("ecert-testnet", ["down", "--dir", dir], { check: false }),
  };
}

/**
 * Ends a browser suite whose state `s` holds the network (`s.net`) and its scratch folder
 * (`s.tmp`): first what it started on them, in the order given (browsers are closed,
 * servers stopped; what a failed `before` never started is skipped), then the network,
 * then the folder.
 */
export async function endSuite(s, ...started) {
  for (const thing of started) {
    if (thing?.close) await thing.close();
    else if (thing?.stop) await thing.stop();
  }
  await s.net?.down();
  if (s.tmp) rmSync(s.tmp, { recursive: true, force: true });
}
