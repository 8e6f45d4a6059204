/**
 * New copies for the wallet app (docs/protocol.md §9b), in Chromium on the real network
 * over HTTPS: a department issues an ID card as 2 one-time copies with an offer; the
 * wallet app collects it (and so learns the department's server), shows a code and is
 * running low; from the QR screen's notice it opens the certificate and asks for new
 * copies; a mistyped server address is refused by the core; the real `ecert-issuer serve`
 * queues the request (the app says to ask again later); the real `ecert-issuer refill`
 * issues it; the app asks again and holds 3 of 3 new copies, stored (still there after a
 * reload); a code of a new copy is VALID in `ecert-verify`; after `ecert-issuer revoke`
 * the department refuses, and the app says why (`revoked`).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PHONE, checkBrowser, launch } from "./lib/browser.mjs";
import { REPO, freePort, run, startServer } from "./lib/tools.mjs";
import { endSuite, testnetUp } from "./lib/testnet.mjs";

const by = (page, id) => page.getByTestId(id);
const PASSPHRASE = "refill-test-passphrase";
const DEPARTMENT = "public-security";
const WANG_FANG = {
  name: "王芳", sex: "female", ethnicity: "汉", birth_date: "1992-05-14",
  address: "广州市天河区体育西路1号", id_number: "440106199205140020",
  issuing_authority: "广州市公安局天河分局", portrait_digest: "7e".repeat(32),
};

/** The wallet app's screen. */
const walletScreen = (page, screen) => page.locator(`[data-testid="app"][data-screen="${screen}"]`).waitFor({ timeout: 30000 });

/** The answer to the last "Ask for new copies": its state, code and words. */
async function refillResult(page, previous = null) {
  const result = by(page, "refill-result");
  await page.waitForFunction((before) => {
    const node = document.querySelector('[data-testid="refill-result"]');
    const ask = document.querySelector('[data-testid="refill-ask"]');
    return node && !node.hidden && node.dataset.state && ask && !ask.disabled
      && `${node.dataset.state}|${node.textContent}` !== before;
  }, previous, { timeout: 30000 });
  return {
    state: await result.getAttribute("data-state"),
    code: await result.getAttribute("data-code"),
    text: await result.innerText(),
  };
}

/** Taps "Ask for new copies" and waits for the answer. */
async function askForCopies(page) {
  const result = by(page, "refill-result");
  const before = (await result.isVisible())
    ? `${await result.getAttribute("data-state")}|${await result.textContent()}` : null;
  await by(page, "refill-ask").click();
  return refillResult(page, before);
}

/** The certificate screen's copies: [left, total] from its card. */
async function certCopies(page) {
  const card = by(page, "cert-head").locator('[data-testid="cert-card"]');
  return [await card.getAttribute("data-copies-left"), await card.getAttribute("data-copies")];
}

