#!/usr/bin/env node
/**
 * Browser measurements of the wallet and counter apps, in Debian's Chromium on this
 * machine, for docs/benchmarks.md ("Phones and counters"):
 *
 *   1. verifying a 4-field ID-card presentation: WebAssembly in Chromium against native
 *      (web/core/examples/verify_bench.rs), on the same inputs, in the same run;
 *   2. camera frame to verdict on screen (the counter app, Chromium's fake camera), p50/p95;
 *   3. the decode rate of the QR capture set of qr/tests/ in WebAssembly (native: the
 *      same cargo test);
 *   4. unlocking a wallet sealed with the default key derivation, in WebAssembly;
 *   5. the apps' transferred size on first load (gzip, as a node serves them) and their
 *      start time from the service worker's cache with the network off.
 *
 * Run from web/ after `cargo build --workspace --all-features` and `scripts/build-web`:
 *
 *   node tests/bench.mjs
 *
 * It starts its own four-node network over HTTPS and builds the native example and the
 * capture set with cargo (release). Prints a Markdown table. Timings are reported, never
 * asserted.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DESK, PHONE, checkBrowser, launch } from "./lib/browser.mjs";
import { REPO, run } from "./lib/tools.mjs";
import { testnetUp } from "./lib/testnet.mjs";
import { writeY4m } from "./lib/y4m.mjs";

const DEPARTMENT = "public-security";
const WALLET_PASSPHRASE = "bench-wallet-passphrase";
const BATCH = 1000;
const PICK = 617;
const FRAME_SAMPLES = 60;

const say = (text) => process.stderr.write(`bench: ${text}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const round = (x, d = 1) => Number(x.toFixed(d));

/** A resident ID number with its check character (GB 11643). */
function residentId(i) {
  const body = `11010819900307${String(i % 10000).padStart(3, "0").slice(-3)}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((acc, d, k) => acc + Number(d) * weights[k], 0);
  return body + "10X98765432"[sum % 11];
}

function httpsGet(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${url}: ${res.statusCode}`))));
    }).on("error", reject);
  });
}

/** Records when the app leaves its loading state (wallet: data-screen, counter: data-state). */
const READY_PROBE = () => {
  const mark = () => {
    const app = document.querySelector('[data-testid="app"]');
    const s = app && (app.dataset.screen || app.dataset.state);
    if (s && s !== "loading" && !globalThis.__ecertReadyAt) globalThis.__ecertReadyAt = performance.now();
  };
  new MutationObserver(mark).observe(document, { subtree: true, attributes: true, childList: true });
};

