/**
 * The citizen's wallet app. Every rule and all cryptography come from the Rust core
 * (../core/pkg, through ../common/core.js); this file only moves data between the core,
 * the screen, IndexedDB and the network.
 *
 * Stored on the device (IndexedDB "ecert-wallet", ../common/store.js):
 *   wallet       the sealed wallet file (ECW1, Argon2id + XChaCha20-Poly1305): the holder
 *                key and the certificates, never anything unencrypted
 *   anchor       the trusted ledger's anchor file text (not secret)
 *   revocations  the last revocation state (Revocations.toBytes, checked again on load)
 *   freshness    the validators' freshness statements about its block (applied again on
 *                load: how current it is on a ledger with no new blocks)
 *   receipts     the anchor receipts of the last check, by batch root (checked again by
 *                the core each time they are shown)
 *   checkedAt, node   when and where the status was last checked
 *   registry     the ledger's list of departments and their keys (GET /v1/registry), kept only
 *                when the certified header of the revocation state commits to it (checked
 *                again on load): what a counter's request is checked against, offline
 *   servers      each department's server, where the wallet asks for new copies: { issuer id:
 *                "https://HOST:PORT" }, from the offer links collected or an address the
 *                citizen pasted (no certificate ids, no field values)
 *
 * Screens and controls for browser tests (data-testid):
 *   app (data-screen = the screen shown, data-locked = "true"/"false")
 *   back, lock, language, update-banner, update-apply, toast
 *   screen-welcome: welcome-create, welcome-restore, welcome-offer
 *   screen-create: create-passphrase, create-passphrase2, create-submit, create-error
 *   screen-unlock: unlock-passphrase, unlock-submit, unlock-error, unlock-restore
 *   screen-restore: restore-file, restore-passphrase, restore-new-passphrase,
 *     restore-new-passphrase2, restore-replace (when a wallet exists), restore-submit, restore-error
 *   screen-home: cert-list > cert-card (data-kind, data-id, data-status, data-revoked,
 *     data-anchored = "true"/"false"/"unknown"; a certificate issued as one-time copies:
 *     data-copies-left, data-copies, data-copies-low = "true"/"false", and inside it
 *     cert-copies, the words "copies left: N of M", and cert-copies-low, the notice to ask
 *     the department for new copies),
 *     cert-count, home-empty, home-notice, status-line, status-check, present-start,
 *     receive-start, history-start, more-start
 *   screen-cert: cert-head, cert-fields (cert-copies-left for one-time copies), cert-present,
 *     refill-box (when the core says `refillDue`: few copies left, or the older format) >
 *     refill-why, refill-server (the department's server, when known), refill-address-box >
 *     refill-address (the server's address, when not known), refill-ask ("Ask for new
 *     copies"), refill-change, refill-result (data-state = queued | received | nothing-new |
 *     refused | offline | unreachable | error; data-code = the error's code)
 *   screen-receive: receive-camera, receive-camera-error, receive-link, receive-submit,
 *     receive-file (certificate files, .ecp), receive-error
 *   screen-offer: offer-server, offer-code, offer-collect, offer-cancel, offer-error, offer-save
 *   screen-received: received-notes (received-replaced, received-not-newer), received-list >
 *     cert-card (data-replaced = "true" for a newer issue that replaced the one held),
 *     received-none, received-done
 *   screen-choose: choose-list > field-KIND-KEY checkboxes (field-KIND-2-KEY for a second
 *     certificate of a kind), choose-summary, choose-error, present-show, present-challenge,
 *     present-reuse-box > present-reuse-why, present-reuse-text, present-reuse (after
 *     no-copies-left: why no code is shown, and the offer to show the last copy again)
 *   screen-challenge: challenge-camera, challenge-input, challenge-submit, challenge-error
 *   screen-qr: qr-code (data-qr = the QR text, data-signed-at, data-copies-spent = the
 *     one-time copies this code used up when it was made; its renewals use none), qr-mode,
 *     qr-countdown (data-secs), qr-disclosing (li data-kind, data-copies-left), qr-notices >
 *     qr-notice (data-notice = reused | none | low; low and none: qr-refill, which opens the
 *     certificate to ask for new copies), qr-close
 *   screen-request (home: request-start): request-camera, request-camera-error, request-input
 *     (paste ECQ1:...), request-submit, request-error, request-status (go and check the status
 *     when the wallet does not know the ledger's departments yet)
 *   screen-answer: answer-who (the counter's name, role and department), answer-purpose,
 *     answer-list > answer-field-KIND-KEY checkboxes (ticked: shown; untick to decline),
 *     answer-not-shown-box > answer-not-shown > li (data-kind, data-reason = not-held |
 *     none-valid | audience | no-copies-left), answer-show, answer-error; the answer's QR code
 *     is screen-qr (qr-mode says which counter it answers; data-counter on qr-code)
 *   screen-history: history-count, history-list > history-entry (newest first; data-time =
 *     seconds since 1970, data-counter = the counter's registered name when it asked) >
 *     history-when, history-who, history-cert (data-kind, data-short-id) > history-fields
 *     (data-keys = the field keys shown, comma-separated; the labels as text, never values),
 *     history-more (older entries), history-full, history-empty, history-clear >
 *     history-clear-confirm-box > history-clear-confirm, history-clear-cancel; history-notice,
 *     history-error
 *   screen-more: show-id, refresh-start, backup-start, more-lock, forget-wallet, forget-confirm
 *   screen-id: wallet-id, wallet-id-qr, wallet-id-copy
 *   screen-status: anchor-current, anchor-change, anchor-text, anchor-file, anchor-scan,
 *     anchor-save, anchor-status, node-url, refresh-submit, refresh-error, refresh-result >
 *     refresh-row (data-kind, data-id, data-revoked, data-anchored, data-height = the block
 *     that anchored it)
 *   screen-backup: backup-passphrase, backup-passphrase2, backup-submit, backup-error, backup-done
 *
 * Flows: create = welcome-create → create-passphrase ×2 → create-submit → screen-home.
 * Collect an offer = open index.html#offer=<encoded offer URL> → (unlock) → screen-offer →
 * offer-collect → screen-received → received-done. Present = present-start → tick
 * field-id-card-name, field-id-card-id_number → present-show → screen-qr (a certificate of
 * one-time copies: its next copy is marked used and the wallet stored before the code is
 * shown; the code's renewals every 15 s show the same copy, `renew`). Every code made by
 * `present` or `answerRequest` is recorded in the wallet's history (`recorded`) and stored
 * before it is shown; renewals add nothing. History = history-start → screen-history →
 * history-clear → history-clear-confirm (sealed and stored, then empty). Restore =
 * welcome-restore (or unlock-restore) → restore-file, passphrases → restore-submit.
 * New copies = a card → screen-cert → refill-ask (refill-address first when the department's
 * server is not known) → refill-result: queued (ask again later) or received (the card
 * counts the new copies).
 */
import { loadCore, now } from "../common/core.js";
import { openStore, persistStorage } from "../common/store.js";
import { createI18n, languageButton } from "../common/i18n.js";
import { errorText } from "../common/errors.js";
import { QrScanner } from "../common/scanner.js";
import { registerShell } from "../common/pwa.js";
import { fetchBytes, postBytes, postForAnswer } from "../common/net.js";
import { MESSAGES } from "./strings.js";

/** Seconds between the live QR code's renewals (a counter accepts a code for 60 s). */
const LIVE_RENEW_SECS = 15;
/** Minutes without a touch after which the open wallet locks itself. */
const AUTO_LOCK_MINUTES = 5;
/** The screens that need the wallet open. */
const OPEN_SCREENS = new Set(["home", "cert", "receive", "offer", "received", "choose", "challenge",
  "more", "id", "status", "backup", "request", "answer", "history"]);
/** History entries drawn at first, and more each time older ones are asked for. */
const HISTORY_PAGE = 100;
/** The screens without a back button. */
const ROOT_SCREENS = new Set(["loading", "welcome", "unlock", "home", "received"]);

const i18n = createI18n(MESSAGES, { storageKey: "ecert-wallet.lang" });
const t = i18n.t;

const state = {
  core: null,
  kv: null,
  sealed: null, // the stored wallet file
  wallet: null, // the open wallet (core Wallet), null when locked
  passphrase: null, // while open: to seal the wallet again after a change
  anchor: null, // trusted ledger's anchor text
  revocations: null, // core Revocations
  registry: null, // core LedgerRegistry: the ledger's departments, for counters' requests
  registryNote: "", // what the last refresh did with the list of departments
  request: null, // the counter's request being answered (core RequestView)
  freshnessNote: "", // what the last refresh's freshness statements showed, when not a quorum
  checkedAt: null,
  node: "",
  offer: null, // { server, code, url, redeemUrl } waiting to be collected
  servers: {}, // issuer id -> its server (https://HOST:PORT), where new copies are asked for
  certId: null, // the certificate on the certificate screen
  collected: null, // bytes sent by the offer server that could not be added
  choice: new Map(), // certificate id -> Set of field keys (memory only)
  certs: [], // the last list(), for rendering
  revoked: new Map(), // certificate id -> true/false, from the last revocation state
  receipts: {}, // batch root (hex) -> anchor receipt bytes, from the last check
  anchorProblems: new Map(), // certificate id -> { code, text }: why the last check found no anchoring
  anchoring: new Map(), // certificate id -> { anchored, height, date } or { anchored: false, text }
  screen: "loading",
  history: [], // the screens to go back to
  historyShown: HISTORY_PAGE, // entries of the wallet's history of presentations drawn
  scanner: null,
  qr: null, // { nonce, presentation, copiesSpent, timer, renewAt, wakeLock }
  presenting: false, // a presentation being made and stored
  reuseNonce: null, // the challenge of the presentation refused for want of copies
  lockTimer: null,
};

