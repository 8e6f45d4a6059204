/**
 * Counters that ask, in Chromium on the real network over HTTPS: the counter app makes
 * its key, the justice department registers it with the real `ecert-issuer
 * register-counter` (an office that may ask for the result and purpose of a
 * no-criminal-record certificate), the counter app checks the registration file and
 * shows a signed request; the wallet app, which keeps the ledger's list of departments
 * from its status check, shows who asks, what and why, answers with exactly that, and the
 * counter accepts the answer. A request for a field the registration does not allow is
 * refused in the wallet with its reason; a field the citizen declines is reported missing
 * at the counter; the no-criminal-record certificate is not shown without a request.
 * The wallet's history lists every code it made (an ordinary code of an ID card too), newest
 * first, with the counter's name when it asked and the items shown, never their values; it is
 * sealed and stored with the wallet (still there after a reload) and cleared on request.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PHONE, checkBrowser, launch } from "./lib/browser.mjs";
import { REPO, run } from "./lib/tools.mjs";
import { endSuite, testnetUp } from "./lib/testnet.mjs";

const by = (page, id) => page.getByTestId(id);
const COUNTER = "Visa office, desk 3";
const PASSPHRASE = "counters-ask-passphrase";
const NCR = "no-criminal-record";
/** The citizen's details in her certificates: none of them may appear in her history. */
const WANG_FANG = {
  name: "王芳", sex: "female", ethnicity: "汉", birth_date: "1990-03-07",
  address: "北京市海淀区中关村大街27号", id_number: "110108199003070016",
  issuing_authority: "北京市公安局海淀分局", portrait_digest: "5a".repeat(32),
};
const RECORD = { name: WANG_FANG.name, id_number: WANG_FANG.id_number, purpose: "visa", result: "no-record", checked_through: "2026-11-20" };

/** The wallet app's screen. */
const walletScreen = (page, screen) => page.locator(`[data-testid="app"][data-screen="${screen}"]`).waitFor({ timeout: 30000 });

/** Back to the wallet's home screen. */
async function walletHome(page) {
  for (let i = 0; i < 6 && (await page.locator('[data-testid="app"]').getAttribute("data-screen")) !== "home"; i += 1) {
    await by(page, "back").click();
  }
  await walletScreen(page, "home");
}

/** The counter app makes a request for `fields` of the no-criminal-record certificate; its text. */
async function counterRequest(c, fields) {
  if (await by(c, "request-new").isVisible()) await by(c, "request-new").click();
  else await by(c, "request-button").click();
  for (const field of fields) await by(c, `ask-${NCR}-${field}`).check();
  await by(c, "request-purpose").fill("Visa application");
  await by(c, "request-make").click();
  const qr = c.locator('[data-testid="request-qr"] svg');
  await qr.waitFor();
  const text = await by(c, "request-qr").getAttribute("data-request");
  assert.match(text, /^ECQ1:/);
  return text;
}

/** The wallet app reads request `text` (pasted), from its home screen. */
async function walletReads(w, text) {
  await by(w, "request-start").click();
  await walletScreen(w, "request");
  await by(w, "request-input").fill(text);
  await by(w, "request-submit").click();
}

/** The counter checks `qr` (typed, as a desk scanner does); the verdict layer's facts. */
async function counterChecks(c, qr) {
  const seq = Number((await by(c, "verdict").getAttribute("data-seq")) || 0) + 1;
  await by(c, "manual-input").fill(qr);
  await by(c, "manual-input").press("Enter");
  const layer = c.locator(`[data-testid="verdict"][data-seq="${seq}"]`);
  await layer.waitFor();
  return {
    verdict: await layer.getAttribute("data-verdict"),
    answer: await layer.getAttribute("data-answer"),
    code: await layer.getAttribute("data-code"),
    text: await by(c, "verdict-body").innerText(),
  };
}

