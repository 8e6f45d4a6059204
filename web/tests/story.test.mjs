/**
 * The story in a real browser (issue "Phones and counters", item 5): Debian's Chromium,
 * driven by playwright-core, on the real four-node network of `ecert-testnet up`, with
 * the real `ecert-issuer`, `ecert-wallet` and `ecert-verify`.
 *
 * A department issues an ID card (as one-time copies, the issuer's default) with a
 * one-time offer and serves it; the wallet app (phone screen) collects it from the offer
 * link and shows a presentation QR code, using up one copy, stored as used before the code
 * is shown (a reload says so) and not used up again by the code's renewals; the counter
 * app, fed a picture of that code through Chromium's fake camera, says VALID and shows no
 * certificate id; the department revokes; the counter syncs and says INVALID, revoked;
 * with the nodes stopped and the browser offline, the counter, reloaded from its service
 * worker, still verifies; a command-line wallet's backup restores in the wallet app and
 * its presentation verifies with `ecert-verify`; challenge mode; with no copy left the
 * wallet refuses, and shows the last copy again only when the citizen asks.
 *
 * Run: `cd web && npm ci && node --test tests/` after `cargo build --workspace
 * --all-features` (or `cargo test`) and `scripts/build-web`. With ECERT_SCREENSHOTS=1 the
 * screens are saved to docs/screenshots/ (wallet-*.png, counter-*.png).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DESK, PHONE, checkBrowser, launch } from "./lib/browser.mjs";
import { REPO, freePort, run, startServer } from "./lib/tools.mjs";
import { endSuite, testnetUp } from "./lib/testnet.mjs";
import { writeY4m } from "./lib/y4m.mjs";

const SCREENSHOTS = process.env.ECERT_SCREENSHOTS === "1" ? join(REPO, "docs", "screenshots") : null;
/** The browsers' language: Chinese (the apps' first audience), English for the guide's pictures. */
const LOCALE = process.env.ECERT_LOCALE || (SCREENSHOTS ? "en" : "zh-CN");
const WALLET_PASSPHRASE = "browser-story-passphrase";
const CLI_WALLET_PASSPHRASE = "cli-story-passphrase";
const BACKUP_PASSPHRASE = "backup-story-passphrase";

/** The citizen of the story and a second one (the command-line wallet's). */
const ZHANG_WEI = {
  name: "张伟", sex: "male", ethnicity: "汉", birth_date: "1990-03-07",
  address: "北京市海淀区中关村大街27号", id_number: "110108199003070016",
  issuing_authority: "北京市公安局海淀分局", portrait_digest: "5a".repeat(32),
};
const LI_NA = {
  name: "李娜", sex: "female", ethnicity: "汉", birth_date: "1988-11-02",
  address: "上海市浦东新区世纪大道100号", id_number: "310115198811020048",
  issuing_authority: "上海市公安局浦东分局", portrait_digest: "3c".repeat(32),
};

const by = (page, id) => page.getByTestId(id);

async function shot(page, name, options = {}) {
  if (!SCREENSHOTS) return;
  await page.waitForTimeout(150); // let fonts and the last frame settle
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), ...options });
}

/** The wallet app's current presentation: the QR text and a PNG of the code as shown. */
async function walletQr(page) {
  const code = by(page, "qr-code");
  await code.waitFor({ state: "visible" });
  const text = await code.getAttribute("data-qr");
  assert.match(text, /^EC1[RZ]:/, "the wallet shows a presentation QR code");
  return { text, png: await code.screenshot() };
}

/** The copies left of certificate `certId` on the wallet's home screen (null: not one-time copies). */
async function copiesLeft(page, certId) {
  const card = by(page, "cert-list").locator(`[data-testid="cert-card"][data-id="${certId}"]`);
  await card.waitFor();
  const left = await card.getAttribute("data-copies-left");
  return left === null ? null : Number(left);
}

