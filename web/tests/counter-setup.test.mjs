/**
 * Setting up the counter app in Chromium against the real network over HTTPS: ledger
 * data checked against a wrong trust anchor is refused with the verifier's reason and
 * nothing is kept; the right anchor, scanned as a QR code through the fake camera, is
 * accepted; the app shows it again as a QR code for the next counter.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PHONE, checkBrowser, launch } from "./lib/browser.mjs";
import { REPO, run } from "./lib/tools.mjs";
import { endSuite, testnetUp } from "./lib/testnet.mjs";
import { writeY4m } from "./lib/y4m.mjs";

const by = (page, id) => page.getByTestId(id);

describe("the counter app's setup", { timeout: 120000 }, () => {
  const s = {};

  before(async () => {
    checkBrowser({ needCertutil: true });
    s.tmp = mkdtempSync(join(tmpdir(), "ecert-counter-setup-"));
    s.net = await testnetUp(join(s.tmp, "network"), { web: join(REPO, "web") });
    s.base = s.net.nodes.justice;
    // A first certified block: public security issues an ID card (a kind any counter may
    // see, so the command-line wallet shows it without a counter's request).
    const walletEnv = { ECERT_WALLET_PASSPHRASE: "counter-setup-passphrase" };
    const wallet = join(s.tmp, "wallet.ecw");
    await run("ecert-wallet", ["--wallet", wallet, "init"], { env: walletEnv });
    const holder = /[0-9a-f]{64}/.exec((await run("ecert-wallet", ["--wallet", wallet, "id"], { env: walletEnv })).stdout)[0];
    s.wallet = wallet;
    s.walletEnv = walletEnv;
    const claims = join(s.tmp, "card.json");
    writeFileSync(claims, JSON.stringify({
      name: "王芳", sex: "female", ethnicity: "汉", birth_date: "1990-03-07", address: "北京市海淀区中关村大街27号",
      id_number: "110108199003070016", issuing_authority: "北京市公安局海淀分局", portrait_digest: "5a".repeat(32),
    }));
    await run("ecert-issuer", ["issue", "--kind", "id-card", "--claims", claims, "--holder", holder,
      "--out", join(s.tmp, "card.ecp"), "--ca", s.net.caPath], {
      env: { ECERT_ISSUER_HOME: s.net.issuerHome("public-security"), ECERT_ISSUER_PASSPHRASE: s.net.passphrase },
    });
    // The anchor as a QR code, drawn by the core, photographed as a camera would see it.
    s.helper = await launch({ name: "anchor-qr", caPath: s.net.caPath });
    const h = s.helper.page;
    await h.goto(`${s.base}/counter/`);
    const box = h.locator("#anchor-qr-picture");
    await h.evaluate(async (text) => {
      const core = await import("../core/pkg/ecert_web.js");
      await core.default();
      const div = document.createElement("div");
      div.id = "anchor-qr-picture";
      div.style.cssText = "position:fixed;inset:0;z-index:1000;background:#fff;width:400px;height:400px";
      div.innerHTML = core.qrSvg(text);
      div.firstElementChild.setAttribute("width", "400");
      div.firstElementChild.setAttribute("height", "400");
      document.body.append(div);
    }, s.net.anchorText);
    s.video = join(s.tmp, "anchor.y4m");
    await writeY4m(h, await box.screenshot(), s.video);
    s.counter = await launch({ name: "counter-setup", caPath: s.net.caPath, fakeVideo: s.video, viewport: PHONE });
  });

  after(() => endSuite(s, s.counter, s.helper));

  it("refuses ledger data that the anchor's validators did not certify, and keeps nothing", async () => {
    const c = s.counter.page;
    await c.goto(`${s.base}/counter/`);
    await c.locator('[data-testid="app"][data-state="setup"]').waitFor();
    const wrong = s.net.anchorText.replace(/validators_hash = "([0-9a-f])/, (all, first) => all.slice(0, -1) + (first === "0" ? "1" : "0"));
    assert.notEqual(wrong, s.net.anchorText);
    await by(c, "anchor-text").fill(wrong);
    await by(c, "setup-sync").click();
    // The sync's answer, or the anchor refused: whichever shows first.
    await c.locator('[data-testid="setup-status"][data-state="error"], [data-testid="setup-status"][data-state="ok"], '
      + '[data-testid="anchor-status"][data-state="error"]').first().waitFor();
    const status = await by(c, "setup-status").evaluate((n) => ({ state: n.dataset.state, text: n.textContent }));
    assert.equal(status.state, "error", `the sync was refused: ${JSON.stringify(status)}`);
    assert.match(status.text, /header-not-certified/);
    assert.equal(await c.locator('[data-testid="app"]').getAttribute("data-state"), "setup");
    assert.equal(await by(c, "data-age").getAttribute("data-state"), "none");
  });

  it("takes the right anchor from its QR code through the camera, then syncs", async () => {
    const c = s.counter.page;
    await by(c, "anchor-scan").click();
    await c.locator('[data-testid="anchor-status"][data-state="ok"]').waitFor({ timeout: 30000 });
    assert.match(await by(c, "anchor-text").inputValue(), /chain_id = "ecert-demo-province"/);
    await by(c, "setup-sync").click();
    await c.locator('[data-testid="app"][data-state="desk"]').waitFor();
    assert.equal(await by(c, "data-age").getAttribute("data-state"), "ok");
  });

  it("is installable, and keeps its setup across a restart; it shows the anchor as a QR code for the next counter", async () => {
    const c = s.counter.page;
    await c.evaluate(() => navigator.serviceWorker.ready);
    const cdp = await s.counter.context.newCDPSession(c);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    assert.deepEqual(installabilityErrors, [], "Chromium's installability check");
    const manifest = await cdp.send("Page.getAppManifest");
    assert.deepEqual(manifest.errors, []);
    await c.reload();
    await c.locator('[data-testid="app"][data-state="desk"]').waitFor();
    await by(c, "settings-button").click();
    assert.equal(await by(c, "settings-chain").innerText(), "ecert-demo-province");
    const hash = /validators_hash = "([0-9a-f]{64})"/.exec(s.net.anchorText)[1];
    assert.equal((await by(c, "settings-hash").innerText()).replace(/\s+/g, ""), hash);
    await by(c, "anchor-show").click();
    await c.locator('[data-testid="qr-layer-code"] svg').waitFor();
    await by(c, "qr-layer-close").click();
    assert.deepEqual(s.counter.problems.filter((p) => !/Failed to load resource|net::ERR_/.test(p)), []);
  });

  it("a day later, without newer ledger data, it warns and refuses every code as the policy says", async () => {
    const c = s.counter.page;
    await run("ecert-wallet", ["--wallet", s.wallet, "receive", join(s.tmp, "card.ecp")], { env: s.walletEnv });
    await by(c, "settings-close").click();
    await by(c, "camera-toggle").click();
    await c.locator('[data-testid="camera"][data-state="off"]').waitFor();
    // The device's clock 25 hours on: the ledger has made no block since.
    await c.clock.setFixedTime(Date.now() + 25 * 3600 * 1000);
    await c.reload();
    await c.locator('[data-testid="app"][data-state="desk"]').waitFor();
    await c.locator('[data-testid="data-age"][data-state="old"]').waitFor();
    assert.equal(await by(c, "data-warning").isVisible(), true, "the warning is on screen");
    assert.match(await by(c, "data-warning").getAttribute("class"), /notice-error/);
    // A code the wallet makes at that time too (its clock is the same).
    const { stdout } = await run("ecert-wallet", ["--wallet", s.wallet, "present", "--show", "id-card:name", "--text"], {
      env: { ...s.walletEnv, FAKETIME: "" },
    });
    const qr = stdout.split("\n").map((l) => l.trim()).find((l) => l.startsWith("EC1"));
    await by(c, "manual-input").fill(qr);
    await by(c, "manual-input").press("Enter");
    const layer = c.locator('[data-testid="verdict"][data-verdict="invalid"]');
    await layer.waitFor();
    assert.equal(await layer.getAttribute("data-code"), "revocation-data-too-old");
  });
});