describe("new copies for the wallet app from the department", { timeout: 240000 }, () => {
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
  /** The requests the department's server keeps for its next `ecert-issuer refill`. */
  const pending = () => {
    const dir = join(s.net.issuerHome(DEPARTMENT), "refills", "pending");
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  const issuer = (args) => run("ecert-issuer", [...args, "--ca", s.net.caPath], { env: s.issuerEnv });

  before(async () => {
    checkBrowser({ needCertutil: true });
    s.tmp = mkdtempSync(join(tmpdir(), "ecert-refill-"));
    s.net = await testnetUp(join(s.tmp, "network"), { web: join(REPO, "web") });
    s.issuerEnv = { ECERT_ISSUER_HOME: s.net.issuerHome(DEPARTMENT), ECERT_ISSUER_PASSPHRASE: s.net.passphrase };
    s.base = s.net.nodes[DEPARTMENT];
    const tls = (name) => join(s.net.dir, "tls", `${DEPARTMENT}.${name}`);
    const port = await freePort();
    s.offerBase = `https://127.0.0.1:${port}`;
    await run("ecert-issuer", ["config", "--serve-url", s.offerBase], { env: s.issuerEnv });
    s.server = await startServer("ecert-issuer", [
      "serve", "--listen", `127.0.0.1:${port}`, "--tls-cert", tls("pem"), "--tls-key", tls("key"),
      "--allow-origin", s.base, "--wallet-app", `${s.base}/wallet/`,
    ], { env: s.issuerEnv, ready: /Serving offers/ });
    s.browser = await launch({ name: "refill", caPath: s.net.caPath, viewport: PHONE });
  });

  after(() => endSuite(s, s.browser, s.server));

  step("the wallet app collects an ID card of 2 one-time copies from its offer link", async () => {
    const w = s.browser.page;
    await w.goto(`${s.base}/wallet/`);
    await by(w, "welcome-create").click();
    await by(w, "create-passphrase").fill(PASSPHRASE);
    await by(w, "create-passphrase2").fill(PASSPHRASE);
    await by(w, "create-submit").click();
    await walletScreen(w, "home");
    await by(w, "home-show-id").click();
    const walletId = (await by(w, "wallet-id").innerText()).replace(/\s+/g, "");
    const claims = join(s.tmp, "wang-fang.json");
    writeFileSync(claims, JSON.stringify(WANG_FANG));
    const { stdout } = await issuer(["issue", "--kind", "id-card", "--claims", claims, "--holder", walletId,
      "--offer", "--copies", "2"]);
    const code = /offer ([0-9A-Z]{4}(?:-[0-9A-Z]{4})+)/.exec(stdout)?.[1];
    assert.ok(code, `ecert-issuer printed an offer code:\n${stdout}`);
    // The offer page's button: the wallet app with the offer link after #offer=.
    await w.goto(`${s.base}/wallet/#offer=${encodeURIComponent(`${s.offerBase}/v1/offers/${code}`)}`);
    await by(w, "offer-collect").click();
    await by(w, "received-done").click();
    const card = by(w, "cert-list").locator('[data-testid="cert-card"][data-kind="id-card"]');
    s.certId = await card.getAttribute("data-id");
    assert.deepEqual([await card.getAttribute("data-copies-left"), await card.getAttribute("data-copies-low")], ["2", "true"]);
    // The card says what to do: the button on the certificate.
    assert.match(await by(card, "cert-copies-low").innerText(), /Ask for new copies|申请新副本/);
    // Kept: the department's server, and nothing about the certificate.
    const servers = await w.evaluate(() => new Promise((resolve, reject) => {
      const open = indexedDB.open("ecert-wallet");
      open.onsuccess = () => {
        const get = open.result.transaction("kv").objectStore("kv").get("servers");
        get.onsuccess = () => resolve(get.result);
        get.onerror = () => reject(get.error);
      };
      open.onerror = () => reject(open.error);
    }));
    assert.deepEqual(servers, { [DEPARTMENT]: s.offerBase });
  });

  step("after a code is shown, the notice leads to the certificate; a mistyped address is refused; the request is queued", async () => {
    const w = s.browser.page;
    await by(w, "present-start").click();
    await by(w, "field-id-card-name").check();
    await by(w, "present-show").click();
    await by(w, "qr-code").waitFor({ state: "visible" });
    const notice = by(w, "qr-notices").locator('[data-testid="qr-notice"]');
    assert.equal(await notice.getAttribute("data-notice"), "low");
    assert.match(await notice.innerText(), /Ask for new copies|申请新副本/);
    await by(notice, "qr-refill").click();
    await walletScreen(w, "cert");
    assert.deepEqual(await certCopies(w), ["1", "2"]);
    await by(w, "refill-box").waitFor();
    assert.match(await by(w, "refill-server").innerText(), new RegExp(s.offerBase.replace(/[.]/g, "\\.")));
    // Another address, mistyped: the core's address rules refuse it, nothing is sent.
    await by(w, "refill-change").click();
    await by(w, "refill-address").fill("127.0.0.1/v1");
    let answer = await askForCopies(w);
    assert.deepEqual([answer.state, answer.code], ["error", "bad-address"], answer.text);
    assert.deepEqual(pending(), [], "nothing was sent");
    // The department's address, pasted as it gives it.
    await by(w, "refill-address").fill(`${s.offerBase}/`);
    answer = await askForCopies(w);
    assert.equal(answer.state, "queued", answer.text);
    assert.match(answer.text, /in batches|分批/);
    assert.match(answer.text, /tomorrow|明天/);
    assert.equal(pending().length, 1, "the department's server keeps the request");
  });

  step("the department issues the queue; the app asks again and holds 3 of 3 new copies, stored", async () => {
    const { stdout } = await issuer(["refill", "--min-requests", "1", "--copies", "3"]);
    assert.match(stdout, /New copies of 1 id-card/);
    const w = s.browser.page;
    const answer = await askForCopies(w);
    assert.equal(answer.state, "received", answer.text);
    assert.match(answer.text, /3 of 3|3 \/ 3/);
    assert.deepEqual(await certCopies(w), ["3", "3"]);
    assert.match(await by(w, "cert-copies-left").innerText(), /^(3 of 3 left|剩余 3 份（共 3 份）)$/);
    // Stored before it said so: still there after a reload.
    await w.reload();
    await by(w, "unlock-passphrase").fill(PASSPHRASE);
    await by(w, "unlock-submit").click();
    await walletScreen(w, "home");
    const card = by(w, "cert-list").locator(`[data-testid="cert-card"][data-id="${s.certId}"]`);
    assert.deepEqual([await card.getAttribute("data-copies-left"), await card.getAttribute("data-copies")], ["3", "3"]);
  });

  step("a code of a new copy is VALID in ecert-verify", async () => {
    const w = s.browser.page;
    await by(w, "present-start").click();
    await by(w, "field-id-card-name").check();
    await by(w, "present-show").click();
    const code = by(w, "qr-code");
    await code.waitFor({ state: "visible" });
    const qr = await code.getAttribute("data-qr");
    const store = join(s.tmp, "counter");
    await run("ecert-verify", ["--store", store, "init", "--anchor", s.net.anchorPath]);
    await run("ecert-verify", ["--store", store, "--ca", s.net.caPath, "sync", "--node", s.base]);
    const verdict = await run("ecert-verify", ["--store", store, "verify", qr], { check: false });
    assert.equal(verdict.code, 0, `ecert-verify says VALID:\n${verdict.stdout}${verdict.stderr}`);
    assert.match(verdict.stdout, /VALID/);
    assert.match(verdict.stdout, /王芳/);
  });

  step("revoked: the department refuses new copies and the app says why", async () => {
    await issuer(["revoke", "--cert", s.certId, "--reason", "withdrawn"]);
    const w = s.browser.page;
    const notice = by(w, "qr-notices").locator('[data-testid="qr-notice"]');
    await by(notice, "qr-refill").click();
    await walletScreen(w, "cert");
    const answer = await askForCopies(w);
    assert.deepEqual([answer.state, answer.code], ["refused", "revoked"], answer.text);
    assert.match(answer.text, /revoked|撤销/);
    assert.deepEqual(await certCopies(w), ["2", "3"], "nothing changed");
    assert.deepEqual(s.browser.problems.filter((p) => !/Failed to load resource|net::ERR_/.test(p)), []);
  });
});