// ---------------------------------------------------------------------------------------
// Little helpers

const $ = (testid, root = document) => root.querySelector(`[data-testid="${testid}"]`);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/**
 * Draws the passphrase fields marked up as
 * `<div class="field" data-passphrase="ID" data-label="KEY" data-autocomplete="…">` (and
 * optionally `data-minlength="N"`, `data-hint="KEY"`): the label (message KEY), the
 * required password input (id and data-testid ID) and the hint below it. Before
 * `i18n.apply`, which fills in the words.
 */
function drawPassphraseFields() {
  for (const field of document.querySelectorAll("[data-passphrase]")) {
    const { passphrase: id, label, autocomplete, minlength, hint } = field.dataset;
    const hintId = hint ? `${id}-hint` : null;
    field.append(...[
      el("label", { for: id, "data-i18n": label }),
      el("input", { id, type: "password", "data-testid": id, autocomplete, minlength, required: true,
        "aria-describedby": hintId }),
      hint ? el("span", { class: "hint", id: hintId, "data-i18n": hint }) : null,
    ].filter(Boolean));
  }
}

function showMessage(testid, text, kind = null) {
  const node = $(testid);
  if (!node) return;
  node.hidden = !text;
  node.textContent = text || "";
  if (kind) node.className = `notice notice-${kind}`;
}

function errorMessage(e) {
  console.warn(e);
  return errorText(e, i18n.lang);
}

/** Lets the browser paint (a busy button) before a long call into the core. */
const paint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** Runs `work` with `button` showing `label` and disabled; returns its result. */
async function busy(button, label, work) {
  const saved = button ? [...button.childNodes] : null;
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.replaceChildren(el("span", { class: "spinner", "aria-hidden": "true" }), label || t("working"));
  }
  try {
    await paint();
    return await work();
  } finally {
    if (button) {
      button.replaceChildren(...saved);
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
}

function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 3000);
}