/** The copies left of the ID card the wallet's QR code shows, as the QR screen says. */
async function qrCopiesLeft(page) {
  const left = await by(page, "qr-disclosing").locator('li[data-kind="id-card"]').getAttribute("data-copies-left");
  return left === null ? null : Number(left);
}

/**
 * Records, in the wallet page, in which order the wallet file is stored (its IndexedDB
 * write complete) and a QR code is put on screen: `window.ecertOrder`, e.g.
 * ["stored", "shown", "shown"] (each renewal is shown again).
 */
async function watchStoreAndShow(page) {
  await page.evaluate(() => {
    window.ecertOrder = [];
    if (window.ecertWatching) return;
    window.ecertWatching = true;
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function watchedPut(value, key) {
      const request = put.call(this, value, key);
      // Registered before the store's own completion handler: runs first.
      if (key === "wallet") this.transaction.addEventListener("complete", () => window.ecertOrder.push("stored"));
      return request;
    };
    const code = document.querySelector('[data-testid="qr-code"]');
    new MutationObserver(() => {
      if (code.dataset.qr) window.ecertOrder.push("shown");
    }).observe(code, { attributes: true, attributeFilter: ["data-qr"] });
  });
}

/** The wallet app's screen. */
const walletScreen = (page, screen) => page.locator(`[data-testid="app"][data-screen="${screen}"]`).waitFor({ timeout: 30000 });

/** From the wallet's home: choose name and ID number of the ID card and show the live code. */
async function presentIdCard(page, { screenshots = false } = {}) {
  await by(page, "present-start").click();
  await by(page, "field-id-card-name").check();
  await by(page, "field-id-card-id_number").check();
  if (screenshots) await shot(page, "wallet-choose");
  await by(page, "present-show").click();
  return walletQr(page);
}

/** Back to the wallet's home screen. */
async function walletHome(page) {
  for (let i = 0; i < 6 && (await page.locator('[data-testid="app"]').getAttribute("data-screen")) !== "home"; i += 1) {
    const close = by(page, "qr-close");
    if (await close.isVisible()) await close.click();
    else await by(page, "back").click();
  }
  await walletScreen(page, "home");
}

/** The same screen in the other language, then back. */
async function shotInOtherLanguage(page, name) {
  if (!SCREENSHOTS) return;
  await by(page, "language").click();
  await shot(page, name);
  await by(page, "language").click();
}

/** A freshly opened wallet app asks for the passphrase first. */
async function unlockIfLocked(page, { screenshot = true } = {}) {
  const app = page.locator('[data-testid="app"]');
  await page.locator('[data-testid="app"]:not([data-screen="loading"])').waitFor();
  if ((await app.getAttribute("data-screen")) === "unlock") {
    if (screenshot) await shot(page, "wallet-unlock");
    assert.doesNotMatch(await by(page, "screen-unlock").innerText(), /\bnull\b/, "nothing missing is drawn as words");
    await by(page, "unlock-passphrase").fill(WALLET_PASSPHRASE);
    await by(page, "unlock-submit").click();
    await page.locator('[data-testid="app"]:not([data-screen="unlock"])').waitFor({ timeout: 30000 });
  }
}

/** The verdict on the counter's screen. */
async function verdict(counter) {
  const layer = by(counter, "verdict");
  await layer.waitFor({ state: "visible" });
  return {
    verdict: await layer.getAttribute("data-verdict"),
    code: await layer.getAttribute("data-code"),
    challenge: await layer.getAttribute("data-challenge"),
    text: await layer.innerText(),
  };
}

/**
 * Checks `text` at the counter through its keyboard field. `typed`: key by key and Enter,
 * as a keyboard-wedge scanner sends it, to whatever has the focus (the app sends the keys
 * to its field); otherwise pasted into the field.
 */
async function checkCode(counter, text, { typed = false } = {}) {
  const seq = Number((await by(counter, "verdict").getAttribute("data-seq")) || 0);
  if (typed) {
    await counter.keyboard.type(text);
    await counter.keyboard.press("Enter");
  } else {
    const input = by(counter, "manual-input");
    await input.fill(text);
    await input.press("Enter");
  }
  await counter.locator(`[data-testid="verdict"][data-seq="${seq + 1}"]`).waitFor();
  return verdict(counter);
}