async function main() {
  checkBrowser({ needCertutil: true });
  const tmp = mkdtempSync(join(tmpdir(), "ecert-bench-"));
  const results = {};
  say("starting the four-node network");
  const net = await testnetUp(join(tmp, "network"), { web: join(REPO, "web") });
  const base = net.nodes[DEPARTMENT];
  const ca = readFileSync(net.caPath);
  const issuerEnv = { ECERT_ISSUER_HOME: net.issuerHome(DEPARTMENT), ECERT_ISSUER_PASSPHRASE: net.passphrase };
  const walletEnv = { ECERT_WALLET_PASSPHRASE: WALLET_PASSPHRASE };
  const browsers = [];
  try {
    // --- Inputs: 1,000 ID cards anchored in one batch; one of them presented with 4 fields.
    say(`issuing ${BATCH} ID cards in one batch`);
    const wallet = join(tmp, "wallet.ecw");
    await run("ecert-wallet", ["--wallet", wallet, "init"], { env: walletEnv });
    const holder = /[0-9a-f]{64}/.exec((await run("ecert-wallet", ["--wallet", wallet, "id"], { env: walletEnv })).stdout)[0];
    const header = "holder,name,sex,ethnicity,birth_date,address,id_number,issuing_authority";
    const rows = Array.from({ length: BATCH }, (_, i) => `${holder},张伟${i},male,汉,1990-03-07,北京市海淀区中关村大街${i}号,${residentId(i)},北京市公安局海淀分局`);
    writeFileSync(join(tmp, "cards.csv"), `${header}\n${rows.join("\n")}\n`);
    const out = join(tmp, "cards");
    mkdirSync(out);
    await run("ecert-issuer", ["issue", "--kind", "id-card", "--csv", join(tmp, "cards.csv"), "--out-dir", out, "--ca", net.caPath], { env: issuerEnv, timeoutMs: 300000 });
    const files = readdirSync(out).sort();
    await run("ecert-wallet", ["--wallet", wallet, "receive", join(out, files[PICK])], { env: walletEnv });
    const presented = await run("ecert-wallet", ["--wallet", wallet, "present", "--show", "id-card:name,sex,birth_date,id_number", "--text"], { env: walletEnv });
    const qr = presented.stdout.split("\n").map((l) => l.trim()).find((l) => l.startsWith("EC1"));
    const now = Math.floor(Date.now() / 1000) + 1;
    const bundle = await httpsGet(`${base}/v1/export`, ca);
    writeFileSync(join(tmp, "bundle.cbor"), bundle);
    writeFileSync(join(tmp, "qr.txt"), qr);

    // --- 1. Native and WebAssembly verification of the same code.
    say("native verification (cargo run --release --example verify_bench)");
    const native = JSON.parse(execFileSync("cargo", ["run", "--quiet", "--release", "-p", "ecert-web", "--example", "verify_bench", "--",
      join(tmp, "bundle.cbor"), net.anchorPath, join(tmp, "qr.txt"), String(now)], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }));
    say("WebAssembly verification in Chromium");
    const page = await launch({ name: "bench", caPath: net.caPath, viewport: DESK });
    browsers.push(page);
    await page.page.goto(`${base}/counter/`);
    const wasm = await page.page.evaluate(async ({ bundle, anchor, qr, now }) => {
      const core = await import("../core/pkg/ecert_web.js");
      await core.default();
      const bytes = Uint8Array.from(atob(bundle), (c) => c.charCodeAt(0));
      const store = core.TrustStore.sync(bytes, anchor);
      const first = store.verify(qr, now);
      if (!first.valid) throw new Error(`not VALID: ${first.code}`);
      const perRound = 200;
      for (let i = 0; i < perRound; i += 1) store.verify(qr, now);
      const rounds = [];
      for (let r = 0; r < 40; r += 1) {
        const t = performance.now();
        for (let i = 0; i < perRound; i += 1) store.verify(qr, now);
        rounds.push(((performance.now() - t) * 1000) / perRound);
      }
      rounds.sort((a, b) => a - b);
      // The same check without turning the verdict into a JavaScript object is not
      // reachable from JavaScript: this is what the app pays.
      return { median_us: rounds[20], fastest_us: rounds[0], slowest_us: rounds[39] };
    }, { bundle: bundle.toString("base64"), anchor: net.anchorText, qr, now });
    results.verify = { native, wasm, ratio: wasm.median_us / native.median_us, qrChars: qr.length };

    // --- 4. Unlocking a wallet sealed with the default key derivation.
    say("wallet unlock with the default key derivation");
    results.unlock = await page.page.evaluate(async () => {
      const core = await import("../core/pkg/ecert_web.js");
      await core.default();
      const w = core.Wallet.create();
      const kdf = core.defaultKdf();
      const file = w.seal("a passphrase of the bench", kdf);
      w.free();
      const times = [];
      for (let i = 0; i < 5; i += 1) {
        const t = performance.now();
        core.Wallet.open(file, "a passphrase of the bench").free();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return { kdf, median_ms: times[2], fastest_ms: times[0], slowest_ms: times[4] };
    });

    // --- 3. Decode rate of the capture set in WebAssembly.
    say("the QR capture set (cargo test -p ecert-qr --release --test decode_rate)");
    const captures = join(tmp, "captures");
    mkdirSync(captures);
    const nativeRun = spawnSync("cargo", ["test", "--quiet", "--release", "-p", "ecert-qr", "--test", "decode_rate", "--",
      "capture_set_is_read_and_read_exactly", "--nocapture"], { cwd: REPO, env: { ...process.env, ECERT_QR_CAPTURES: captures }, encoding: "utf8" });
    const nativeLine = /read (\d+) of (\d+) captures[^\n]*/.exec(nativeRun.stdout)?.[0] ?? "(not run)";
    const images = readdirSync(captures).sort().map((f) => ({ name: f, b64: readFileSync(join(captures, f)).toString("base64") }));
    results.decode = await page.page.evaluate(async (images) => {
      const core = await import("../core/pkg/ecert_web.js");
      await core.default();
      const texts = new Map();
      let read = 0;
      const times = [];
      const failed = [];
      for (const { name, b64 } of images) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes]));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(bitmap, 0, 0);
        const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
        const t = performance.now();
        try {
          const text = core.decodeQrFrame(new Uint8Array(rgba.buffer), bitmap.width, bitmap.height);
          texts.set(text, (texts.get(text) || 0) + 1);
          read += 1;
        } catch (e) {
          failed.push(`${name}: ${e.code || e.message}`);
        }
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return { read, of: images.length, distinctTexts: texts.size, failed, median_ms: times[Math.floor(times.length / 2)], slowest_ms: times[times.length - 1] };
    }, images);
    results.decode.native = nativeLine;

    // --- 5. First load (transferred, gzip) and start from the service worker's cache.
    for (const app of ["wallet", "counter"]) {
      say(`${app} app: first load and start from the cache`);
      const b = await launch({ name: `bench-${app}`, caPath: net.caPath, viewport: PHONE });
      browsers.push(b);
      await b.context.addInitScript(READY_PROBE);
      const p = b.page;
      await p.goto(`${base}/${app}/`);
      await p.waitForFunction(() => globalThis.__ecertReadyAt);
      await p.evaluate(() => navigator.serviceWorker.ready);
      const firstReady = await p.evaluate(() => globalThis.__ecertReadyAt);
      // Let the service worker finish caching the app, then count what crossed the network.
      await p.waitForTimeout(1500);
      const pageBytes = await p.evaluate(() => [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
        .reduce((sum, e) => sum + (e.transferSize || 0), 0));
      const sw = b.context.serviceWorkers()[0];
      const swBytes = sw ? await sw.evaluate(() => performance.getEntriesByType("resource").reduce((sum, e) => sum + (e.transferSize || 0), 0)) : 0;
      if (app === "wallet") {
        await p.getByTestId("welcome-create").click();
        await p.getByTestId("create-passphrase").fill(WALLET_PASSPHRASE);
        await p.getByTestId("create-passphrase2").fill(WALLET_PASSPHRASE);
        await p.getByTestId("create-submit").click();
        await p.locator('[data-testid="app"][data-screen="home"]').waitFor({ timeout: 30000 });
      } else {
        await p.getByTestId("anchor-text").fill(net.anchorText);
        await p.getByTestId("setup-sync").click();
        await p.locator('[data-testid="app"][data-state="desk"]').waitFor();
      }
      await b.context.setOffline(true);
      const starts = [];
      for (let i = 0; i < 5; i += 1) {
        await p.reload();
        await p.waitForFunction(() => globalThis.__ecertReadyAt);
        starts.push(await p.evaluate(() => globalThis.__ecertReadyAt));
      }
      const screen = await p.locator('[data-testid="app"]').evaluate((e) => e.dataset.screen || e.dataset.state);
      results[`${app}Load`] = { pageBytes, swBytes, firstReady, cachedStartMedian: median(starts), cachedStartMax: Math.max(...starts), screen };
      await b.context.setOffline(false);
    }

    // --- 2. Camera frame to verdict: two live codes alternating in front of the camera.
    say("camera frame to verdict (the counter app, fake camera)");
    const pngs = [];
    for (const fields of ["name,id_number", "name,sex,birth_date,id_number"]) {
      const png = join(tmp, `qr-${pngs.length}.png`);
      await run("ecert-wallet", ["--wallet", wallet, "present", "--show", `id-card:${fields}`, "--png", png], { env: walletEnv });
      pngs.push(png);
    }
    const frames = [];
    const video = join(tmp, "camera.y4m");
    // 1280×720 at 10 frames a second: each code for 0.6 s, then the other.
    await writeY4m(page.page, pngs.map((f) => readFileSync(f)), video, { frames: 6, fps: 10 });
    const counter = await launch({ name: "bench-camera", caPath: net.caPath, fakeVideo: video, viewport: DESK });
    browsers.push(counter);
    const c = counter.page;
    await c.goto(`${base}/counter/`);
    await c.getByTestId("anchor-text").fill(net.anchorText);
    await c.getByTestId("setup-sync").click();
    await c.locator('[data-testid="app"][data-state="desk"]').waitFor();
    // Staff press Next as soon as a verdict shows, so that the next code is taken at once.
    await c.evaluate(() => {
      const layer = document.querySelector('[data-testid="verdict"]');
      globalThis.__verdicts = [];
      new MutationObserver(() => {
        if (layer.hidden) return;
        globalThis.__verdicts.push(layer.dataset.verdict);
        setTimeout(() => document.querySelector('[data-testid="verdict-next"]').click(), 30);
      }).observe(layer, { attributes: true, attributeFilter: ["data-seq"] });
    });
    await c.waitForFunction((n) => performance.getEntriesByName("ecert:frame-to-verdict").length >= n, FRAME_SAMPLES, { timeout: 50000, polling: 500 }).catch(() => {});
    const camera = await c.evaluate(() => ({
      times: performance.getEntriesByName("ecert:frame-to-verdict").map((m) => m.duration),
      verdicts: globalThis.__verdicts,
      verify: performance.getEntriesByName("ecert:verify").map((m) => m.duration),
    }));
    frames.push(...camera.times);
    results.camera = {
      samples: frames.length,
      valid: camera.verdicts.filter((v) => v === "valid").length,
      p50: percentile(frames, 50),
      p95: percentile(frames, 95),
      max: Math.max(...frames),
      verifyMedian: median(camera.verify),
    };
  } finally {
    for (const b of browsers) await b.close();
    await net.down();
    rmSync(tmp, { recursive: true, force: true });
  }
  report(results);
}