function download(bytes, name) {
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

function kindName(c) {
  return i18n.pick(c.kindName, c.kindNameLocal);
}

function fieldLabel(f) {
  return i18n.pick(f.label ?? f.key ?? `#${f.number}`, f.labelLocal);
}

/** Whether a server address is this device (where plain http is not a risk). */
function isLoopback(server) {
  try {
    const host = new URL(server).hostname;
    return host === "localhost" || host === "[::1]" || /^127\./.test(host);
  } catch {
    return false;
  }
}

function groupHex(hex) {
  return hex.replace(/(.{4})(?=.)/g, "$1 ");
}

// ---------------------------------------------------------------------------------------
// Screens

function show(screen, { push = true, focus = true } = {}) {
  if (OPEN_SCREENS.has(screen) && !state.wallet) screen = state.sealed ? "unlock" : "welcome";
  const previous = state.screen;
  if (previous !== screen) leave(previous);
  // Going to a screen already on the way back is going back to it.
  const earlier = state.history.indexOf(screen);
  if (earlier >= 0) state.history.length = earlier;
  else if (push && previous !== screen && !ROOT_SCREENS.has(screen)) state.history.push(previous);
  if (ROOT_SCREENS.has(screen)) state.history = [];
  state.screen = screen;
  for (const section of document.querySelectorAll("main > .screen")) {
    section.hidden = section.dataset.testid !== `screen-${screen}`;
  }
  const app = $("app");
  app.dataset.screen = screen;
  app.dataset.locked = state.wallet ? "false" : "true";
  $("back").hidden = ROOT_SCREENS.has(screen);
  $("lock").hidden = !state.wallet;
  enter(screen);
  if (focus) {
    const heading = document.querySelector(`[data-testid="screen-${screen}"] h2`);
    heading?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  document.title = `${t("app.name")}`;
}

function back() {
  const target = state.history.pop() || (state.wallet ? "home" : state.sealed ? "unlock" : "welcome");
  show(target, { push: false });
}

/** What a screen starts without, each time it opens: its messages and its fields' text. */
const CLEARED_ON_ENTER = {
  unlock: { messages: ["unlock-error"], fields: ["unlock-passphrase"] },
  restore: { messages: ["restore-error"] },
  receive: { messages: ["receive-error"], fields: ["receive-link"] },
  challenge: { messages: ["challenge-error"], fields: ["challenge-input"] },
  request: { messages: ["request-error"], fields: ["request-input"] },
  backup: { messages: ["backup-error", "backup-done"], fields: ["backup-passphrase", "backup-passphrase2"] },
};

/** What a screen does when it opens. */
function enter(screen) {
  const { messages = [], fields = [] } = CLEARED_ON_ENTER[screen] ?? {};
  for (const testid of messages) showMessage(testid, "");
  for (const testid of fields) $(testid).value = "";
  switch (screen) {
    case "welcome":
      $("welcome-offer").hidden = !state.offer;
      break;
    case "unlock":
      $("unlock-offer").hidden = !state.offer;
      break;
    case "restore":
      $("restore-replace-row").hidden = !state.sealed;
      break;
    case "home":
      renderHome();
      break;
    case "receive":
      startScanner("receive-camera", "receive-camera-error", onOfferScanned);
      break;
    case "offer":
      renderOffer();
      break;
    case "choose":
      renderChoose();
      break;
    case "challenge":
      startScanner("challenge-camera", "challenge-camera-error", onChallengeScanned);
      break;
    case "request":
      $("request-status").hidden = true;
      startScanner("request-camera", "request-camera-error", onRequestText);
      break;
    case "answer":
      renderAnswer();
      break;
    case "history":
      state.historyShown = HISTORY_PAGE;
      $("history-clear-confirm-box").hidden = true;
      showMessage("history-notice", "");
      showMessage("history-error", "");
      renderHistory();
      break;
    case "more":
      $("forget-confirm-box").hidden = true;
      versionOf().then((v) => { $("app-version").textContent = t("more.version", { version: v || "dev" }); });
      break;
    case "id":
      renderId();
      break;
    case "status":
      renderStatus();
      break;
    default:
      break;
  }
}

/** What a screen stops when it closes. */
function leave(screen) {
  if (["receive", "challenge", "status", "request"].includes(screen)) stopScanner();
  if (screen === "home") showMessage("home-notice", "");
}

// ---------------------------------------------------------------------------------------
// Camera

function startScanner(cameraId, errorId, onText) {
  stopScanner();
  const box = $(cameraId);
  box.hidden = false;
  showMessage(errorId, "");
  const video = box.querySelector("video");
  const scanner = new QrScanner(video, {
    onText,
    workerUrl: new URL("./scan-worker.js", import.meta.url),
  });
  state.scanner = scanner;
  scanner.start().catch((e) => {
    if (state.scanner !== scanner) return;
    box.hidden = true;
    showMessage(errorId, errorMessage(e));
    stopScanner();
  });
}

function stopScanner() {
  state.scanner?.dispose();
  state.scanner = null;
}

// ---------------------------------------------------------------------------------------
// Storage

async function saveWallet() {
  const sealed = state.wallet.seal(state.passphrase, state.core.defaultKdf());
  await state.kv.set("wallet", sealed);
  state.sealed = sealed;
}

async function loadRevocations() {
  state.revocations?.free();
  state.revocations = null;
  const bytes = await state.kv.get("revocations");
  if (!bytes || !state.anchor) return;
  try {
    state.revocations = state.core.Revocations.fromBytes(bytes, state.anchor);
  } catch (e) {
    console.warn("the stored revocation state was dropped:", e);
    await state.kv.delete("revocations");
    return;
  }
  const freshness = await state.kv.get("freshness");
  if (!freshness) return;
  try {
    state.revocations.applyFreshness(freshness);
  } catch (e) {
    console.warn("the stored freshness statements were dropped:", e);
    await state.kv.delete("freshness");
  }
}

/** The kept list of departments, checked again against the kept revocation state's header. */
async function loadRegistry() {
  state.registry?.free();
  state.registry = null;
  const bytes = await state.kv.get("registry");
  if (!bytes || !state.revocations) return;
  try {
    state.registry = state.core.LedgerRegistry.check(bytes, state.revocations);
  } catch (e) {
    console.warn("the stored list of departments was dropped:", e);
    await state.kv.delete("registry");
  }
}

/**
 * The ledger's list of departments (`GET /v1/registry`), accepted by the core only if the
 * certified header of `revocations` commits to it (as `ecert-wallet refresh` keeps it);
 * when the node's is not, the one held is kept if that header commits to it. Resolves to
 * { bytes, registry, note }; bytes and registry null when none can be kept.
 */
async function fetchRegistry(node, revocations) {
  let why;
  try {
    const bytes = await fetchBytes(`${node}/v1/registry`);
    const registry = state.core.LedgerRegistry.check(bytes, revocations);
    return { bytes, registry, note: t("status.registry", registry.info()) };
  } catch (e) {
    why = errorMessage(e);
  }
  const held = await state.kv.get("registry");
  if (held) {
    try {
      const registry = state.core.LedgerRegistry.check(held, revocations);
      return { bytes: held, registry, note: t("status.registry", registry.info()) };
    } catch { /* another block's list: not kept */ }
  }
  return { bytes: null, registry: null, note: t("status.registryNot", { why }) };
}

/**
 * Fetches the validators' freshness statements about the block of `revocations`
 * (`GET /v1/freshness`) and has the core check and apply them. Resolves to the bytes to
 * keep (applied again on load), or null; `state.freshnessNote` says what they showed.
 */
async function fetchFreshness(node, revocations) {
  state.freshnessNote = "";
  let bytes;
  try {
    bytes = await fetchBytes(`${node}/v1/freshness`);
  } catch {
    return null; // a node without freshness statements, or none yet
  }
  try {
    revocations.applyFreshness(bytes);
    return bytes;
  } catch (e) {
    if (e.code === "freshness-not-confirmed") {
      state.freshnessNote = t("status.notFresh", { height: revocations.info().height });
    }
    return null;
  }
}

function updateRevoked() {
  state.revoked = new Map();
  if (!state.wallet || !state.revocations) return;
  for (const s of state.wallet.revocationStatus(state.revocations, now())) {
    state.revoked.set(s.certificate.id, s.revoked);
  }
}

/** Each certificate's anchoring: the stored receipts checked again by the core, and the
 * problems the last check found. */
function updateAnchoring() {
  state.anchoring = new Map();
  if (!state.wallet) return;
  for (const [id, problem] of state.anchorProblems) state.anchoring.set(id, { anchored: false, ...problem });
  if (!state.anchor) return;
  for (const [root, bytes] of Object.entries(state.receipts)) {
    let status;
    try {
      status = state.wallet.anchorStatus(bytes, state.anchor, now());
    } catch (e) {
      console.warn(`the stored anchor receipt of batch ${root} was dropped:`, e);
      continue;
    }
    for (const c of status.certificates) {
      state.anchoring.set(c.certificate.id, c.anchored
        ? { anchored: true, height: status.height, certifiedHeight: status.certifiedHeight, date: status.date }
        : { anchored: false, code: c.code, text: t("anchor.mismatch") });
    }
  }
}

/** What the node said about each batch of the wallet (`GET /v1/anchors/{root}`), checked by
 * the core: the receipts that passed, and the problems of the certificates without one. */
async function fetchAnchoring(node) {
  const receipts = {};
  const problems = new Map();
  for (const batch of state.wallet.batchRoots()) {
    let problem = null;
    if (!batch.root) {
      problem = { code: "anchor-proof-invalid", text: t("anchor.damaged") };
    } else {
      try {
        const bytes = await fetchBytes(`${node}/v1/anchors/${batch.root}`);
        state.wallet.anchorStatus(bytes, state.anchor, now());
        receipts[batch.root] = bytes;
      } catch (e) {
        const text = e?.code === "not-anchored" ? t("anchor.notAnchored")
          : e?.code === "not-certified-yet" ? t("anchor.notYet")
            : t("anchor.unknown", { why: errorMessage(e) });
        problem = { code: e?.code || "bad-answer", text };
      }
    }
    if (problem) for (const id of batch.certificates) problems.set(id, problem);
  }
  return { receipts, problems };
}

// ---------------------------------------------------------------------------------------
// Open, create, restore, lock

function opened(wallet, passphrase) {
  state.wallet?.free();
  state.wallet = wallet;
  state.passphrase = passphrase;
  state.choice = new Map();
  updateRevoked();
  updateAnchoring();
  armAutoLock();
  show(state.offer ? "offer" : "home");
}

function lock() {
  stopQr();
  stopScanner();
  state.wallet?.free();
  state.wallet = null;
  state.passphrase = null;
  state.choice = new Map();
  state.certs = [];
  clearTimeout(state.lockTimer);
  for (const input of document.querySelectorAll("input[type=password]")) input.value = "";
  show(state.sealed ? "unlock" : "welcome");
}

function armAutoLock() {
  clearTimeout(state.lockTimer);
  if (!state.wallet) return;
  state.lockTimer = setTimeout(() => {
    if (state.wallet && !state.qr) lock();
    else armAutoLock();
  }, AUTO_LOCK_MINUTES * 60 * 1000);
}

async function onCreate(event) {
  event.preventDefault();
  const pass = $("create-passphrase").value;
  if (pass !== $("create-passphrase2").value) {
    showMessage("create-error", t("create.mismatch"));
    return;
  }
  showMessage("create-error", "");
  await busy($("create-submit"), t("working"), async () => {
    const wallet = state.core.Wallet.create();
    try {
      const sealed = wallet.seal(pass, state.core.defaultKdf());
      await state.kv.set("wallet", sealed);
      state.sealed = sealed;
      persistStorage();
      $("create-passphrase").value = "";
      $("create-passphrase2").value = "";
      opened(wallet, pass);
    } catch (e) {
      wallet.free();
      showMessage("create-error", errorMessage(e));
    }
  });
}

async function onUnlock(event) {
  event.preventDefault();
  const pass = $("unlock-passphrase").value;
  showMessage("unlock-error", "");
  await busy($("unlock-submit"), t("working"), async () => {
    try {
      const started = performance.now();
      const wallet = state.core.Wallet.open(state.sealed, pass);
      $("app").dataset.unlockMs = String(Math.round(performance.now() - started));
      $("unlock-passphrase").value = "";
      opened(wallet, pass);
    } catch (e) {
      showMessage("unlock-error", errorMessage(e));
      $("unlock-passphrase").select();
    }
  });
}

async function onRestore(event) {
  event.preventDefault();
  const file = $("restore-file").files?.[0];
  const backupPass = $("restore-passphrase").value;
  const pass = $("restore-new-passphrase").value;
  if (!file) return showMessage("restore-error", t("restore.noFile"));
  if (pass !== $("restore-new-passphrase2").value) return showMessage("restore-error", t("create.mismatch"));
  if (state.sealed && !$("restore-replace").checked) return showMessage("restore-error", t("restore.replaceNeeded"));
  showMessage("restore-error", "");
  await busy($("restore-submit"), t("working"), async () => {
    let wallet = null;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      wallet = state.core.Wallet.open(bytes, backupPass);
      const sealed = wallet.seal(pass, state.core.defaultKdf());
      await state.kv.set("wallet", sealed);
      state.sealed = sealed;
      persistStorage();
      for (const id of ["restore-passphrase", "restore-new-passphrase", "restore-new-passphrase2"]) $(id).value = "";
      $("restore-file").value = "";
      $("restore-replace").checked = false;
      const count = wallet.count;
      opened(wallet, pass);
      wallet = null;
      if (state.screen === "home") showMessage("home-notice", t("restore.done", { count }), "ok");
    } catch (e) {
      wallet?.free();
      showMessage("restore-error", errorMessage(e));
    }
  });
}

async function onForget() {
  stopQr();
  state.wallet?.free();
  state.wallet = null;
  state.passphrase = null;
  state.sealed = null;
  state.receipts = {};
  state.anchorProblems = new Map();
  state.servers = {};
  await state.kv.delete("wallet");
  await state.kv.delete("receipts");
  await state.kv.delete("servers");
  show("welcome");
}

// ---------------------------------------------------------------------------------------
// Home and certificate cards

function statusOf(c) {
  const revoked = state.revoked.get(c.id);
  if (revoked) return { cls: "badge-bad", text: t("card.revoked"), key: "revoked" };
  if (c.status === "expired") return { cls: "badge-bad", text: t("card.expired", { date: i18n.date(c.expiresDate) }), key: "expired" };
  if (c.status === "not-yet-valid") return { cls: "badge-warn", text: t("card.notYet", { date: i18n.date(c.validFromDate) }), key: "not-yet-valid" };
  return { cls: "badge-ok", text: t("card.validUntil", { date: i18n.date(c.expiresDate) }), key: "valid" };
}

/** Simple pictures of the built-in kinds (decoration: the card names the kind in words). */
const KIND_ICONS = {
  "id-card": '<rect x="3" y="5" width="18" height="14" rx="2.5" fill="none" stroke="currentColor" stroke-width="2"/><circle cx="9" cy="11" r="2.2" fill="currentColor"/><path d="M5.8 16.5c.6-1.8 1.8-2.6 3.2-2.6s2.6.8 3.2 2.6" fill="currentColor"/><path d="M14 10h4.5M14 13.5h3.5" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>',
  "social-security-card": '<path d="M12 3l7.5 3v5.5c0 4.6-3.1 8.3-7.5 9.5-4.4-1.2-7.5-4.9-7.5-9.5V6z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path d="M12 16.5l-3.4-3.3a2.1 2.1 0 0 1 3-3l.4.4.4-.4a2.1 2.1 0 0 1 3 3z" fill="currentColor"/>',
  "driver-licence": '<path d="M5 15.5l1.6-5a2 2 0 0 1 1.9-1.4h7a2 2 0 0 1 1.9 1.4l1.6 5v3a1 1 0 0 1-1 1h-1.5a1 1 0 0 1-1-1v-1H8.5v1a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1z" fill="none" stroke="currentColor" stroke-width="1.9" stroke-linejoin="round"/><circle cx="8.3" cy="14.6" r="1.3" fill="currentColor"/><circle cx="15.7" cy="14.6" r="1.3" fill="currentColor"/>',
  "no-criminal-record": '<path d="M6 3h8.5L19 7.5V20a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path d="M8.5 13.5l2.5 2.5 4.5-5" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/>',
};
const GENERIC_ICON = '<rect x="5" y="3" width="14" height="18" rx="2" fill="none" stroke="currentColor" stroke-width="2"/><path d="M8.5 8h7M8.5 12h7M8.5 16h4" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>';

function kindIcon(kind) {
  const span = el("span", { class: "cert-kind", "aria-hidden": "true", dataset: { kind } });
  span.innerHTML = `<svg viewBox="0 0 24 24" width="28" height="28">${KIND_ICONS[kind] || GENERIC_ICON}</svg>`;
  return span;
}

/** A certificate's anchoring in words (never by colour alone), or null before any check. */
function anchoringOf(c) {
  const a = state.anchoring.get(c.id);
  if (!a) return null;
  if (a.anchored) return { cls: "badge-plain", text: t("card.anchored", { height: a.height }), detail: null, key: "true" };
  return { cls: "badge-warn", text: t("card.notAnchored"), detail: a.text, key: "false" };
}

/** Whether `c` was issued as one-time copies (its copies left are then counted). */
const hasCopies = (c) => typeof c.copiesLeft === "number";

/** The copies left of a certificate of one-time copies, in words, or null. */
function copiesBadge(c, key = "card.copies") {
  if (!hasCopies(c)) return null;
  const cls = c.copiesLeft === 0 ? "badge-bad" : c.copiesLow ? "badge-warn" : "badge-plain";
  return el("span", { class: `badge ${cls}`, dataset: { testid: "cert-copies" } },
    t(key, { left: c.copiesLeft, total: c.copies }));
}

/** What to do when few or no copies are left, or null. */
function copiesNotice(c) {
  if (!hasCopies(c) || !c.copiesLow) return null;
  return el("span", { class: "cert-copies-low small", dataset: { testid: "cert-copies-low" } },
    t(c.copiesLeft === 0 ? "card.copiesNone" : "card.copiesLow", { left: c.copiesLeft, issuer: c.issuer }));
}

function certCard(c, { onclick = null, compact = false, replaced = false } = {}) {
  const status = statusOf(c);
  const revoked = state.revoked.get(c.id);
  const anchoring = anchoringOf(c);
  const inner = [
    kindIcon(c.kind),
    el("span", { class: "cert-body" },
      el("span", { class: "cert-line" },
        el("span", { class: "cert-name" }, kindName(c)),
        i18n.zh || !c.kindNameLocal ? null : el("span", { class: "cert-local", lang: "zh-CN" }, c.kindNameLocal)),
      compact ? null : el("span", { class: "cert-issuer small muted" }, t("card.from", { issuer: c.issuer })),
      el("span", { class: "cert-badges" },
        el("span", { class: `badge ${status.cls}` }, status.text),
        revoked === false && status.key === "valid"
          ? el("span", { class: "badge badge-plain" }, t("card.notRevoked")) : null,
        anchoring ? el("span", { class: `badge ${anchoring.cls}`, title: anchoring.detail }, anchoring.text) : null,
        copiesBadge(c),
        replaced ? el("span", { class: "badge badge-ok" }, t("received.replaced")) : null,
        c.kindKnown ? null : el("span", { class: "badge badge-warn" }, t("card.unknownKind"))),
      copiesNotice(c)),
  ];
  const dataset = { testid: "cert-card", kind: c.kind, id: c.id, status: c.status, revoked: revoked === undefined ? "unknown" : String(revoked),
    anchored: anchoring ? anchoring.key : "unknown" };
  if (hasCopies(c)) Object.assign(dataset, { copiesLeft: String(c.copiesLeft), copies: String(c.copies), copiesLow: String(c.copiesLow) });
  if (replaced) dataset.replaced = "true";
  const attrs = { class: `card cert-card status-${status.key}`, dataset };
  if (onclick) return el("li", {}, el("button", { type: "button", ...attrs, onclick }, inner));
  return el("li", {}, el("div", attrs, inner));
}

function renderHome() {
  state.certs = state.wallet.list(now());
  updateRevoked();
  updateAnchoring();
  const list = $("cert-list");
  list.replaceChildren(...state.certs.map((c) => certCard(c, { onclick: () => openCert(c), compact: true })));
  $("home-empty").hidden = state.certs.length > 0;
  $("cert-count").textContent = state.certs.length ? t("home.count", { count: state.certs.length }) : "";
  $("present-start").hidden = state.certs.length === 0;
  const line = $("status-line");
  line.hidden = state.certs.length === 0;
  line.querySelector(".status-text").textContent = state.revocations && state.checkedAt
    ? t("home.status.checked", { when: i18n.dateTime(state.checkedAt), height: state.revocations.info().height })
    : t("home.status.never");
}

function openCert(c) {
  if (renderCert(c.id)) show("cert");
}

/** Draws the certificate screen for certificate `id`; false (and a toast) when it cannot. */
function renderCert(id) {
  let details;
  try {
    details = state.wallet.describe(id, now());
  } catch (e) {
    toast(errorMessage(e));
    return false;
  }
  const cert = details.certificate;
  state.certId = cert.id;
  $("cert-head").replaceChildren(certCard(cert).firstChild);
  // The offer to ask for new copies below says it all: no notice to open the certificate.
  if (cert.refillDue) $("cert-head").querySelector('[data-testid="cert-copies-low"]')?.remove();
  const dl = $("cert-fields");
  const rows = details.fields.map((f) => el("div", {},
    el("dt", {}, fieldLabel(f)),
    el("dd", { dataset: { key: f.key ?? "" }, class: /^[0-9a-f]{32,}$/i.test(f.text ?? "") ? "mono" : null },
      f.text ?? t("cert.notCarried"))));
  rows.push(
    el("div", {}, el("dt", {}, t("cert.valid")), el("dd", {}, t("cert.validRange", { from: i18n.date(cert.validFromDate), to: i18n.date(cert.expiresDate) }))),
    hasCopies(cert) ? el("div", {}, el("dt", {}, t("cert.copies")),
      el("dd", {},
        el("span", { dataset: { testid: "cert-copies-left" } }, t("cert.copiesLeft", { left: cert.copiesLeft, total: cert.copies })),
        el("span", { class: "copies-note small muted" }, t("cert.copiesText")))) : null,
    el("div", {}, el("dt", {}, t("cert.id")), el("dd", { class: "mono" }, cert.id)),
  );
  dl.replaceChildren(...rows.filter(Boolean));
  $("cert-present").onclick = () => {
    const keys = details.fields.filter((f) => f.key && f.text !== null).map((f) => f.key);
    state.choice = new Map([[cert.id, new Set(state.choice.get(cert.id) || [])]]);
    if (!state.choice.get(cert.id).size && keys.length) state.choice.get(cert.id).add(keys[0]);
    show("choose");
  };
  renderRefill(cert);
  return true;
}

// ---------------------------------------------------------------------------------------
// New copies from the department (docs/protocol.md §9b)

/**
 * The certificate screen's offer to ask for new copies: shown when the core says so
 * (`refillDue`: few copies left, or the older format, and not expired), with the
 * department's server when the wallet knows it, else a field for its address.
 */
function renderRefill(cert) {
  const box = $("refill-box");
  box.hidden = !cert.refillDue;
  refillResult(null);
  if (!cert.refillDue) return;
  const why = !hasCopies(cert) ? "refill.upgrade" : cert.copiesLeft === 0 ? "refill.none" : "refill.low";
  $("refill-why").textContent = t(why, { left: cert.copiesLeft, total: cert.copies, issuer: cert.issuer });
  const server = state.servers[cert.issuer] || null;
  $("refill-server").hidden = !server;
  $("refill-server").textContent = server ? t("refill.server", { server }) : "";
  $("refill-address-box").hidden = !!server;
  $("refill-address").value = "";
  $("refill-address-hint").textContent = t("refill.addressHint", { issuer: cert.issuer });
  $("refill-change").hidden = !server;
}

/** Says what asking for new copies gave: `outcome` (null: nothing to say), the error code, words. */
function refillResult(outcome, code = null, text = "") {
  const node = $("refill-result");
  const kind = { received: "ok", queued: "info", "nothing-new": "info", offline: "warn", unreachable: "warn" }[outcome] || "error";
  showMessage("refill-result", outcome ? text : "", kind);
  if (outcome) node.dataset.state = outcome;
  else delete node.dataset.state;
  if (code) node.dataset.code = code;
  else delete node.dataset.code;
}

/** Keeps `server` as the server of department `issuer` (where new copies are asked for). */
async function rememberServer(issuer, server) {
  if (state.servers[issuer] === server) return;
  state.servers = { ...state.servers, [issuer]: server };
  try {
    await state.kv.set("servers", state.servers);
  } catch (e) {
    console.warn("the department's server could not be stored:", e);
  }
}

/**
 * "Ask for new copies": the request, signed in the core, posted to the department's server.
 * 202: queued for the department's next batch (ask again later); 200: new copies, added by
 * the core in place of the ones held, and the wallet sealed and stored before they are
 * said to be there; otherwise the department's reason.
 */
async function onRefill() {
  const id = state.certId;
  if (!id || !state.wallet || $("refill-ask").disabled) return;
  let cert;
  try {
    cert = state.wallet.describe(id, now()).certificate;
  } catch (e) {
    refillResult("error", e?.code, errorMessage(e));
    return;
  }
  const typed = $("refill-address-box").hidden ? "" : $("refill-address").value.trim();
  let address;
  try {
    address = state.core.parseServerAddress(typed || state.servers[cert.issuer] || "");
  } catch (e) {
    $("refill-address-box").hidden = false;
    refillResult("error", e?.code, errorMessage(e));
    $("refill-address").focus();
    return;
  }
  refillResult(null);
  await busy($("refill-ask"), t("refill.asking"), async () => {
    let answer;
    try {
      const request = state.wallet.refillRequest(id, now());
      answer = await postForAnswer(address.refillUrl, request);
    } catch (e) {
      refillFailed(e, address.server);
      return;
    }
    // The department's own server answered: the wallet keeps where it is.
    await rememberServer(cert.issuer, address.server);
    if (answer.status === 202) {
      renderRefill(cert);
      refillResult("queued", null, t("refill.queued", { issuer: cert.issuer }));
      return;
    }
    if (answer.status !== 200 || !answer.bytes) {
      refillResult("error", "bad-answer", errorMessage("bad-answer"));
      return;
    }
    let report;
    try {
      report = state.wallet.receiveRefill(id, answer.bytes, now());
    } catch (e) {
      refillResult("error", e?.code, errorMessage(e));
      return;
    }
    try {
      // Stored even when nothing is new: copies received by an earlier tap whose storing failed.
      await saveWallet();
    } catch (e) {
      refillResult("error", e?.code, t("refill.notSaved", { why: errorMessage(e) }));
      return;
    }
    const fresh = report.added.find((c) => c.id === id);
    renderCert(id);
    if (!fresh) {
      refillResult("nothing-new", null, t("refill.nothingNew"));
      return;
    }
    $("refill-box").hidden = false; // the result stays in view, even when no more are due
    refillResult("received", null, t(hasCopies(cert) ? "refill.received" : "refill.upgraded",
      { left: fresh.copiesLeft, total: fresh.copies }));
  });
}

/** Why asking for new copies failed, in words: offline, unreachable, or the department's reason. */
function refillFailed(e, server) {
  if (e?.code === "network") {
    const offline = navigator.onLine === false;
    refillResult(offline ? "offline" : "unreachable", "network",
      t(offline ? "refill.offline" : "refill.unreachable", { server }));
  } else if (typeof e?.status === "number") {
    const text = e.status >= 500 ? t("refill.serverFault") : t("refill.refused", { why: errorMessage(e) });
    refillResult("refused", e.code, text);
  } else {
    refillResult("error", e?.code, errorMessage(e));
  }
}

// ---------------------------------------------------------------------------------------
// Receiving: offer links from the URL, the camera or a paste

function takeOfferFromUrl() {
  const hash = location.hash.replace(/^#/, "");
  if (!hash) return;
  const params = new URLSearchParams(hash);
  const link = params.get("offer");
  if (!link) return;
  history.replaceState(null, "", location.pathname + location.search);
  try {
    state.offer = state.core.parseOfferLink(link);
  } catch (e) {
    state.offer = null;
    state.offerError = errorMessage(e);
  }
}

function readOffer(text) {
  state.offer = state.core.parseOfferLink(text);
  state.collected = null;
  show("offer");
}

function onOfferScanned(text) {
  try {
    readOffer(text);
  } catch (e) {
    showMessage("receive-error", errorMessage(e));
  }
}

function onReceiveSubmit(event) {
  event.preventDefault();
  const text = $("receive-link").value.trim();
  if (!text) return;
  try {
    readOffer(text);
  } catch (e) {
    showMessage("receive-error", errorMessage(e));
  }
}

async function onReceiveFiles(event) {
  const files = [...(event.target.files || [])];
  event.target.value = "";
  if (!files.length) return;
  showMessage("receive-error", "");
  try {
    const packages = await Promise.all(files.map(async (f) => new Uint8Array(await f.arrayBuffer())));
    const report = state.wallet.receive(packages, now());
    if (report.added.length) await saveWallet();
    renderReceived(report);
    show("received");
  } catch (e) {
    const which = typeof e?.position === "number" && files[e.position] ? `${files[e.position].name}: ` : "";
    showMessage("receive-error", which + errorMessage(e));
  }
}

function renderOffer() {
  const offer = state.offer;
  $("offer-server").textContent = offer?.server ?? "";
  $("offer-code").textContent = offer?.code ?? "";
  $("offer-insecure").hidden = !offer || !offer.server.startsWith("http:") || isLoopback(offer.server);
  showMessage("offer-error", "");
  $("offer-saved").hidden = !state.collected;
  $("offer-collect").hidden = !offer;
}

async function onCollect() {
  const offer = state.offer;
  if (!offer) return;
  showMessage("offer-error", "");
  await busy($("offer-collect"), t("offer.collecting"), async () => {
    let bytes;
    try {
      const request = state.wallet.redeemRequest(offer.code);
      bytes = await postBytes(offer.redeemUrl, request);
    } catch (e) {
      showMessage("offer-error", errorMessage(e));
      return;
    }
    // The offer is used up now: what cannot be added is offered as a file.
    let report;
    try {
      report = state.wallet.receive([bytes], now());
      if (report.added.length) await saveWallet();
    } catch (e) {
      state.collected = { bytes, code: offer.code };
      $("offer-saved").hidden = false;
      $("offer-collect").hidden = true;
      showMessage("offer-error", errorMessage(e));
      return;
    }
    state.offer = null;
    // The department that issued it serves its new copies there too.
    for (const issuer of new Set(report.added.map((c) => c.issuer))) await rememberServer(issuer, offer.server);
    renderReceived(report);
    show("received");
  });
}

function renderReceived(report) {
  updateRevoked();
  const replaced = report.replaced?.length ?? 0;
  const notNewer = report.notNewer?.length ?? 0;
  $("received-notes").replaceChildren(...[
    replaced ? el("p", { class: "notice notice-info", dataset: { testid: "received-replaced" } },
      t("received.replacedNote", { count: replaced })) : null,
    notNewer ? el("p", { class: "notice notice-warn", dataset: { testid: "received-not-newer" } },
      t("received.notNewer", { count: notNewer })) : null,
  ].filter(Boolean));
  $("received-list").replaceChildren(...report.added.map((c) => certCard(c, { replaced: report.replacedAt.includes(c.index) })));
  $("received-none").hidden = report.added.length > 0;
}

// ---------------------------------------------------------------------------------------
// Choosing what to show

function renderChoose() {
  state.certs = state.wallet.list(now());
  const kinds = new Map(state.core.kinds().map((k) => [k.id, k]));
  const seen = new Map();
  const groups = [];
  for (const c of state.certs) {
    if (!c.kindKnown) continue;
    const n = (seen.get(c.kind) || 0) + 1;
    seen.set(c.kind, n);
    let details;
    try {
      details = state.wallet.describe(c.id, now());
    } catch {
      continue;
    }
    const chosen = state.choice.get(c.id) || new Set();
    const prefix = n === 1 ? `field-${c.kind}` : `field-${c.kind}-${n}`;
    const fields = details.fields.filter((f) => f.key && f.text !== null && kinds.get(c.kind));
    const status = statusOf(c);
    groups.push(el("fieldset", { class: "card choose-cert", dataset: { kind: c.kind, id: c.id } },
      el("legend", {}, el("span", { class: "cert-name" }, kindName(c)),
        el("span", { class: `badge ${status.cls}` }, status.text),
        copiesBadge(c, "choose.copies")),
      ...fields.map((f) => el("label", { class: "check" },
        el("input", {
          type: "checkbox",
          checked: chosen.has(f.key),
          dataset: { testid: `${prefix}-${f.key}`, cert: c.id, key: f.key },
          onchange: onChoiceChange,
        }),
        el("span", { class: "choose-label" }, el("span", {}, fieldLabel(f)),
          el("span", { class: "choose-value small muted" }, f.text))))));
  }
  const list = $("choose-list");
  list.replaceChildren(...groups);
  if (!groups.length) list.append(el("p", { class: "notice notice-info" }, t("choose.noCerts")));
  showMessage("choose-error", "");
  hideReuse();
  renderChoiceSummary();
}

function onChoiceChange(event) {
  const { cert, key } = event.target.dataset;
  const set = state.choice.get(cert) || new Set();
  if (event.target.checked) set.add(key);
  else set.delete(key);
  if (set.size) state.choice.set(cert, set);
  else state.choice.delete(cert);
  showMessage("choose-error", "");
  hideReuse();
  renderChoiceSummary();
}

function chosenLabels() {
  const items = [];
  for (const input of $("choose-list").querySelectorAll("input[type=checkbox]:checked")) {
    items.push(input.closest("label").querySelector(".choose-label > span").textContent);
  }
  return items;
}

function renderChoiceSummary() {
  const items = chosenLabels();
  const sep = i18n.zh ? "、" : ", ";
  $("choose-summary").textContent = items.length ? t("choose.summary", { items: items.join(sep) }) : t("choose.none");
  $("present-show").disabled = items.length === 0;
  $("present-challenge").disabled = items.length === 0;
}

function currentChoices() {
  const choices = [];
  for (const c of state.certs) {
    const set = state.choice.get(c.id);
    if (!set?.size) continue;
    choices.push({ certificate: c.id, fields: [...set] });
  }
  return choices;
}

// ---------------------------------------------------------------------------------------
// The QR code, full screen

/**
 * Makes a presentation of the chosen fields and shows it: `nonce`, the counter's challenge
 * (challenge mode); `reuse`, the citizen's choice to show the last copy of a certificate
 * with no copy left again. The core records the presentation in the wallet's history and
 * marks the one-time copies it shows used: the wallet is sealed and stored before the code
 * is shown, so that no code leaves the wallet unrecorded and a copy is never shown twice,
 * even if the page dies right after. Nothing is shown when that fails.
 */
async function startQr(nonce = null, { reuse = false } = {}) {
  if (state.presenting) return;
  const choices = currentChoices();
  if (!choices.length) {
    showMessage("choose-error", t("choose.none"));
    return;
  }
  const fromChallenge = state.screen === "challenge";
  const errorId = fromChallenge ? "challenge-error" : "choose-error";
  const button = fromChallenge ? $("challenge-submit") : $(reuse ? "present-reuse" : "present-show");
  showMessage(errorId, "");
  hideReuse();
  stopQr();
  state.presenting = true;
  try {
    await busy(button, t("working"), async () => {
      let p;
      try {
        p = state.wallet.present(choices, now(), nonce, reuse);
      } catch (e) {
        presentRefused(e, nonce, errorId);
        return;
      }
      if (p.copiesSpent > 0 || p.recorded) {
        try {
          await saveWallet();
        } catch (e) {
          showMessage(errorId, t("qr.notSaved", { why: errorMessage(e) }));
          return;
        }
      }
      openQr(p, nonce);
    });
  } finally {
    state.presenting = false;
  }
}

/** Why a presentation was refused; for want of copies, the offer to show the last one again. */
function presentRefused(e, nonce, errorId) {
  if (e?.code !== "no-copies-left") {
    showMessage(errorId, errorMessage(e));
    return;
  }
  if (state.screen !== "choose") show("choose", { push: false });
  // Said above the buttons, where there is room for it and for the choice that follows.
  $("present-reuse-why").textContent = errorMessage(e);
  const chosen = new Set(currentChoices().map((c) => c.certificate));
  const spent = state.wallet.list(now()).filter((c) => chosen.has(c.id) && c.copiesLeft === 0);
  // Offered, never done by itself: a copy shown again lets the counters link the presentations.
  state.reuseNonce = nonce;
  $("present-reuse-text").textContent = t("choose.reuseText", {
    certs: spent.map(kindName).join(i18n.zh ? "、" : ", ") || t("cert.title"),
  });
  $("present-reuse-box").hidden = false;
  $("present-reuse-box").scrollIntoView({ block: "start" });
}

function hideReuse() {
  $("present-reuse-box").hidden = true;
  state.reuseNonce = null;
}

/** Opens the full-screen layer with presentation `p`. */
function openQr(p, nonce, { counter = null } = {}) {
  state.qr = { nonce, counter, presentation: p, copiesSpent: p.copiesSpent, timer: null, renewAt: 0, wakeLock: null };
  drawQr(p);
  state.qr.renewAt = Date.now() + LIVE_RENEW_SECS * 1000;
  tickQr();
  stopScanner();
  const layer = $("screen-qr");
  layer.hidden = false;
  $("app").dataset.qr = "shown";
  document.body.classList.add("qr-open");
  layer.querySelector(".qr-close").focus();
  state.qr.timer = setInterval(tickQr, 250);
  navigator.wakeLock?.request("screen").then((lockObj) => {
    if (state.qr) state.qr.wakeLock = lockObj;
    else lockObj.release();
  }).catch(() => {});
}

/** Draws presentation `p` (a new one or a renewal) in the layer, in the current language. */
function drawQr(p) {
  const q = state.qr;
  q.presentation = p;
  const box = $("qr-code");
  box.innerHTML = p.svg; // drawn by the core from the QR string: no outside markup
  box.dataset.qr = p.qr;
  box.dataset.signedAt = String(p.signedAt);
  box.dataset.copiesSpent = String(q.copiesSpent);
  const sep = i18n.zh ? "、" : ", ";
  const items = p.disclosing.flatMap((d) => d.fields.map((f) => i18n.pick(f.label, f.labelLocal)));
  box.setAttribute("aria-label", t("qr.aria", { items: items.join(sep) }));
  if (q.counter) box.dataset.counter = q.counter;
  else delete box.dataset.counter;
  $("qr-mode").textContent = q.counter ? t("qr.answer", { counter: q.counter })
    : q.nonce ? t("qr.challenge", { code: groupHex(q.nonce) }) : t("qr.live");
  $("qr-disclosing").replaceChildren(...p.disclosing.map((d) => {
    const c = d.certificate;
    return el("li", { dataset: hasCopies(c) ? { kind: c.kind, copiesLeft: String(c.copiesLeft) } : { kind: c.kind } },
      el("strong", {}, kindName(c)), i18n.zh ? "：" : ": ",
      d.fields.map((f) => i18n.pick(f.label, f.labelLocal)).join(sep),
      hasCopies(c) ? el("span", { class: "qr-copies small muted" }, t("qr.copies", { left: c.copiesLeft, total: c.copies })) : null);
  }));
  const notices = [];
  for (const d of p.disclosing) {
    const c = d.certificate;
    const words = { cert: kindName(c), left: c.copiesLeft, issuer: c.issuer };
    const notice = d.reusedCopy ? "reused" : !hasCopies(c) ? null : c.copiesLeft === 0 ? "none" : c.copiesLow ? "low" : null;
    if (notice) {
      const refill = (notice === "low" || notice === "none") && c.refillDue
        ? el("button", { type: "button", class: "btn btn-small", dataset: { testid: "qr-refill", id: c.id },
          onclick: () => refillFromQr(c.id) }, t("qr.refill"))
        : null;
      notices.push(el("p", { class: "notice notice-warn small", dataset: { testid: "qr-notice", notice } },
        t(`qr.${notice}`, words), refill ? " " : null, refill));
    }
  }
  $("qr-notices").replaceChildren(...notices);
}

/**
 * The live code's renewal: the same presentation signed again (`renew`: the same copies,
 * none used up). Never `present` here, which would use another copy at every renewal.
 */
function renewQr() {
  const q = state.qr;
  try {
    drawQr(state.wallet.renew(now()));
  } catch (e) {
    closeQr();
    toast(t("qr.renewFailed", { why: errorMessage(e) }));
    return false;
  }
  q.renewAt = Date.now() + LIVE_RENEW_SECS * 1000;
  return true;
}

function tickQr() {
  const q = state.qr;
  if (!q) return;
  if (Date.now() >= q.renewAt && !renewQr()) return;
  const left = Math.max(1, Math.ceil((q.renewAt - Date.now()) / 1000));
  const countdown = $("qr-countdown");
  countdown.dataset.secs = String(left);
  countdown.querySelector(".countdown-text").textContent = t("qr.renews", { secs: left });
  countdown.querySelector(".countdown-bar > span").style.width = `${(100 * left) / LIVE_RENEW_SECS}%`;
}

function stopQr() {
  const q = state.qr;
  if (!q) return;
  clearInterval(q.timer);
  q.wakeLock?.release().catch(() => {});
  state.qr = null;
  const layer = $("screen-qr");
  layer.hidden = true;
  $("qr-code").replaceChildren();
  $("qr-notices").replaceChildren();
  delete $("qr-code").dataset.qr;
  delete $("qr-code").dataset.counter;
  delete $("app").dataset.qr;
  document.body.classList.remove("qr-open");
}

function closeQr() {
  const wasAnswer = !!state.qr?.counter;
  const wasChallenge = !!state.qr?.nonce && !wasAnswer;
  stopQr();
  armAutoLock();
  if (wasAnswer) show("home");
  if (wasChallenge) show("choose", { push: false });
  $(state.screen === "choose" ? "present-show" : "present-start")?.focus();
}

/** From the QR screen's notice: closes the code and opens certificate `id` to ask for new copies. */
function refillFromQr(id) {
  stopQr();
  armAutoLock();
  if (renderCert(id)) show("cert");
  $("refill-box").scrollIntoView({ block: "center" });
  $("refill-ask").focus({ preventScroll: true });
}

function acceptChallenge(text) {
  const nonce = text.replace(/\s+/g, "").toUpperCase();
  startQr(nonce);
}

function onChallengeScanned(text) {
  if (text.trim().startsWith("ECQ1:")) {
    // A counter that asks shows a request, not a challenge.
    show("request");
    onRequestText(text);
    return;
  }
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{2,64}$/.test(hex)) {
    showMessage("challenge-error", errorText("bad-argument", i18n.lang));
    return;
  }
  acceptChallenge(hex);
}

function onChallengeSubmit(event) {
  event.preventDefault();
  const text = $("challenge-input").value;
  if (!text.trim()) return;
  acceptChallenge(text);
}

// ---------------------------------------------------------------------------------------
// Counters that ask: a request read, checked against the ledger's departments, answered

/** A counter's request (scanned or pasted): checked by the core, then who asks and what. */
function onRequestText(text) {
  if (state.screen !== "request") return;
  showMessage("request-error", "");
  if (!state.registry) {
    // The wallet cannot tell a registered counter from any other without the list.
    showMessage("request-error", t("request.noRegistry"));
    $("request-status").hidden = false;
    return;
  }
  let view;
  try {
    view = state.wallet.readRequest(text.trim(), state.registry, now());
  } catch (e) {
    showMessage("request-error", requestRefusal(e));
    if (e?.code === "registration-unknown-department") $("request-status").hidden = false;
    return;
  }
  stopScanner();
  state.request = view;
  show("answer");
}

/** Why a request is not answered: in words, and the core's details. */
function requestRefusal(e) {
  const words = errorMessage(e);
  const detail = e?.message && e.message !== words ? ` (${e.message})` : "";
  return `${t("request.refused")} ${words}${detail}`;
}

function renderAnswer() {
  const r = state.request;
  if (!r) {
    show("home");
    return;
  }
  const name = r.counterLocal ? (i18n.zh ? `${r.counterLocal}（${r.counter}）` : `${r.counter} (${r.counterLocal})`) : r.counter;
  $("answer-who").replaceChildren(
    el("p", { class: "answer-counter", dataset: { counter: r.counter } }, el("strong", {}, name)),
    el("p", { class: "small" }, t("answer.registered", { department: r.departmentName, id: r.department, role: r.role })),
  );
  $("answer-purpose").textContent = t("answer.purpose", { purpose: r.purpose });
  const sep = i18n.zh ? "、" : ", ";
  const shown = r.asks.filter((a) => a.certificate);
  $("answer-list").replaceChildren(...shown.map((a) => el("fieldset", { class: "card choose-cert", dataset: { kind: a.kind } },
    el("legend", {}, el("span", { class: "cert-name" }, kindName(a.certificate)), copiesBadge(a.certificate, "choose.copies")),
    ...a.fields.map((f) => el("label", { class: "check" },
      el("input", { type: "checkbox", checked: true, dataset: { testid: `answer-field-${a.kind}-${f.key}`, kind: a.kind, key: f.key } }),
      el("span", { class: "choose-label" }, el("span", {}, fieldLabel(f))))))));
  const notShown = r.asks.filter((a) => !a.certificate);
  $("answer-not-shown-box").hidden = notShown.length === 0;
  $("answer-not-shown").replaceChildren(...notShown.map((a) => el("li", {
    class: "notice notice-warn", dataset: { kind: a.kind, reason: a.notShown || "" },
  }, el("strong", {}, i18n.pick(a.kindName, a.kindNameLocal)), i18n.zh ? "：" : ": ",
  t(`answer.why.${a.notShown}`, { roles: a.roles.join(sep), role: r.role }))));
  $("answer-show").hidden = shown.length === 0;
  showMessage("answer-error", shown.length ? "" : t("answer.nothing"), "error");
}

/**
 * Answers the request with what is ticked: the core signs exactly the fields asked less
 * those declined, bound to the request, records the counter's name in the wallet's history
 * and marks one-time copies used; the wallet is sealed and stored before the code is shown,
 * and no code is shown when that fails.
 */
async function onAnswerShow() {
  if (state.presenting || !state.request) return;
  const declined = [];
  for (const input of $("answer-list").querySelectorAll("input[type=checkbox]:not(:checked)")) {
    const { kind, key } = input.dataset;
    let d = declined.find((x) => x.kind === kind);
    if (!d) declined.push(d = { kind, fields: [] });
    d.fields.push(key);
  }
  showMessage("answer-error", "");
  const counter = state.request.counter;
  state.presenting = true;
  try {
    await busy($("answer-show"), t("working"), async () => {
      let p;
      try {
        p = state.wallet.answerRequest(declined, now());
      } catch (e) {
        showMessage("answer-error", errorMessage(e), "error");
        return;
      }
      try {
        await saveWallet();
      } catch (e) {
        showMessage("answer-error", t("qr.notSaved", { why: errorMessage(e) }), "error");
        return;
      }
      state.request = null;
      openQr(p, p.nonce, { counter });
    });
  } finally {
    state.presenting = false;
  }
}

// ---------------------------------------------------------------------------------------
// The history of presentations

/**
 * Draws the wallet's history (the core's `history()`: newest first, the labels of the
 * fields shown, never their values): for each presentation the local date and time, the
 * counter's registered name when it asked (otherwise "a counter"), and per certificate its
 * kind, short id and the items shown.
 */
function renderHistory() {
  const { entries, full } = state.wallet.history();
  const sep = i18n.zh ? "、" : ", ";
  $("history-count").textContent = entries.length ? t("history.count", { count: entries.length }) : "";
  $("history-empty").hidden = entries.length > 0;
  $("history-clear-box").hidden = entries.length === 0;
  $("history-full").hidden = !full;
  const items = entries.slice(0, state.historyShown).map((e) => el("li",
    { class: "card history-entry", dataset: { testid: "history-entry", time: String(e.time), ...(e.counter ? { counter: e.counter } : {}) } },
    el("p", { class: "history-when", dataset: { testid: "history-when" } },
      el("time", { datetime: new Date(e.time * 1000).toISOString() }, i18n.dateTime(e.time))),
    el("p", { class: "history-who", dataset: { testid: "history-who" } },
      e.counter ? t("history.counter", { counter: e.counter }) : t("history.anyCounter"),
      e.challenge && !e.counter ? el("span", { class: "small muted" }, " ", t("history.challenge", { code: groupHex(e.challenge) })) : null),
    el("ul", { class: "history-certs" }, e.certificates.map((c) => el("li",
      { dataset: { testid: "history-cert", kind: c.kind, shortId: c.shortId } },
      el("span", { class: "cert-line" }, el("strong", {}, kindName(c)), el("span", { class: "mono small muted" }, c.shortId)),
      el("span", { class: "history-fields", dataset: { testid: "history-fields", keys: c.fields.map((f) => f.key).join(",") } },
        c.fields.length ? c.fields.map(fieldLabel).join(sep) : t("history.noFields")))))));
  if (entries.length > state.historyShown) {
    items.push(el("li", {}, el("button", { type: "button", class: "btn btn-block", dataset: { testid: "history-more" },
      onclick: () => { state.historyShown += HISTORY_PAGE; renderHistory(); } },
    t("history.more", { count: entries.length - state.historyShown }))));
  }
  $("history-list").replaceChildren(...items);
}

/**
 * Clears the history, as `ecert-wallet history --clear`: the core deletes it from the open
 * wallet, which is sealed and stored. When that fails, the wallet stored (with its history)
 * is opened again, so that what is shown is what is kept.
 */
async function onClearHistory() {
  showMessage("history-error", "");
  await busy($("history-clear-confirm"), t("saving"), async () => {
    const count = state.wallet.clearHistory();
    try {
      await saveWallet();
    } catch (e) {
      try {
        const kept = state.core.Wallet.open(state.sealed, state.passphrase);
        state.wallet.free();
        state.wallet = kept;
      } catch { /* the open wallet stays as it is */ }
      showMessage("history-error", t("history.notCleared", { why: errorMessage(e) }));
      return;
    }
    $("history-clear-confirm-box").hidden = true;
    renderHistory();
    showMessage("history-notice", t("history.cleared", { count }), "ok");
  });
}

// ---------------------------------------------------------------------------------------
// Wallet ID

function renderId() {
  const id = state.wallet.id;
  $("wallet-id").textContent = groupHex(id);
  $("wallet-id").dataset.id = id;
  const box = $("wallet-id-qr");
  box.innerHTML = state.core.qrSvg(id);
  box.setAttribute("aria-label", id);
}

async function copyId() {
  try {
    await navigator.clipboard.writeText(state.wallet.id);
    toast(t("id.copied"));
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("wallet-id"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
  }
}

// ---------------------------------------------------------------------------------------
// Trusted ledger and status

function defaultNode() {
  return location.origin;
}

function renderStatus() {
  stopScanner();
  $("anchor-camera").hidden = true;
  $("node-url").value = state.node || "";
  $("node-url").placeholder = defaultNode();
  showMessage("refresh-error", "");
  showMessage("anchor-status", "");
  $("anchor-differs").hidden = true;
  $("anchor-text").value = "";
  renderAnchor(false);
  renderRefreshResult();
}

function renderAnchor(editing) {
  let info = null;
  if (state.anchor) {
    try {
      info = state.core.anchorInfo(state.anchor);
    } catch { /* shown as none */ }
  }
  $("anchor-current-row").hidden = !info;
  $("anchor-form").hidden = !!info && !editing;
  $("anchor-none").hidden = !!info;
  $("anchor-current").textContent = info ? t("status.anchorIs", { chain: info.chainId, hash: info.shortHash }) : "";
  $("anchor-save").textContent = t("status.anchorSave");
  $("anchor-save").dataset.replace = "";
}

async function onAnchorText(text, { fromScan = false } = {}) {
  let info;
  try {
    info = state.core.anchorInfo(text);
  } catch (e) {
    showMessage("anchor-status", errorMessage(e), "error");
    return;
  }
  if (fromScan) {
    stopScanner();
    $("anchor-camera").hidden = true;
    $("anchor-text").value = text.trim();
  }
  const current = state.anchor ? state.core.anchorInfo(state.anchor) : null;
  const differs = current && (current.chainId !== info.chainId || current.validatorsHash !== info.validatorsHash);
  if (differs && $("anchor-save").dataset.replace !== "yes") {
    $("anchor-differs").hidden = false;
    $("anchor-save").textContent = t("status.anchorReplace");
    $("anchor-save").dataset.replace = "yes";
    return;
  }
  if (differs || !current) {
    await state.kv.setMany({ anchor: info.text });
    await state.kv.delete("revocations");
    await state.kv.delete("freshness");
    await state.kv.delete("receipts");
    await state.kv.delete("registry");
    state.registry?.free();
    state.registry = null;
    state.registryNote = "";
    state.revocations?.free();
    state.revocations = null;
    state.checkedAt = null;
    state.revoked = new Map();
    state.receipts = {};
    state.anchorProblems = new Map();
    state.anchoring = new Map();
  }
  state.anchor = info.text;
  $("anchor-differs").hidden = true;
  renderAnchor(false);
  showMessage("anchor-status", t("status.anchorSaved", { chain: info.chainId }), "ok");
}

async function onAnchorFile(event) {
  const file = event.target.files?.[0];
  if (!file) return;
  $("anchor-text").value = (await file.text()).trim();
  event.target.value = "";
}

function onAnchorScan() {
  $("anchor-camera").hidden = false;
  startScanner("anchor-camera", "anchor-status", (text) => onAnchorText(text, { fromScan: true }));
}

function nodeBase() {
  const typed = $("node-url").value.trim().replace(/\/+$/, "");
  return typed || defaultNode();
}

async function onRefresh() {
  showMessage("refresh-error", "");
  if (!state.anchor) {
    showMessage("refresh-error", t("status.needAnchor"));
    return;
  }
  const node = nodeBase();
  let url;
  try {
    url = new URL(node);
    if (!/^https?:$/.test(url.protocol)) throw new Error(node);
  } catch {
    showMessage("refresh-error", errorText("bad-argument", i18n.lang));
    return;
  }
  await busy($("refresh-submit"), t("working"), async () => {
    const since = state.revocations ? state.revocations.info().height : 0;
    let next;
    try {
      const delta = await fetchBytes(`${node}/v1/revocations?since=${since}`);
      next = state.revocations
        ? state.revocations.update(delta, state.anchor)
        : state.core.Revocations.fromDelta(delta, state.anchor);
    } catch (e) {
      const text = e?.code === "not-certified-yet" && since > 0 ? t("status.behind") : errorMessage(e);
      showMessage("refresh-error", `${text}${e?.code === "network" ? ` (${node})` : ""}`);
      return;
    }
    let anchoring;
    try {
      anchoring = await fetchAnchoring(node);
    } catch (e) {
      next.free();
      showMessage("refresh-error", `${errorMessage(e)}${e?.code === "network" ? ` (${node})` : ""}`);
      return;
    }
    const freshness = await fetchFreshness(node, next);
    const registry = await fetchRegistry(node, next);
    state.registry?.free();
    state.registry = registry.registry;
    state.registryNote = registry.note;
    if (registry.bytes) await state.kv.set("registry", registry.bytes);
    else await state.kv.delete("registry");
    state.revocations?.free();
    state.revocations = next;
    state.checkedAt = now();
    state.node = $("node-url").value.trim();
    state.receipts = anchoring.receipts;
    state.anchorProblems = anchoring.problems;
    await state.kv.setMany({
      revocations: next.toBytes(), receipts: state.receipts, checkedAt: state.checkedAt, node: state.node,
    });
    if (freshness) await state.kv.set("freshness", freshness);
    else await state.kv.delete("freshness");
    updateRevoked();
    updateAnchoring();
    renderRefreshResult();
    $("refresh-result").scrollIntoView({ block: "start" });
  });
}

function renderRefreshResult() {
  const box = $("refresh-result");
  if (!state.revocations || !state.wallet) {
    box.hidden = true;
    return;
  }
  const info = state.revocations.info();
  const statuses = state.wallet.revocationStatus(state.revocations, now());
  box.hidden = false;
  box.replaceChildren(
    el("p", { class: "small muted", dataset: { testid: "refresh-as-of" } },
      t("status.result", { height: info.height, when: i18n.dateTime(info.blockTime) }),
      info.vouched === null ? "" : ` ${t("status.fresh", { signed: info.vouched, validators: info.validators, when: i18n.dateTime(info.time) })}`),
    state.freshnessNote ? el("p", { class: "small" }, state.freshnessNote) : "",
    el("p", { class: "small muted", dataset: { testid: "refresh-registry", kept: String(!!state.registry) } },
      state.registryNote || (state.registry ? t("status.registry", state.registry.info()) : t("status.registryNone"))),
    el("ul", { class: "cards" }, statuses.map((s) => {
      const a = state.anchoring.get(s.certificate.id);
      const anchored = a ? String(a.anchored) : "unknown";
      return el("li", {},
        el("div", {
          class: `card status-row ${s.revoked ? "status-revoked" : "status-fine"} anchored-${anchored}`,
          dataset: {
            testid: "refresh-row", kind: s.certificate.kind, id: s.certificate.id, revoked: String(s.revoked),
            anchored, height: a?.anchored ? String(a.height) : "",
          },
        },
        el("span", { class: "cert-name" }, kindName(s.certificate)),
        el("span", { class: `badge ${s.revoked ? "badge-bad" : "badge-ok"}` }, s.revoked ? t("card.revoked") : t("card.notRevoked")),
        a?.anchored ? el("span", { class: "badge badge-ok" }, t("card.anchored", { height: a.height })) : null,
        a && !a.anchored ? el("span", { class: "badge badge-warn" }, t("card.notAnchored")) : null,
        s.revoked ? el("p", { class: "small" }, t("status.revoked", { issuer: s.certificate.issuer })) : null,
        a?.anchored ? el("p", { class: "small muted" }, t("status.anchored", { height: a.height, date: i18n.date(a.date), certified: a.certifiedHeight })) : null,
        a && !a.anchored ? el("p", { class: "small" }, a.text) : null,
        a ? null : el("p", { class: "small muted" }, t("status.anchorUnknown"))));
    })),
  );
}

// ---------------------------------------------------------------------------------------
// Backup

async function onBackup(event) {
  event.preventDefault();
  const pass = $("backup-passphrase").value;
  showMessage("backup-done", "");
  if (pass !== $("backup-passphrase2").value) {
    showMessage("backup-error", t("create.mismatch"));
    return;
  }
  showMessage("backup-error", "");
  await busy($("backup-submit"), t("working"), async () => {
    try {
      const file = state.wallet.seal(pass, state.core.defaultKdf());
      const name = `ecert-wallet-backup-${today()}.ecw`;
      download(file, name);
      $("backup-passphrase").value = "";
      $("backup-passphrase2").value = "";
      showMessage("backup-done", t("backup.done", { file: name }), "ok");
    } catch (e) {
      showMessage("backup-error", errorMessage(e));
    }
  });
}

// ---------------------------------------------------------------------------------------
// Start

function wire() {
  const on = (testid, type, f) => $(testid).addEventListener(type, f);
  on("back", "click", back);
  on("lock", "click", lock);
  on("welcome-create", "click", () => show("create"));
  on("welcome-restore", "click", () => show("restore"));
  on("unlock-restore", "click", () => show("restore"));
  document.querySelector('[data-form="create"]').addEventListener("submit", onCreate);
  document.querySelector('[data-form="unlock"]').addEventListener("submit", onUnlock);
  document.querySelector('[data-form="restore"]').addEventListener("submit", onRestore);
  document.querySelector('[data-form="receive"]').addEventListener("submit", onReceiveSubmit);
  document.querySelector('[data-form="challenge"]').addEventListener("submit", onChallengeSubmit);
  document.querySelector('[data-form="request"]').addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("request-input").value.trim();
    if (text) onRequestText(text);
  });
  document.querySelector('[data-form="backup"]').addEventListener("submit", onBackup);
  on("present-start", "click", () => show("choose"));
  on("receive-start", "click", () => show("receive"));
  on("request-start", "click", () => show("request"));
  on("request-status", "click", () => show("status"));
  on("answer-show", "click", onAnswerShow);
  on("more-start", "click", () => show("more"));
  on("history-start", "click", () => show("history"));
  on("history-clear", "click", () => {
    $("history-clear-confirm-box").hidden = false;
    $("history-clear-confirm").focus();
  });
  on("history-clear-cancel", "click", () => { $("history-clear-confirm-box").hidden = true; });
  on("history-clear-confirm", "click", onClearHistory);
  on("status-check", "click", () => show("status"));
  on("home-show-id", "click", () => show("id"));
  on("receive-file", "change", onReceiveFiles);
  on("offer-collect", "click", onCollect);
  on("offer-cancel", "click", () => { state.offer = null; state.collected = null; show("home"); });
  on("offer-save", "click", () => {
    if (state.collected) download(state.collected.bytes, `offer-${state.collected.code}.ecp`);
  });
  on("received-done", "click", () => show("home"));
  on("refill-ask", "click", onRefill);
  on("refill-change", "click", () => {
    $("refill-address-box").hidden = false;
    $("refill-change").hidden = true;
    $("refill-address").focus();
  });
  $("refill-address").addEventListener("keydown", (event) => {
    if (event.key === "Enter") onRefill();
  });
  on("present-show", "click", () => startQr(null));
  on("present-reuse", "click", () => startQr(state.reuseNonce, { reuse: true }));
  on("present-challenge", "click", () => {
    if (!currentChoices().length) return showMessage("choose-error", t("choose.none"));
    show("challenge");
  });
  on("qr-close", "click", closeQr);
  on("show-id", "click", () => show("id"));
  on("refresh-start", "click", () => show("status"));
  on("backup-start", "click", () => show("backup"));
  on("more-lock", "click", lock);
  on("forget-wallet", "click", () => { $("forget-confirm-box").hidden = false; });
  on("forget-confirm", "click", onForget);
  on("wallet-id-copy", "click", copyId);
  on("anchor-change", "click", () => renderAnchor(true));
  on("anchor-save", "click", () => onAnchorText($("anchor-text").value));
  on("anchor-file", "change", onAnchorFile);
  on("anchor-scan", "click", onAnchorScan);
  on("refresh-submit", "click", onRefresh);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.qr) closeQr();
  });
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, armAutoLock, { passive: true });
  window.addEventListener("hashchange", () => {
    takeOfferFromUrl();
    if (state.offer) show(state.wallet ? "offer" : state.sealed ? "unlock" : "welcome");
  });
  const online = () => { $("offline-banner").hidden = navigator.onLine; };
  window.addEventListener("online", online);
  window.addEventListener("offline", online);
  online();
  i18n.onChange(() => {
    // Words drawn by code: draw the screen again.
    if (state.wallet && ["home", "choose", "id", "status", "offer", "answer"].includes(state.screen)) enter(state.screen);
    if (state.wallet && state.screen === "history") renderHistory();
    if (state.wallet && state.screen === "cert" && state.certId) renderCert(state.certId);
    if (state.qr) drawQr(state.qr.presentation);
  });
}