describe("the story in Chromium: wallet and counter apps on the four-node network", { timeout: 240000 }, () => {
  const s = {};
  let failed = false;
  /** Steps depend on the ones before: after a failure the rest are skipped. */
  const step = (name, fn) => it(name, async (t) => {
    if (failed) {
      t.skip("an earlier step failed");
      return;
    }
    try {
      await fn(t);
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  /** The department's tool, trusting the network's CA. */
  const issuer = (args) => run("ecert-issuer", [...args, "--ca", s.net.caPath], { env: s.issuerEnv });

  before(async () => {
    checkBrowser({ needCertutil: true });
    s.tmp = mkdtempSync(join(tmpdir(), "ecert-story-"));
    s.net = await testnetUp(join(s.tmp, "network"), { web: join(REPO, "web") });
    assert.ok(s.net.caPath, "ecert-testnet up made its CA (HTTPS)");
    s.department = "public-security";
    s.issuerEnv = { ECERT_ISSUER_HOME: s.net.issuerHome(s.department), ECERT_ISSUER_PASSPHRASE: s.net.passphrase };
    // The apps as a department's node serves them, over HTTPS (the network's own CA).
    s.base = s.net.nodes[s.department];
    const tls = (name) => join(s.net.dir, "tls", `${s.department}.${name}`);
    // The department's offer endpoint, over HTTPS too, for the wallet app's origin.
    const offerPort = await freePort();
    s.offerBase = `https://127.0.0.1:${offerPort}`;
    await run("ecert-issuer", ["config", "--serve-url", s.offerBase], { env: s.issuerEnv });
    s.offers = await startServer("ecert-issuer", [
      "serve", "--listen", `127.0.0.1:${offerPort}`, "--tls-cert", tls("pem"), "--tls-key", tls("key"),
      "--allow-origin", s.base, "--wallet-app", `${s.base}/wallet/`,
    ], { env: s.issuerEnv, ready: /Serving offers/ });
    s.wallet = await launch({ name: "wallet", caPath: s.net.caPath, viewport: PHONE, locale: LOCALE, fakeCamera: true });
  });

  after(() => endSuite(s, s.counter, s.wallet, s.offers));

  step("the wallet app creates a wallet on the phone", async () => {
    const w = s.wallet.page;
    await w.goto(`${s.base}/wallet/`);
    await by(w, "welcome-create").waitFor();
    await shot(w, "wallet-welcome");
    await by(w, "welcome-create").click();
    await by(w, "create-passphrase").fill(WALLET_PASSPHRASE);
    await by(w, "create-passphrase2").fill(WALLET_PASSPHRASE);
    await shot(w, "wallet-create");
    await by(w, "create-submit").click();
    await w.locator('[data-testid="app"][data-screen="home"]').waitFor({ timeout: 30000 });
    await by(w, "home-empty").waitFor();
    await shot(w, "wallet-home-empty");
    await by(w, "more-start").click();
    await walletScreen(w, "more");
    await shot(w, "wallet-more");
    await by(w, "show-id").click();
    const id = (await by(w, "wallet-id").innerText()).replace(/\s+/g, "");
    assert.match(id, /^[0-9a-f]{64}$/, "the wallet ID is 64 hex digits");
    s.walletId = id;
    await shot(w, "wallet-id");
  });

  step("a department issues an ID card with a one-time offer; the wallet collects it from the link", async () => {
    const claims = join(s.tmp, "zhang-wei.json");
    writeFileSync(claims, JSON.stringify(ZHANG_WEI));
    const { stdout } = await issuer(["issue", "--kind", "id-card", "--claims", claims, "--holder", s.walletId, "--offer"]);
    const code = /offer ([0-9A-Z]{4}(?:-[0-9A-Z]{4})+)/.exec(stdout)?.[1];
    assert.ok(code, `ecert-issuer printed an offer code:\n${stdout}`);
    // The citizen opens the offer link (the QR code the department shows): the
    // department's page leads to the wallet app with the offer.
    const w = s.wallet.page;
    await w.goto(`${s.offerBase}/v1/offers/${code}`);
    await shot(w, "offer-page");
    await w.locator('a[href*="#offer="]').first().click();
    await unlockIfLocked(w);
    await by(w, "offer-collect").waitFor();
    await shot(w, "wallet-offer");
    await by(w, "offer-collect").click();
    await by(w, "received-done").waitFor({ timeout: 30000 });
    await shot(w, "wallet-received");
    await by(w, "received-done").click();
    const card = by(w, "cert-list").locator('[data-testid="cert-card"][data-kind="id-card"]');
    await card.waitFor();
    s.certId = await card.getAttribute("data-id");
    assert.match(s.certId, /^[0-9a-f]{32}$/);
    // Issued as one-time copies (the department's default, 30): the card counts them.
    assert.deepEqual([await card.getAttribute("data-copies-left"), await card.getAttribute("data-copies")], ["30", "30"]);
    assert.equal(await card.getAttribute("data-copies-low"), "false");
    assert.match(await by(card, "cert-copies").innerText(), /^(Copies left: 30 of 30|剩余副本：30 \/ 30 份)$/);
    assert.equal(await by(card, "cert-copies-low").count(), 0, "no notice while copies are plenty");
    await shot(w, "wallet-home");
    await card.click();
    await walletScreen(w, "cert");
    assert.match(await by(w, "cert-fields").innerText(), /110108199003070016/);
    assert.match(await by(w, "cert-copies-left").innerText(), /^(30 of 30 left|剩余 30 份（共 30 份）)$/);
    await shot(w, "wallet-certificate");
    await walletHome(w);
    if (SCREENSHOTS) {
      await by(w, "receive-start").click();
      await walletScreen(w, "receive");
      await w.waitForTimeout(800); // the camera's first frames
      await shot(w, "wallet-receive");
      await walletHome(w);
    }
  });

  step("the wallet shows name and ID number as a live QR code, one copy used up and stored before it is shown", async () => {
    const w = s.wallet.page;
    const before = await copiesLeft(w, s.certId);
    await watchStoreAndShow(w);
    await presentIdCard(w, { screenshots: true });
    assert.equal(await by(w, "qr-code").getAttribute("data-copies-spent"), "1", "one copy used up");
    assert.equal(await qrCopiesLeft(w), before - 1);
    assert.deepEqual(await w.evaluate(() => window.ecertOrder.slice(0, 2)), ["stored", "shown"],
      "the wallet was stored with the copy used before the code was shown");
    // The page dies with the code on screen: the copy stays used.
    await w.reload();
    await unlockIfLocked(w, { screenshot: false });
    await walletScreen(w, "home");
    assert.equal(await copiesLeft(w, s.certId), before - 1, "still one copy fewer after a reload");
    // The code for the counter: the next copy.
    await watchStoreAndShow(w);
    s.qr = await presentIdCard(w);
    assert.equal(await qrCopiesLeft(w), before - 2);
    await shot(w, "wallet-qr-live");
    if (SCREENSHOTS) {
      // The same in Chinese, then a fresh code again in the first language.
      await walletHome(w);
      await by(w, "language").click();
      await presentIdCard(w);
      await shot(w, "wallet-qr-zh");
      await walletHome(w);
      await by(w, "language").click();
      await watchStoreAndShow(w);
      s.qr = await presentIdCard(w);
    }
    s.copiesLeft = await qrCopiesLeft(w);
    s.signedAt = await by(w, "qr-code").getAttribute("data-signed-at");
  });

  step("the counter app, set up with the trust anchor, syncs and reads the code from its camera: VALID", async () => {
    const video = join(s.tmp, "wallet-qr.y4m");
    await writeY4m(s.wallet.page, s.qr.png, video);
    s.counter = await launch({ name: "counter", caPath: s.net.caPath, fakeVideo: video, viewport: PHONE, locale: LOCALE });
    const c = s.counter.page;
    await c.goto(`${s.base}/counter/`);
    await c.locator('[data-testid="app"][data-state="setup"]').waitFor();
    assert.equal(await by(c, "node-url").inputValue(), s.base, "the node the app was served by is the default");
    await shot(c, "counter-setup");
    await by(c, "anchor-text").fill(s.net.anchorText);
    await by(c, "setup-sync").click();
    await c.locator('[data-testid="app"][data-state="desk"]').waitFor();
    assert.equal(await by(c, "data-age").getAttribute("data-state"), "ok");
    // From the camera: nothing is typed.
    await c.locator('[data-testid="verdict"][data-seq="1"]').waitFor({ timeout: 30000 });
    const v = await verdict(c);
    assert.equal(v.verdict, "valid", v.text);
    assert.match(v.text, /张伟/);
    assert.match(v.text, /110108199003070016/);
    assert.match(v.text, /居民身份证/);
    assert.equal(await by(c, "verdict-field").count(), 2, "exactly the two fields shown");
    // A one-time copy carries no certificate id: none is shown, the words say why.
    assert.equal(await by(c, "verdict-cert").getAttribute("data-copy"), "one-time");
    assert.match(await by(c, "verdict-copy").innerText(), /One-time copy|一次性副本/);
    assert.ok(!v.text.includes(s.certId), "the certificate id is not on the counter's screen");
    await shot(c, "counter-valid");
    await shotInOtherLanguage(c, "counter-valid-zh");
  });

  step("the live code renews itself with the same copy: nothing more is used up, and the renewed code is VALID", async () => {
    const w = s.wallet.page;
    const code = by(w, "qr-code");
    // A renewal every 15 s: wait for one (signed at a later second).
    await w.waitForFunction((first) => document.querySelector('[data-testid="qr-code"]').dataset.signedAt !== first,
      s.signedAt, { timeout: 30000 });
    const renewed = await walletQr(w);
    assert.notEqual(renewed.text, s.qr.text, "a fresh code");
    assert.equal(await code.getAttribute("data-copies-spent"), "1", "the code's first showing used one copy, its renewals none");
    assert.equal(await qrCopiesLeft(w), s.copiesLeft);
    const order = await w.evaluate(() => window.ecertOrder);
    assert.equal(order.filter((e) => e === "stored").length, 1, `the wallet was not stored again: ${order}`);
    assert.ok(order.filter((e) => e === "shown").length >= 2, `renewed: ${order}`);
    const c = s.counter.page;
    await by(c, "verdict-next").click();
    const v = await checkCode(c, renewed.text);
    assert.equal(v.verdict, "valid", v.text);
  });

  step("the department revokes; the counter syncs and says INVALID, revoked", async () => {
    const c = s.counter.page;
    await by(c, "verdict-next").click();
    if (SCREENSHOTS) {
      await c.setViewportSize({ width: 1100, height: 640 }); // a small desk screen: a smaller file
      await c.waitForTimeout(500); // the camera's picture at the new size
      await shot(c, "counter-desk-wide");
      await c.setViewportSize(PHONE);
      if (await by(c, "verdict").isVisible()) await by(c, "verdict-next").click();
    }
    await by(c, "camera-toggle").click(); // the clerk turns the camera off
    await c.locator('[data-testid="camera"][data-state="off"]').waitFor();
    await shot(c, "counter-desk");
    await issuer(["revoke", "--cert", s.certId, "--reason", "holder-key-compromised"]);
    const before = Number(await by(c, "data-age").getAttribute("data-height"));
    await by(c, "sync-button").click();
    await c.locator('[data-testid="sync-status"][data-state="ok"]').waitFor();
    const afterHeight = Number(await by(c, "data-age").getAttribute("data-height"));
    assert.ok(afterHeight > before, `a newer certified block (${before} → ${afterHeight})`);
    assert.equal(await by(c, "sync-status").getAttribute("data-transfer"), "incremental",
      "only what changed since the data held travelled");
    // The wallet renews its code; the desk scanner reads the current one.
    const fresh = await walletQr(s.wallet.page);
    const v = await checkCode(c, fresh.text);
    assert.deepEqual([v.verdict, v.code], ["invalid", "revoked"], v.text);
    assert.doesNotMatch(v.text, /110108199003070016/, "no field of an invalid code is shown");
    await shot(c, "counter-invalid");
  });

  step("the citizen's wallet app, asking a node with the pinned anchor, sees the revocation too, and the card anchored", async () => {
    const w = s.wallet.page;
    await walletHome(w);
    await by(w, "more-start").click();
    await by(w, "refresh-start").click();
    await walletScreen(w, "status");
    await by(w, "anchor-text").fill(s.net.anchorText);
    await by(w, "anchor-save").click();
    await by(w, "anchor-status").waitFor();
    await by(w, "refresh-submit").click();
    await by(w, "refresh-result").waitFor({ timeout: 30000 });
    // Anchored: the node's receipt for the card's batch passed the core's check; said in
    // words (the app's language: Chinese or English), not by colour alone.
    const anchoredIn = (n) => new RegExp(`(Anchored, certified in block|已登记上链，认证于区块) #${n}\\b`);
    const row = by(w, "refresh-result").locator(`[data-testid="refresh-row"][data-id="${s.certId}"]`);
    assert.deepEqual(
      [await row.getAttribute("data-revoked"), await row.getAttribute("data-anchored")],
      ["true", "true"], "the status says revoked and anchored");
    const height = Number(await row.getAttribute("data-height"));
    assert.ok(height > 0, `anchored in block ${height}`);
    assert.match(await row.innerText(), anchoredIn(height));
    // How current the status is: the validators' freshness statements, checked by the core.
    assert.match(await by(w, "refresh-as-of").innerText(),
      /[34] of 4 validators vouch it is current as of|4 个验证节点中 [34] 个确认其截至/);
    assert.doesNotMatch(await by(w, "refresh-result").innerText(), /\bnull\b/, "nothing missing is drawn as words");
    await shot(w, "wallet-status");
    await walletHome(w);
    const card = by(w, "cert-list").locator(`[data-testid="cert-card"][data-id="${s.certId}"]`);
    assert.equal(await copiesLeft(w, s.certId), s.copiesLeft, "the live code's renewals used up no copy");
    assert.equal(await card.getAttribute("data-revoked"), "true", "the card says revoked");
    assert.equal(await card.getAttribute("data-anchored"), "true", "the card says anchored");
    assert.match(await card.innerText(), anchoredIn(height));
    await shotInOtherLanguage(w, "wallet-home-zh");
    // The citizen shows the code again (the counter will refuse it, offline too).
    await presentIdCard(w);
  });

  step("a command-line wallet gets its own ID card and is backed up; both counters sync", async () => {
    s.cliWallet = join(s.tmp, "cli-wallet.ecw");
    const walletEnv = { ECERT_WALLET_PASSPHRASE: CLI_WALLET_PASSPHRASE, ECERT_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE };
    await run("ecert-wallet", ["--wallet", s.cliWallet, "init"], { env: walletEnv });
    const id = /[0-9a-f]{64}/.exec((await run("ecert-wallet", ["--wallet", s.cliWallet, "id"], { env: walletEnv })).stdout)[0];
    const claims = join(s.tmp, "li-na.json");
    const packagePath = join(s.tmp, "li-na.ecp");
    writeFileSync(claims, JSON.stringify(LI_NA));
    // Two copies only: the story uses them up.
    await issuer(["issue", "--kind", "id-card", "--claims", claims, "--holder", id, "--out", packagePath, "--copies", "2"]);
    await run("ecert-wallet", ["--wallet", s.cliWallet, "receive", packagePath], { env: walletEnv });
    s.backup = join(s.tmp, "li-na-backup.ecw");
    await run("ecert-wallet", ["--wallet", s.cliWallet, "backup", s.backup], { env: walletEnv });
    // The command-line counter, and the browser counter, take the ledger's newest data.
    s.cliCounter = join(s.tmp, "cli-counter");
    await run("ecert-verify", ["--store", s.cliCounter, "init", "--anchor", s.net.anchorPath]);
    const sync = await run("ecert-verify", ["--store", s.cliCounter, "--ca", s.net.caPath, "sync", "--node", s.net.nodes[s.department]]);
    assert.match(sync.stdout, /Synced ledger/);
    const c = s.counter.page;
    await by(c, "verdict-next").click();
    await by(c, "sync-button").click();
    await c.locator('[data-testid="sync-status"][data-state="ok"]').waitFor();
    assert.match(await by(c, "sync-status").innerText(),
      /[34] of 4 validators vouch it is current as of|4 个验证节点中 [34] 个确认数据截至/);
  });

  step("with the nodes stopped and the browser offline, the counter restarts from its service worker and still verifies", async () => {
    const c = s.counter.page;
    await c.evaluate(() => navigator.serviceWorker.ready);
    await s.net.down();
    await s.counter.context.setOffline(true);
    await c.reload();
    await c.locator('[data-testid="app"][data-state="desk"]').waitFor();
    assert.match(await by(c, "data-age").innerText(), /\d/, "the data's age stays on screen");
    assert.ok(Number(await by(c, "data-age").getAttribute("data-height")) > 0, "the stored data is back");
    assert.equal(await by(c, "camera").getAttribute("data-state"), "off", "the clerk's choice of no camera is kept");
    const fresh = await walletQr(s.wallet.page);
    await c.locator("body").click({ position: { x: 5, y: 300 } }); // the focus anywhere
    const v = await checkCode(c, fresh.text, { typed: true });
    assert.deepEqual([v.verdict, v.code], ["invalid", "revoked"], v.text);
    // A sync now fails plainly and keeps the data.
    await by(c, "verdict-next").click();
    await by(c, "sync-button").click();
    await c.locator('[data-testid="sync-status"][data-state="error"]').waitFor();
    assert.equal(await by(c, "data-age").getAttribute("data-state"), "ok");
    await shot(c, "counter-offline");
  });

  step("a command-line backup restores in the wallet app; its code verifies in ecert-verify and at the counter", async () => {
    const w = s.wallet.page;
    await walletHome(w);
    if (SCREENSHOTS) {
      await by(w, "more-start").click();
      await by(w, "backup-start").click();
      await walletScreen(w, "backup");
      await shot(w, "wallet-backup");
      await walletHome(w);
    }
    await by(w, "lock").click();
    await by(w, "unlock-restore").click();
    await by(w, "restore-file").setInputFiles(s.backup);
    await by(w, "restore-passphrase").fill(BACKUP_PASSPHRASE);
    await by(w, "restore-new-passphrase").fill(WALLET_PASSPHRASE);
    await by(w, "restore-new-passphrase2").fill(WALLET_PASSPHRASE);
    const replace = by(w, "restore-replace");
    if (await replace.count()) await replace.check();
    await shot(w, "wallet-restore");
    await by(w, "restore-submit").click();
    await walletScreen(w, "home");
    const card = by(w, "cert-list").locator('[data-testid="cert-card"][data-kind="id-card"]');
    await card.waitFor();
    s.liNaId = await card.getAttribute("data-id");
    assert.deepEqual([await card.getAttribute("data-copies-left"), await card.getAttribute("data-copies-low")], ["2", "true"]);
    assert.match(await by(card, "cert-copies-low").innerText(), /ask the department \(public-security\) for new copies|请向签发部门（public-security）申请新副本/);
    const { text } = await presentIdCard(w);
    assert.equal(await by(w, "qr-notices").locator('[data-testid="qr-notice"]').getAttribute("data-notice"), "low",
      "the QR screen says to ask for new copies");
    const cli = await run("ecert-verify", ["--store", s.cliCounter, "verify", text], { check: false });
    assert.equal(cli.code, 0, `ecert-verify says VALID:\n${cli.stdout}${cli.stderr}`);
    assert.match(cli.stdout, /VALID/);
    assert.match(cli.stdout, /李娜/);
    const v = await checkCode(s.counter.page, text);
    assert.equal(v.verdict, "valid", v.text);
    assert.match(v.text, /李娜/);
    assert.equal(await by(s.counter.page, "verdict-copy").count(), 1, "a one-time copy, no id");
  });

  step("challenge mode: a code made without the counter's challenge is refused, the answer is accepted", async () => {
    const c = s.counter.page;
    const w = s.wallet.page;
    await by(c, "verdict-next").click();
    await by(c, "challenge-button").click();
    const challenge = await by(c, "challenge-code").getAttribute("data-code");
    assert.match(challenge, /^[0-9A-F]{16}$/);
    await shot(c, "counter-challenge");
    const live = await walletQr(w);
    let v = await checkCode(c, live.text);
    assert.deepEqual([v.verdict, v.code], ["invalid", "nonce-mismatch"], v.text);
    await by(w, "qr-close").click();
    await by(w, "present-challenge").click();
    await walletScreen(w, "challenge");
    await w.waitForTimeout(SCREENSHOTS ? 800 : 0); // the camera's first frames
    await shot(w, "wallet-challenge");
    await by(w, "challenge-input").fill(challenge);
    await by(w, "challenge-submit").click();
    const answer = await walletQr(w);
    await shot(w, "wallet-qr-challenge");
    v = await checkCode(c, answer.text);
    assert.deepEqual([v.verdict, v.challenge], ["valid", "answered"], v.text);
    assert.equal(await qrCopiesLeft(w), 0, "the answer used the last copy");
    assert.equal(await by(w, "qr-notices").locator('[data-testid="qr-notice"]').getAttribute("data-notice"), "none");
  });

  step("with no copy left the wallet refuses and explains; it shows the last copy again only when asked, and warns", async () => {
    const w = s.wallet.page;
    const c = s.counter.page;
    await walletHome(w);
    assert.equal(await copiesLeft(w, s.liNaId), 0);
    const card = by(w, "cert-list").locator(`[data-testid="cert-card"][data-id="${s.liNaId}"]`);
    assert.match(await by(card, "cert-copies-low").innerText(), /No copies left|副本已用完/);
    await by(w, "present-start").click();
    await by(w, "field-id-card-name").check();
    await by(w, "present-show").click();
    await by(w, "present-reuse-box").waitFor();
    assert.match(await by(w, "present-reuse-why").innerText(), /link your presentations|关联起来/);
    assert.equal(await by(w, "qr-code").getAttribute("data-qr"), null, "no code is shown");
    assert.match(await by(w, "present-reuse-text").innerText(), /same certificate|同一证件/);
    await shot(w, "wallet-no-copies");
    await by(w, "present-reuse").click();
    const again = await walletQr(w);
    assert.equal(await by(w, "qr-code").getAttribute("data-copies-spent"), "0");
    assert.equal(await by(w, "qr-notices").locator('[data-testid="qr-notice"]').getAttribute("data-notice"), "reused",
      "the QR screen warns that the copy was shown before");
    await by(c, "verdict-next").click();
    const v = await checkCode(c, again.text);
    assert.equal(v.verdict, "valid", v.text);
  });

  step("screens at desk size", async () => {
    const c = s.counter.page;
    await c.setViewportSize(DESK);
    await shot(c, "counter-valid-desk");
    await by(c, "verdict-next").click();
    await by(c, "settings-button").click();
    await by(c, "screen-settings").waitFor();
    await c.setViewportSize(PHONE);
    await shot(c, "counter-settings");
    assert.deepEqual(s.counter.problems.filter((p) => !/Failed to load resource|net::ERR_/.test(p)), []);
  });
});