function report(r) {
  const kib = (b) => `${round(b / 1024, 0)} KiB`;
  const lines = [
    `| measurement | figure |`,
    `|---|---|`,
    `| verify a 4-field ID-card presentation (${r.verify.qrChars} characters, batch of ${BATCH}), native | ${round(r.verify.native.median_us)} µs (median of 40 rounds of 200) |`,
    `| the same in WebAssembly, Chromium | ${round(r.verify.wasm.median_us)} µs — **${round(r.verify.ratio, 2)} ×** native |`,
    `| camera frame to verdict on screen (counter app, 1280×720 fake camera) | p50 ${round(r.camera.p50)} ms, **p95 ${round(r.camera.p95)} ms**, max ${round(r.camera.max)} ms (${r.camera.samples} verdicts, ${r.camera.valid} VALID) |`,
    `| QR capture set, WebAssembly | **${r.decode.read} of ${r.decode.of}** read (${r.decode.distinctTexts} distinct text), median ${round(r.decode.median_ms)} ms, slowest ${round(r.decode.slowest_ms)} ms a capture |`,
    `| QR capture set, native (same run) | ${r.decode.native} |`,
    `| wallet unlock, default key derivation (Argon2id ${r.unlock.kdf.memoryKib / 1024} MiB, ${r.unlock.kdf.passes} passes), WebAssembly | **${round(r.unlock.median_ms, 0)} ms** (fastest ${round(r.unlock.fastest_ms, 0)}, slowest ${round(r.unlock.slowest_ms, 0)}) |`,
  ];
  for (const app of ["wallet", "counter"]) {
    const l = r[`${app}Load`];
    lines.push(`| ${app} app, first load: transferred (gzip) by the page / by the service worker's install | ${kib(l.pageBytes)} / ${kib(l.swBytes)}; on screen after ${round(l.firstReady, 0)} ms |`);
    lines.push(`| ${app} app, start from the service worker's cache, network off (${l.screen} screen) | **${round(l.cachedStartMedian, 0)} ms** median of 5 (slowest ${round(l.cachedStartMax, 0)} ms) |`);
  }
  if (r.decode.failed.length) lines.push(``, `Not read in WebAssembly: ${r.decode.failed.join("; ")}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack || e}\n`);
  process.exit(1);
});