async function main() {
  drawPassphraseFields();
  i18n.apply(document);
  document.querySelector(".lang-slot").append(languageButton(i18n));
  wire();
  registerShell("./sw.js", {
    onUpdate: (apply) => {
      $("update-banner").hidden = false;
      $("update-apply").onclick = apply;
    },
  });
  try {
    [state.core, state.kv] = await Promise.all([loadCore(), openStore("ecert-wallet")]);
  } catch (e) {
    const loading = $("screen-loading");
    loading.replaceChildren(el("p", { class: "notice notice-error", role: "alert" }, errorMessage(e)));
    return;
  }
  takeOfferFromUrl();
  const [sealed, anchor, checkedAt, node, receipts, servers] = await Promise.all(
    ["wallet", "anchor", "checkedAt", "node", "receipts", "servers"].map((k) => state.kv.get(k)));
  state.receipts = receipts ?? {};
  state.servers = servers ?? {};
  state.sealed = sealed ?? null;
  state.anchor = anchor ?? null;
  state.checkedAt = checkedAt ?? null;
  state.node = node ?? "";
  await loadRevocations();
  await loadRegistry();
  show(state.sealed ? "unlock" : "welcome", { focus: false });
  if (state.offerError) {
    showMessage(state.sealed ? "unlock-error" : "welcome-offer", state.offerError, "error");
  }
  $("app").dataset.ready = "true";
}

/** The version of the offline copy in use (its cache's name), or null. */
async function versionOf() {
  try {
    if (!navigator.serviceWorker?.controller) return null;
    const cache = (await caches.keys()).find((k) => k.startsWith("ecert-wallet-"));
    return cache ? cache.slice("ecert-wallet-".length) : null;
  } catch {
    return null;
  }
}

main();
