/**
 * Debian's Chromium, driven by playwright-core: a fresh profile and a fresh HOME for each
 * launch, whose NSS database trusts the local network's certificate authority (so HTTPS
 * is real: certificate errors are never ignored), and optionally a fake camera showing a
 * video file.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

/** The browser: Debian's Chromium (`scripts/install-browser-deps` installs it). */
export const CHROMIUM = process.env.ECERT_CHROMIUM || "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** Phone and desk screens. */
export const PHONE = { width: 390, height: 844 };
export const DESK = { width: 1280, height: 800 };

/** Fails at once, with what to do, when Chromium or certutil is missing. */
export function checkBrowser({ needCertutil = false } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run scripts/install-browser-deps`);
  }
  if (needCertutil) {
    try {
      execFileSync("certutil", ["-H"], { stdio: "ignore" });
    } catch (e) {
      if (e.code === "ENOENT") throw new Error("certutil is not installed (Debian: libnss3-tools): run scripts/install-browser-deps");
    }
  }
}

/** A fresh HOME whose NSS database (the one Chromium reads) trusts the CA in `caPath`. */
function homeTrusting(root, caPath) {
  const home = join(root, "home");
  const db = join(home, ".pki", "nssdb");
  mkdirSync(db, { recursive: true });
  if (caPath) {
    execFileSync("certutil", ["-d", `sql:${db}`, "-N", "--empty-password"], { stdio: "ignore" });
    execFileSync("certutil", ["-d", `sql:${db}`, "-A", "-t", "C,,", "-n", "ecert-testnet", "-i", caPath], { stdio: "ignore" });
  }
  return home;
}

/**
 * Launches Chromium with a fresh persistent profile (service workers, IndexedDB, caches
 * survive reloads). Options: `caPath` (trusted CA), `fakeVideo` (a .y4m file the fake
 * camera shows; the camera is then allowed without asking), `fakeCamera` (a fake camera
 * showing Chromium's test pattern), `viewport`, `locale` (default
 * `$ECERT_LOCALE`, else zh-CN: the apps then start in Chinese).
 * Resolves to { context, page, profile, close() }.
 */
export async function launch({
  name = "browser", caPath = null, fakeVideo = null, fakeCamera = false, viewport = PHONE,
  locale = process.env.ECERT_LOCALE || "zh-CN",
} = {}) {
  checkBrowser({ needCertutil: !!caPath });
  const root = mkdtempSync(join(tmpdir(), `ecert-${name}-`));
  const home = homeTrusting(root, caPath);
  const args = [...ARGS];
  if (fakeVideo || fakeCamera) {
    args.push("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream");
  }
  if (fakeVideo) args.push(`--use-file-for-fake-video-capture=${fakeVideo}`);
  const context = await chromium.launchPersistentContext(join(root, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args,
    env: { ...process.env, HOME: home },
    viewport,
    deviceScaleFactor: 1,
    locale,
    timezoneId: "Asia/Shanghai",
    serviceWorkers: "allow",
    acceptDownloads: true,
  });
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  const watch = (p) => {
    p.on("pageerror", (e) => problems.push(`${name}: ${e.message}`));
    p.on("console", (m) => {
      if (m.type() === "error") problems.push(`${name} console: ${m.text()}`);
    });
  };
  watch(page);
  context.on("page", watch);
  return {
    context,
    page,
    profile: join(root, "profile"),
    /** Errors the pages reported (uncaught exceptions, console errors). */
    problems,
    async close() {
      await context.close().catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
}