describe("counters that ask, in the apps", { timeout: 240000 }, () => {
  const s = {};

  before(async () => {
    checkBrowser({ needCertutil: true });
    s.tmp = mkdtempSync(join(tmpdir(), "ecert-counters-ask-"));
    s.net = await testnetUp(join(s.tmp, "network"), { web: join(REPO, "web") });
    s.base = s.net.nodes.justice;
    s.justice = { ECERT_ISSUER_HOME: s.net.issuerHome("justice"), ECERT_ISSUER_PASSPHRASE: s.net.passphrase };
    // One browser, both apps (each in its own page, database and service worker scope).
    s.browser = await launch({ name: "counters-ask", caPath: s.net.caPath, viewport: PHONE });
    s.counter = s.browser.page;
    s.wallet = await s.browser.context.newPage();
  });

  after(() => endSuite(s, s.browser));

  it("the wallet app keeps the ledger's departments, and refuses to show the no-criminal-record certificate without a request", async () => {
    const w = s.wallet;
    await w.goto(`${s.base}/wallet/`);
    await by(w, "welcome-create").click();
    await by(w, "create-passphrase").fill(PASSPHRASE);
    await by(w, "create-passphrase2").fill(PASSPHRASE);
    await by(w, "create-submit").click();
    await walletScreen(w, "home");
    await by(w, "home-show-id").click();
    const id = (await by(w, "wallet-id").innerText()).replace(/\s+/g, "");
    const claims = join(s.tmp, "record.json");
    writeFileSync(claims, JSON.stringify(RECORD));
    const record = join(s.tmp, "record.ecp");
    await run("ecert-issuer", ["issue", "--kind", NCR, "--claims", claims, "--holder", id, "--out", record,
      "--ca", s.net.caPath], { env: s.justice });
    // And an ID card (2 one-time copies), which any counter may see: for the history's ordinary code.
    const cardClaims = join(s.tmp, "card.json");
    writeFileSync(cardClaims, JSON.stringify(WANG_FANG));
    const card = join(s.tmp, "card.ecp");
    await run("ecert-issuer", ["issue", "--kind", "id-card", "--claims", cardClaims, "--holder", id, "--out", card,
      "--copies", "2", "--ca", s.net.caPath], {
      env: { ECERT_ISSUER_HOME: s.net.issuerHome("public-security"), ECERT_ISSUER_PASSPHRASE: s.net.passphrase },
    });
    await walletHome(w);
    await by(w, "receive-start").click();
    await by(w, "receive-file").setInputFiles([record, card]);
    await by(w, "received-done").click();
    // Without the list of departments, a request cannot be checked: the app says so.
    await walletReads(w, "ECQ1:0");
    await by(w, "request-status").waitFor();
    await by(w, "request-status").click();
    await walletScreen(w, "status");
    await by(w, "anchor-text").fill(s.net.anchorText);
    await by(w, "anchor-save").click();
    await by(w, "refresh-submit").click();
    await w.locator('[data-testid="refresh-registry"][data-kept="true"]').waitFor({ timeout: 30000 });

    // Not without a request: refused, and the words say to whom and how it may be shown.
    await walletHome(w);
    await by(w, "present-start").click();
    await by(w, `field-${NCR}-result`).check();
    await by(w, "present-show").click();
    const error = by(w, "choose-error");
    await error.waitFor();
    assert.match(await error.innerText(), /只能向为此登记的柜台|counters registered for it/);
    assert.equal(await by(w, "screen-qr").isVisible(), false, "no code is shown");
    await walletHome(w);
  });

  it("the counter app makes its key, and installs the registration the department signed for it", async () => {
    const c = s.counter;
    await c.goto(`${s.base}/counter/`);
    await c.locator('[data-testid="app"][data-state="setup"]').waitFor();
    await by(c, "anchor-text").fill(s.net.anchorText);
    await by(c, "setup-sync").click();
    await c.locator('[data-testid="app"][data-state="desk"]').waitFor();
    assert.equal(await by(c, "request-button").isVisible(), false, "no request before a registration");
    await by(c, "settings-button").click();
    await by(c, "counter-key-make").click();
    await by(c, "counter-key-box").waitFor();
    const key = (await by(c, "counter-key").innerText()).trim();
    assert.match(key, /^[0-9a-f]{64}$/);
    const file = join(s.tmp, "desk3.ecr");
    const { stdout, stderr } = await run("ecert-issuer", ["register-counter", "--counter-key", key,
      "--name", COUNTER, "--name-local", "签证处3号窗口", "--role", "office",
      "--may-ask", `${NCR}:result,purpose`, "--days", "30", "--out", file], { env: s.justice });
    assert.match(stdout + stderr, /result, purpose/);
    await by(c, "registration-file").setInputFiles(file);
    await c.locator('[data-testid="registration-status"][data-state="ok"]').waitFor();
    const info = await by(c, "registration-info").innerText();
    assert.match(info, new RegExp(COUNTER));
    assert.match(info, /office/);
    // Kept across a restart, checked again.
    await c.reload();
    await c.locator('[data-testid="app"][data-state="desk"]').waitFor();
    await by(c, "request-button").waitFor();
  });

  it("the counter asks; the wallet says who asks, what and why, and answers; the counter accepts exactly that", async () => {
    const c = s.counter;
    const w = s.wallet;
    const request = await counterRequest(c, ["result", "purpose"]);
    await walletReads(w, request);
    await walletScreen(w, "answer");
    const who = await by(w, "answer-who").innerText();
    assert.match(who, new RegExp(COUNTER));
    assert.match(who, /签证处3号窗口/);
    assert.match(who, /office/);
    assert.match(await by(w, "answer-purpose").innerText(), /Visa application/);
    assert.equal(await by(w, `answer-field-${NCR}-result`).isChecked(), true);
    await by(w, "answer-show").click();
    const code = by(w, "qr-code");
    await code.waitFor({ state: "visible" });
    assert.equal(await code.getAttribute("data-counter"), COUNTER);
    const answer = await code.getAttribute("data-qr");
    const v = await counterChecks(c, answer);
    assert.deepEqual([v.verdict, v.answer], ["valid", "exact"], v.text);
    // The accepted answer retired the request: the desk no longer waits for one.
    assert.equal(await by(c, "request-banner").isVisible(), false);
    await by(c, "verdict-next").click();
    await by(w, "qr-close").click();
    await walletScreen(w, "home");
  });

  it("a request for a field the registration does not allow is refused in the wallet, with its reason", async () => {
    const c = s.counter;
    // Signed with the counter's own key, outside what the app offers (as a bent counter would).
    const greedy = await c.evaluate(async (kind) => {
      const core = await import("../core/pkg/ecert_web.js");
      await core.default();
      const { openStore } = await import("../common/store.js");
      const db = await openStore("ecert-counter");
      const [key, registration] = [await db.get("counterKey"), await db.get("registration")];
      return core.signRequest(registration, key, [{ kind, fields: ["name"] }], "Visa application", Date.now() / 1000);
    }, NCR);
    const w = s.wallet;
    await walletReads(w, greedy);
    const error = by(w, "request-error");
    await error.waitFor();
    const text = await error.innerText();
    assert.match(text, /柜台请求了其登记不允许请求的信息|asks for something its registration does not allow/);
    assert.match(text, /does not let it ask for/);
    assert.equal(await w.locator('[data-testid="app"]').getAttribute("data-screen"), "request");
    await walletHome(w);
  });

  it("a field the citizen declines is reported missing at the counter", async () => {
    const c = s.counter;
    const w = s.wallet;
    const request = await counterRequest(c, ["result", "purpose"]);
    await walletReads(w, request);
    await walletScreen(w, "answer");
    await by(w, `answer-field-${NCR}-purpose`).uncheck();
    await by(w, "answer-show").click();
    const code = by(w, "qr-code");
    await code.waitFor({ state: "visible" });
    const v = await counterChecks(c, await code.getAttribute("data-qr"));
    assert.deepEqual([v.verdict, v.answer], ["valid", "incomplete"], v.text);
    assert.equal(await by(c, "verdict-field").count(), 1, "only the result shown");
    await by(w, "qr-close").click();
    await walletScreen(w, "home");
  });

  it("the history lists every code, newest first, with the counter's name and the items shown, never their values; kept after a reload; cleared on request", async () => {
    const w = s.wallet;
    // An ordinary code, no counter asking.
    await by(w, "present-start").click();
    await by(w, `field-${NCR}-result`).uncheck(); // ticked in the refused attempt above
    await by(w, "field-id-card-name").check();
    await by(w, "present-show").click();
    await by(w, "qr-code").waitFor({ state: "visible" });
    await by(w, "qr-close").click();
    await walletHome(w);

    /** The history screen's entries: counter, who, and per certificate its kind, keys and words. */
    const readHistory = async () => {
      await by(w, "history-start").click();
      await walletScreen(w, "history");
      const entries = [];
      for (const entry of await by(w, "history-list").getByTestId("history-entry").all()) {
        const certs = [];
        for (const cert of await entry.getByTestId("history-cert").all()) {
          const fields = by(cert, "history-fields");
          certs.push({ kind: await cert.getAttribute("data-kind"), keys: await fields.getAttribute("data-keys"), text: await fields.innerText() });
        }
        entries.push({
          time: Number(await entry.getAttribute("data-time")), counter: await entry.getAttribute("data-counter"),
          who: await by(entry, "history-who").innerText(), when: await by(entry, "history-when").innerText(), certs,
        });
      }
      return entries;
    };
    const entries = await readHistory();
    // Newest first: the ID card's code, the answer with the purpose declined, the first answer
    // (the refused requests and the refused code of the no-criminal-record certificate: none).
    assert.deepEqual(entries.map((e) => [e.counter, e.certs.map((c) => `${c.kind}:${c.keys}`)]), [
      [null, ["id-card:name"]],
      [COUNTER, [`${NCR}:result`]],
      [COUNTER, [`${NCR}:purpose,result`]],
    ]);
    assert.match(entries[0].who, /^(出示给柜台|Shown to a counter)$/);
    assert.match(entries[1].who, new RegExp(COUNTER));
    assert.match(entries[0].certs[0].text, /^(姓名|Name)$/);
    assert.ok(entries.every((e, i) => e.when && (i === 0 || e.time <= entries[i - 1].time)), "dated, newest first");
    const shown = await by(w, "history-list").innerText();
    for (const value of [WANG_FANG.name, WANG_FANG.id_number, RECORD.result, RECORD.checked_through, "Visa application"]) {
      assert.ok(!shown.includes(value), `no value in the history (${value})`);
    }

    // Sealed and stored with the wallet: still there after a reload.
    await w.reload();
    await walletScreen(w, "unlock");
    await by(w, "unlock-passphrase").fill(PASSPHRASE);
    await by(w, "unlock-submit").click();
    await walletScreen(w, "home");
    assert.deepEqual(await readHistory(), entries);

    // Cleared, after a confirmation.
    await by(w, "history-clear").click();
    await by(w, "history-clear-confirm").click();
    await by(w, "history-empty").waitFor();
    assert.match(await by(w, "history-notice").innerText(), /3/);
    assert.equal(await by(w, "history-entry").count(), 0);
    assert.equal(await by(w, "history-clear").isVisible(), false);
    assert.deepEqual(s.browser.problems.filter((p) => !/Failed to load resource|net::ERR_/.test(p)), []);
  });
});
