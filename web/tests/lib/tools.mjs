/**
 * The project's real command-line tools for the browser tests: where they are built, and
 * running them with the test's environment (a light key derivation for passphrases, no
 * colours, no terminal).
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * The folder of the built tools: `$ECERT_BIN_DIR`, else `$CARGO_TARGET_DIR/debug` (as
 * `.ci/run` sets it), else `target/debug` of the checkout. `cargo test --workspace
 * --all-features` builds them.
 */
export function binDir() {
  const candidates = [];
  if (process.env.ECERT_BIN_DIR) candidates.push(resolve(process.env.ECERT_BIN_DIR));
  if (process.env.CARGO_TARGET_DIR) candidates.push(resolve(REPO, process.env.CARGO_TARGET_DIR, "debug"));
  candidates.push(join(REPO, "target", "debug"));
  const found = candidates.find((d) => existsSync(join(d, "ecert-testnet")));
  if (!found) {
    throw new Error(`the ecert tools are not built (looked in ${candidates.join(", ")}): run `
      + "`cargo test --workspace --all-features` (or `cargo build --workspace --all-features`) first, "
      + "or set ECERT_BIN_DIR");
  }
  return found;
}

/** The path of tool `name`. */
export function tool(name) {
  return join(binDir(), name);
}

/** The environment of every tool run: light key derivation for test passphrases. */
export function toolEnv(extra = {}) {
  return {
    ...process.env,
    ECERT_TEST_KDF: "1",
    NO_COLOR: "1",
    RUST_LOG: process.env.RUST_LOG || "warn",
    ECERT_BIN_DIR: binDir(),
    ...extra,
  };
}

/**
 * Runs tool `name` with `args`; resolves to { code, stdout, stderr }. Rejects only when it
 * cannot be started, or when `check` and it exits with another code than 0.
 */
export function run(name, args, { env = {}, check = true, input = null, timeoutMs = 120000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(tool(name), args, {
      env: toolEnv(env), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8",
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      if (error && code === null) {
        reject(new Error(`${name} ${args.join(" ")}: ${error.message}\n${stderr}`));
        return;
      }
      if (check && code !== 0) {
        reject(new Error(`${name} ${args.join(" ")} exited with ${code}:\n${stdout}${stderr}`));
        return;
      }
      resolvePromise({ code, stdout, stderr });
    });
    if (input !== null) child.stdin.end(input);
    else child.stdin.end();
  });
}

/**
 * Starts tool `name` in the background (a server); resolves once `ready` (a RegExp) shows
 * on its standard output or error. `stop()` ends it (SIGTERM, then SIGKILL).
 */
export function startServer(name, args, { env = {}, ready, timeoutMs = 30000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tool(name), args, { env: toolEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let done = false;
    const stop = () => new Promise((resolveStop) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolveStop();
        return;
      }
      const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolveStop();
      });
      child.kill("SIGTERM");
    });
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      stop();
      reject(new Error(`${name} ${args.join(" ")} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const watch = (chunk) => {
      output += chunk;
      if (!done && ready.test(output)) {
        done = true;
        clearTimeout(timer);
        resolvePromise({ child, stop, output: () => output });
      }
    };
    child.stdout.setEncoding("utf8").on("data", watch);
    child.stderr.setEncoding("utf8").on("data", watch);
    child.once("exit", (code, signal) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${name} ${args.join(" ")} ended (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort() {
  const { createServer } = await import("node:net");
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}
