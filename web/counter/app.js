/**
 * The counter app: a clerk's desk for checking citizens' ecert QR codes, offline.
 *
 * Set up once with the ledger's trust anchor (pasted, loaded from its file, or scanned
 * from its QR code) and a ledger node; every sync is checked by the Rust core
 * (`TrustStore.sync`, exactly as `ecert-verify sync`) before it is kept in IndexedDB, so a
 * reload or a start with the network off still verifies. Codes come from the camera
 * (scanned continuously) or from a keyboard-wedge scanner (the focused text field; Enter
 * checks; one verdict per scan) and are checked by the core (`store.verify`) with no
 * network. The verdict fills the screen: a word, a symbol and words, never colour alone.
 *
 * Markup hooks (`data-testid`), for people writing tests or kiosk scripts:
 *   app                 the root; data-state = loading | setup | desk | settings
 *   screen-loading, screen-setup, screen-scan, screen-settings   the screens
 *   data-age            the data's age, always visible; data-state = none | ok | soon | old | future;
 *                       click: sync
 *   data-warning        the notice when the data is too old (or nearly); warning-sync: sync
 *   anchor-text, anchor-file, anchor-scan, anchor-camera, anchor-status   setup step 1
 *   node-url, setup-sync, setup-status                                    setup step 2
 *   camera              the viewfinder; data-state = off | starting | on | failed (the clerk's
 *                       choice of on or off is remembered on the device)
 *   camera-status, camera-start, camera-toggle
 *   manual-form, manual-input, manual-check    the scanner's (keyboard) field
 *   sync-button, sync-status                   sync; data-state on sync-status = ok | error | busy,
 *                                              data-transfer = incremental | full (new data)
 *   challenge-button    starts challenge mode; challenge (the panel), challenge-qr,
 *                       challenge-code (16 hex digits), challenge-new, challenge-cancel,
 *                       challenge-banner
 *   verdict             the verdict layer; data-verdict = valid | invalid, data-code = reason
 *                       code (invalid), data-challenge = answered (valid, challenge checked),
 *                       data-seq = how many verdicts this page has shown (1, 2, ...)
 *   verdict-word, verdict-body, verdict-data, verdict-next, verdict-title, verdict-advice,
 *   verdict-reason, verdict-code, verdict-cert (one per certificate; data-kind, and
 *                       data-copy = one-time for a certificate shown as a one-time copy,
 *                       which carries no certificate id), verdict-copy (the words saying so),
 *                       verdict-field (data-key = field key)
 *   request-button      (shown once a valid registration is installed) opens the request panel:
 *                       request (the panel), request-form, request-fields > ask-KIND-KEY checkboxes
 *                       (what the registration allows), request-purpose, request-make, request-error,
 *                       request-shown > request-qr (data-request = the ECQ1 text), request-summary,
 *                       request-new, request-cancel, request-banner. While a request is pending,
 *                       every code is checked as its answer: the verdict layer then has
 *                       data-answer = exact | incomplete | unasked and verdict-answer (the words);
 *                       unasked: data-verdict = not-accepted
 *   asking (settings card), counter-key-make, counter-key-box, counter-key (public key hex),
 *   registration-file, registration-status (data-state = ok | error), registration-info
 *   settings-button, settings-close, settings-chain, settings-hash, settings-data,
 *   settings-node, settings-policy, settings-save, anchor-show, anchor-change,
 *   settings-offline, qr-layer, qr-layer-code, qr-layer-close, language,
 *   update-banner, update-apply (a new version is ready)
 *
 * Measurements: `performance.measure` entries `ecert:verify` (one check in the core) and
 * `ecert:frame-to-verdict` (camera frame grabbed → verdict on screen).
 */
import { loadCore, now } from "../common/core.js";
import { openStore, persistStorage } from "../common/store.js";
import { createI18n, languageButton } from "../common/i18n.js";
import { errorText } from "../common/errors.js";
import { fetchBytes } from "../common/net.js";
import { QrScanner } from "../common/scanner.js";
import { registerShell } from "../common/pwa.js";
import { MESSAGES, formatAge } from "./strings.js";
import { reasonText } from "./reasons.js";
import { askedList } from "./strings.js";

const i18n = createI18n(MESSAGES, { storageKey: "ecert-counter.lang" });
const t = (key, vars) => i18n.t(key, vars);

/** Policy choices (hours) for the oldest ledger data accepted; 24 h is the verifier's default. */
const POLICY_HOURS = [1, 4, 12, 24];
const DEFAULT_POLICY_HOURS = 24;
/** Sync by itself when the data is older than this and a node answers. */
const AUTO_SYNC_SECS = 3600;
/** After a verdict, the camera's next code is taken only after this long (Next: at once). */
const VERDICT_HOLD_MS = 4000;

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "testid") node.dataset.testid = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) node.append(c);
  }
  return node;
};

/** The clerk's choice of camera on or off, remembered on this device (on by default). */
function readCameraChoice() {
  try {
    return localStorage.getItem("ecert-counter.camera") !== "off";
  } catch {
    return true;
  }
}

function rememberCameraChoice(on) {
  try {
    localStorage.setItem("ecert-counter.camera", on ? "on" : "off");
  } catch { /* not remembered */ }
}

const state = {
  core: null,
  db: null,
  anchor: null,          // { chainId, validatorsHash, text }
  node: "",
  policyHours: DEFAULT_POLICY_HOURS,
  bundle: null,          // the synced export's bytes
  store: null,           // core.TrustStore
  screen: "loading",
  challenge: null,       // hex, in challenge mode
  verdictAt: 0,          // performance.now() of the verdict shown (0: none)
  syncing: null,         // the running sync's promise
  scanner: null,
  anchorScanner: null,
  cameraWanted: readCameraChoice(),
  verdicts: 0,           // verdicts shown since the page opened
  offline: false,
  counterKey: null,      // this counter's key (32 bytes), made here, never sent anywhere
  registrationBytes: null, // the registration file its department made for that key
  registration: null,    // the registration, checked (core TrustStore.checkRegistration)
  registrationError: "", // why the stored registration is not usable now
  request: null,         // the pending request: { text, view } until an answer is accepted
  requestOpen: false,    // the request panel is open
};

// ---------------------------------------------------------------------------------------
// Start

async function start() {
  i18n.apply(document);
  const bar = document.querySelector(".topbar");
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--bar-h", `${bar.offsetHeight}px`);
  }).observe(bar);
  document.querySelector(".lang-slot")?.append(languageButton(i18n));
  i18n.onChange(() => {
    renderAge();
    renderSettings();
    renderChallenge();
    renderRequest();
    if (state.lastVerdict) renderVerdict(state.lastVerdict);
  });
  bindControls();
  registerShell("./sw.js", {
    onUpdate: (apply) => {
      $("update-banner").hidden = false;
      $("update-apply").onclick = apply;
    },
  }).then((reg) => {
    state.offline = !!reg;
    renderSettings();
  });

  try {
    state.core = await loadCore();
    state.db = await openStore("ecert-counter");
  } catch (e) {
    $("screen-loading").querySelector("p").textContent = errorText(e, i18n.lang);
    return;
  }
  persistStorage();
  const [anchorText, bundle, node, policyHours] = await Promise.all([
    state.db.get("anchor"), state.db.get("bundle"), state.db.get("node"), state.db.get("policyHours"),
  ]);
  state.node = node || defaultNode();
  state.policyHours = POLICY_HOURS.includes(policyHours) ? policyHours : DEFAULT_POLICY_HOURS;
  if (anchorText) {
    try {
      state.anchor = state.core.anchorInfo(anchorText);
    } catch {
      state.anchor = null;
    }
  }
  if (state.anchor && bundle) {
    // Checked again from scratch, as on every sync: stored data is not trusted either.
    try {
      state.store = state.core.TrustStore.sync(bundle, state.anchor.text);
      state.bundle = bundle;
    } catch (e) {
      console.warn("the stored ledger data was refused:", e);
    }
  }
  const [counterKey, registrationBytes, requestText] = await Promise.all([
    state.db.get("counterKey"), state.db.get("registration"), state.db.get("request"),
  ]);
  state.counterKey = counterKey || null;
  state.registrationBytes = registrationBytes || null;
  const freshness = state.store ? await state.db.get("freshness") : null;
  if (freshness) {
    try {
      state.store.applyFreshness(freshness);
    } catch (e) {
      console.warn("the stored freshness statements were dropped:", e);
      await state.db.delete("freshness");
    }
  }
  checkStoredRegistration();
  if (requestText && state.registration) {
    try {
      state.request = { text: requestText, view: state.store.checkRequest(requestText, now()) };
    } catch {
      await state.db.delete("request"); // too old by now: a new one is made when needed
    }
  }
  setInterval(renderAge, 15000);
  document.addEventListener("visibilitychange", onVisibility);
  if (state.anchor && state.store) {
    show("desk");
    autoSync();
    setInterval(autoSync, 15 * 60 * 1000);
  } else {
    show("setup");
  }
}

function defaultNode() {
  // Served by a ledger node: that node. Anything else: the clerk says.
  return location.protocol === "https:" || location.hostname === "127.0.0.1" || location.hostname === "localhost"
    ? location.origin
    : "";
}

// ---------------------------------------------------------------------------------------
// Screens

function show(screen) {
  state.screen = screen;
  $("app").dataset.state = screen;
  $("screen-loading").hidden = true;
  $("screen-setup").hidden = screen !== "setup";
  $("screen-scan").hidden = screen !== "desk";
  $("screen-settings").hidden = screen !== "settings";
  if (screen !== "desk") hideVerdict();
  if (screen === "setup") renderSetup();
  if (screen === "settings") renderSettings();
  if (screen !== "setup") stopAnchorScan();
  renderAsking();
  renderRequest();
  renderAge();
  updateCamera();
  if (screen === "desk") focusInput();
}

function renderSetup() {
  if (state.anchor && !$("anchor-text").value) $("anchor-text").value = state.anchor.text;
  if (!$("node-url").value) $("node-url").value = state.node;
  if (state.anchor) anchorStatus("ok", t("setup.anchor.ok", anchorVars(state.anchor)));
}

function anchorVars(anchor) {
  return { chain: anchor.chainId, hash: shortHash(anchor.validatorsHash) };
}

function shortHash(hex) {
  return `${hex.slice(0, 8)}…${hex.slice(-8)}`;
}

function groupHex(hex) {
  return hex.replace(/(.{4})/g, "$1 ").trim();
}

function notice(node, kind, text) {
  node.hidden = !text;
  node.className = `notice notice-${kind === "ok" ? "ok" : kind === "busy" ? "info" : kind === "warn" ? "warn" : "error"}`;
  node.dataset.state = kind;
  node.textContent = text || "";
}

function anchorStatus(kind, text) {
  notice($("anchor-status"), kind, text);
}

// ---------------------------------------------------------------------------------------
// Trust anchor

/** Reads an anchor text with the core; keeps it (and drops data of another anchor). */
async function setAnchor(text) {
  let anchor;
  try {
    anchor = state.core.anchorInfo(text);
  } catch (e) {
    anchorStatus("error", `${t("setup.anchor.bad")} (${e.message})`);
    return false;
  }
  if (state.anchor && state.anchor.text !== anchor.text) await dropData();
  state.anchor = anchor;
  await state.db.set("anchor", anchor.text);
  $("anchor-text").value = anchor.text;
  anchorStatus("ok", t("setup.anchor.ok", anchorVars(anchor)));
  return true;
}

async function dropData() {
  state.store?.free();
  state.store = null;
  state.bundle = null;
  await state.db.delete("bundle");
  await state.db.delete("freshness");
  renderAge();
}

async function startAnchorScan() {
  const box = $("anchor-camera");
  box.hidden = false;
  anchorStatus("busy", t("setup.anchor.scanning"));
  if (!state.anchorScanner) {
    state.anchorScanner = new QrScanner(box.querySelector("video"), {
      workerUrl: new URL("./scan-worker.js", import.meta.url),
      onText: async (text) => {
        if (!/chain_id/.test(text)) return;
        stopAnchorScan();
        await setAnchor(text);
      },
    });
  }
  try {
    await state.anchorScanner.start();
  } catch (e) {
    box.hidden = true;
    anchorStatus("error", errorText(e, i18n.lang));
  }
}

function stopAnchorScan() {
  state.anchorScanner?.stop();
  $("anchor-camera").hidden = true;
}

// ---------------------------------------------------------------------------------------
// Sync

function normaliseNode(text) {
  const trimmed = (text || "").trim().replace(/\/+$/, "");
  if (!trimmed) return null;
  try {
    const url = new URL(/^[a-z]+:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    return url.origin + url.pathname.replace(/\/+$/, "");
  } catch {
    return null;
  }
}

/**
 * Fetches the node's export and keeps it only if the core accepts it against the anchor.
 * Resolves to { ok, text, code }; never throws. One sync at a time.
 */
function sync(nodeText = state.node, { quiet = false } = {}) {
  if (state.syncing) return state.syncing;
  state.syncing = (async () => {
    const node = normaliseNode(nodeText);
    if (!state.anchor) return { ok: false, code: "no-anchor", text: t("sync.noanchor") };
    if (!node) return { ok: false, code: "no-node", text: t("sync.nonode") };
    if (!quiet) syncBusy(true);
    const incremental = await syncUpdate(node);
    if (incremental) return incremental;
    let bytes;
    try {
      bytes = await fetchBytes(`${node}/v1/export`);
    } catch (e) {
      if (e.code === "network") return { ok: false, code: "network", text: t("sync.unreachable", { node }) };
      return {
        ok: false, code: e.code,
        text: e.status ? `${t("sync.status", { node, status: e.status })} ${e.serverMessage || ""}`.trim()
          : errorText(e, i18n.lang),
      };
    }
    const held = state.store ? state.store.info(now()).height : undefined;
    if (state.bundle && sameBytes(bytes, state.bundle)) {
      await rememberNode(node);
      return { ok: true, same: true, text: withFreshness(t("sync.same", { height: held }), await syncFreshness(node)) };
    }
    let next;
    try {
      next = state.core.TrustStore.sync(bytes, state.anchor.text, held);
    } catch (e) {
      if (e.code === "older-data") {
        return { ok: false, code: e.code, text: t("sync.older", { offered: "?", held, ...olderHeights(e.message) }) };
      }
      const reason = `${errorText(e.code, i18n.lang)} (${e.code}: ${e.message})`;
      return { ok: false, code: e.code, text: t("sync.refused", { node, reason: `${reason} ` }) };
    }
    await state.db.setMany({ bundle: bytes, syncedAt: Date.now() });
    await state.db.delete("freshness");
    await rememberNode(node);
    state.store?.free();
    state.store = next;
    checkStoredRegistration();
    state.bundle = bytes;
    const info = next.info(now());
    return { ok: true, text: withFreshness(t("sync.done", info), await syncFreshness(node)) };
  })().finally(() => {
    state.syncing = null;
    syncBusy(false);
    renderAge();
    renderSettings();
  });
  return state.syncing;
}

/**
 * Brings the data held up to the node's newest block with only what changed
 * (`GET /v1/updates?since=HEIGHT`), checked by the core as strictly as a whole export, and
 * keeps it as the bundle a full sync would give. Resolves to the sync's result, or null
 * when the whole export is needed instead: no data held, or a node that cannot answer
 * that way (it joined from a snapshot: 404; it is behind this counter: 409).
 */
async function syncUpdate(node) {
  if (!state.store) return null;
  const held = state.store.info(now()).height;
  let bytes;
  try {
    bytes = await fetchBytes(`${node}/v1/updates?since=${held}`);
  } catch (e) {
    if (e.code === "network") return { ok: false, code: "network", text: t("sync.unreachable", { node }) };
    return null;
  }
  let next;
  let bundle;
  try {
    next = state.store.update(bytes, state.anchor.text);
    bundle = next.toBundle();
  } catch (e) {
    next?.free();
    const reason = `${errorText(e.code, i18n.lang)} (${e.code}: ${e.message})`;
    return { ok: false, code: e.code, text: t("sync.refused", { node, reason: `${reason} ` }) };
  }
  await rememberNode(node);
  if (state.bundle && sameBytes(bundle, state.bundle)) {
    next.free();
    return { ok: true, same: true, text: withFreshness(t("sync.same", { height: held }), await syncFreshness(node)) };
  }
  await state.db.setMany({ bundle, syncedAt: Date.now() });
  await state.db.delete("freshness");
  state.store?.free();
  state.store = next;
  checkStoredRegistration();
  state.bundle = bundle;
  const info = next.info(now());
  return {
    ok: true, incremental: bytes.length,
    text: withFreshness(t("sync.done", info), await syncFreshness(node)),
  };
}

/**
 * Fetches the validators' freshness statements about the synced block
 * (`GET /v1/freshness`) and has the core check and apply them; kept in the database
 * (applied again on load) when they bring the data's time forward. Resolves to a line for
 * the sync notice: empty when the node offers none (or is a node without them).
 */
async function syncFreshness(node) {
  let bytes;
  try {
    bytes = await fetchBytes(`${node}/v1/freshness`);
  } catch {
    return "";
  }
  const before = state.store.info(now()).time;
  try {
    const f = state.store.applyFreshness(bytes);
    if (f.asOf >= before) await state.db.set("freshness", bytes);
    return t("sync.fresh", { signed: f.signed, validators: f.validators, when: i18n.dateTime(f.asOf) });
  } catch (e) {
    if (e.code !== "freshness-not-confirmed") return "";
    return t("sync.notFresh", { height: state.store.info(now()).height });
  }
}

function withFreshness(text, line) {
  return line ? `${text} ${line}` : text;
}

function olderHeights(message) {
  const m = /#(\d+)\D+#(\d+)/.exec(message || "");
  return m ? { offered: m[1], held: m[2] } : {};
}

async function rememberNode(node) {
  if (state.node !== node) {
    state.node = node;
    await state.db.set("node", node);
  }
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function syncBusy(busy) {
  for (const id of ["sync-button", "setup-sync", "warning-sync"]) {
    const b = $(id);
    if (b) b.disabled = busy;
  }
  $("data-age").classList.toggle("busy", busy);
  if (busy && state.screen === "desk") notice($("sync-status"), "busy", t("sync.busy"));
  if (busy && state.screen === "setup") notice($("setup-status"), "busy", t("sync.busy"));
}

let syncNoticeTimer = null;

function syncNotice(result) {
  clearTimeout(syncNoticeTimer);
  notice($("sync-status"), result.ok ? "ok" : "error", result.text);
  // How the data came: only what changed, or the whole export.
  $("sync-status").dataset.transfer = !result.ok || result.same ? "" : result.incremental ? "incremental" : "full";
  // A success needs no attention for long; a failure stays until the next sync.
  if (result.ok) syncNoticeTimer = setTimeout(() => { $("sync-status").hidden = true; }, 10000);
}

async function syncFromDesk() {
  const result = await sync();
  syncNotice(result);
  if (result.ok) {
    // New data: the code in front of the camera may be worth another look.
    state.scanner?.stop();
    updateCamera();
  }
  return result;
}

async function autoSync() {
  if (!state.store || state.syncing || document.visibilityState === "hidden") return;
  if (state.store.info(now()).ageSecs < AUTO_SYNC_SECS) return;
  const result = await sync(state.node, { quiet: true });
  if (!result.ok) console.info("automatic sync:", result.text);
}

// ---------------------------------------------------------------------------------------
// The data's age: always on screen

function renderAge() {
  const pill = $("data-age");
  const text = pill.querySelector(".age-text");
  const symbol = pill.querySelector(".age-symbol");
  const warning = $("data-warning");
  const limit = state.policyHours * 3600;
  if (!state.store) {
    pill.dataset.state = "none";
    symbol.textContent = "!";
    text.textContent = t("age.none");
    pill.title = t("age.tap");
    warning.hidden = state.screen !== "desk";
    warning.className = "data-warning notice notice-warn";
    warning.querySelector(".data-warning-text").textContent = t("warning.none");
    return;
  }
  const info = state.store.info(now());
  const age = formatAge(info.ageSecs, i18n.lang);
  const future = info.time > now() + 60;
  let kind = "ok";
  if (future) kind = "future";
  else if (info.ageSecs > limit) kind = "old";
  else if (info.ageSecs > limit * 0.75) kind = "soon";
  pill.dataset.state = kind;
  pill.dataset.height = String(info.height);
  symbol.textContent = kind === "ok" ? "✓" : kind === "soon" ? "!" : "✕";
  text.replaceChildren(future ? t("age.future") : t(kind === "old" ? "age.old" : "age.ok", { age }));
  if (!future) text.append(el("span", { class: "age-block", text: ` · ${t("age.block", { height: info.height })}` }));
  pill.title = t("age.tap");
  const limitText = formatAge(limit, i18n.lang);
  if (kind === "old" || kind === "soon" || kind === "future") {
    warning.hidden = false;
    warning.className = `data-warning notice ${kind === "soon" ? "notice-warn" : "notice-error"}`;
    warning.querySelector(".data-warning-text").textContent = kind === "future"
      ? t("age.future") : t(kind === "old" ? "warning.old" : "warning.soon", { age, limit: limitText });
  } else {
    warning.hidden = true;
  }
  if (state.lastVerdict && !$("verdict").hidden) {
    $("verdict-data").textContent = t("verdict.data", { age, height: info.height });
  }
}

// ---------------------------------------------------------------------------------------
// Checking a code

/** Checks `qr` with the core; `frameAt` (camera) is when its frame was grabbed. */
function check(qr, { frameAt = null } = {}) {
  if (!state.store || !qr || !qr.trim()) return null;
  const policy = { maxRevocationAgeSecs: state.policyHours * 3600 };
  if (state.challenge) policy.expectedNonce = state.challenge;
  const started = performance.now();
  let result;
  let answer = null;
  try {
    if (state.request) {
      // Counters that ask: the code must answer the pending request (its binding), and
      // what it shows is compared with what was asked.
      answer = state.store.verifyAnswer(qr, state.request.text, now(), policy);
      result = answer.verdict;
    } else {
      result = state.store.verify(qr, now(), policy);
    }
  } catch (e) {
    console.error(e);
    return null;
  }
  performance.measure("ecert:verify", { start: started, end: performance.now() });
  const challenge = state.challenge;
  if (!answer && result.valid && result.nonceChecked) endChallenge();
  if (answer?.accepted) retireRequest();
  state.lastVerdict = { result, challenge, answer };
  renderVerdict(state.lastVerdict);
  if (frameAt !== null) {
    // On screen after the next frame is painted.
    requestAnimationFrame(() => setTimeout(() => {
      performance.measure("ecert:frame-to-verdict", { start: frameAt, end: performance.now() });
    }, 0));
  }
  return result;
}

function renderVerdict({ result, challenge, answer = null }) {
  const layer = $("verdict");
  const unasked = !!answer && result.valid && answer.unasked.length > 0;
  const valid = result.valid && !unasked;
  layer.hidden = false;
  layer.className = `verdict ${valid ? "verdict-valid" : "verdict-invalid"}`;
  layer.dataset.verdict = unasked ? "not-accepted" : valid ? "valid" : "invalid";
  layer.dataset.answer = answer && result.valid
    ? (unasked ? "unasked" : answer.missing.length ? "incomplete" : "exact") : "";
  layer.dataset.code = result.code || "";
  layer.dataset.challenge = valid && result.nonceChecked ? "answered" : "";
  state.verdicts += 1;
  layer.dataset.seq = String(state.verdicts);
  layer.querySelector(".mark").setAttribute("d", valid ? "M13 25l7 7 15-16" : "M16 16l16 16M32 16L16 32");
  $("verdict-word").textContent = t(unasked ? "verdict.notAccepted" : valid ? "verdict.valid" : "verdict.invalid");
  layer.querySelector(".verdict-word-other").textContent = t(unasked ? "verdict.notAccepted.other"
    : valid ? "verdict.valid.other" : "verdict.invalid.other");
  const body = $("verdict-body");
  const parts = result.valid ? validBody(result) : invalidBody(result, challenge);
  if (answer && result.valid) parts.unshift(answerNote(answer));
  body.replaceChildren(...parts);
  const age = formatAge(result.revocationAgeSecs, i18n.lang);
  $("verdict-data").textContent = t("verdict.data", { age, height: result.syncedHeight });
  state.verdictAt = performance.now();
  focusInput();
}

function validBody(result) {
  const signedAt = result.signedAt ?? result.checkedAt;
  const ago = signedAt > result.checkedAt
    ? t("verdict.ahead", { age: formatAge(signedAt - result.checkedAt, i18n.lang) })
    : t("verdict.ago", { age: formatAge(result.checkedAt - signedAt, i18n.lang) });
  const summary = el("p", { class: "verdict-summary" },
    t("verdict.count", { n: result.certificates.length, ago }),
    result.nonceChecked ? el("strong", { class: "challenge-ok", text: ` ✓ ${t("verdict.challenge.ok")}` }) : null);
  const certs = result.certificates.map((c) => {
    const title = el("h3", { class: "cert-kind" },
      el("span", { class: "primary", text: i18n.pick(c.kindName, c.kindNameLocal) }),
      c.kindNameLocal ? el("span", { class: "secondary", text: i18n.zh ? c.kindName : c.kindNameLocal }) : null);
    const fields = c.disclosed.length
      ? el("dl", { class: "fields" }, c.disclosed.map((f) => el("div", { class: "field-row", testid: "verdict-field", "data-key": f.key },
        el("dt", {},
          el("span", { class: "primary", text: i18n.pick(f.label, f.labelLocal) }),
          f.labelLocal ? el("span", { class: "secondary", text: i18n.zh ? f.label : f.labelLocal }) : null),
        valueNode(f))))
      : el("p", { class: "muted", text: t("verdict.nofields") });
    // A one-time copy (format 2) shows no certificate id (`id` null): nothing to show in its place.
    return el("article", { class: "cert", testid: "verdict-cert", "data-kind": c.kind, "data-copy": c.id ? null : "one-time" },
      title,
      el("p", { class: "cert-issuer", text: t("verdict.issuedBy", { issuer: c.issuerName || c.issuer }) }),
      c.id ? null : el("p", { class: "cert-copy", testid: "verdict-copy", text: t("verdict.oneTimeCopy") }),
      fields,
      el("p", { class: "cert-validity", text: t("verdict.validity", { from: c.validFromDate, to: c.expiresDate }) }));
  });
  return [summary, el("div", { class: "certs" }, certs), el("p", { class: "verdict-hint", text: t("verdict.compare") })];
}

/** What an answer showed compared with the request (`ecert-verify verify --request`). */
function answerNote(answer) {
  const list = (fields) => askedList(fields, i18n);
  let kind = "ok";
  let text = t("answer.exact");
  if (answer.unasked.length) {
    kind = "error";
    text = t("answer.unasked", { fields: list(answer.unasked) });
  } else if (answer.missing.length) {
    kind = "warn";
    text = t("answer.missing", { fields: list(answer.missing) });
  }
  return el("p", { class: `notice notice-${kind} verdict-answer`, testid: "verdict-answer" }, text);
}

function valueNode(field) {
  const text = Array.isArray(field.value) ? field.value.join(", ") : field.text;
  const size = text.length > 40 ? "value-long" : text.length > 14 ? "value-mid" : "value-short";
  return el("dd", { class: size, text });
}

function invalidBody(result) {
  const { title, advice, reject } = reasonText(result.code, i18n.lang);
  return [
    el("h3", { class: "verdict-title", testid: "verdict-title", text: title }),
    el("p", { class: "verdict-advice", testid: "verdict-advice" },
      reject && !advice.includes(t("verdict.reject").replace(/[.。]$/, ""))
        ? el("strong", { text: `${t("verdict.reject")} ` }) : null,
      advice),
    el("p", { class: "verdict-reason", testid: "verdict-reason", text: result.reason || "" }),
    el("p", { class: "verdict-code mono", testid: "verdict-code", text: t("verdict.code", { code: result.code }) }),
  ];
}

function hideVerdict() {
  $("verdict").hidden = true;
  state.lastVerdict = null;
  state.verdictAt = 0;
}

function nextCitizen() {
  hideVerdict();
  focusInput();
}

// ---------------------------------------------------------------------------------------
// Camera

function onCameraText(text, info) {
  if (state.screen !== "desk" || !state.store) return;
  if (!$("verdict").hidden && performance.now() - state.verdictAt < VERDICT_HOLD_MS) return;
  check(text, { frameAt: info?.frameAt ?? performance.now() });
}

function cameraState(kind, text) {
  $("camera").dataset.state = kind;
  $("camera-status").textContent = text || "";
  $("camera-start").hidden = kind !== "off" && kind !== "failed";
  $("camera-toggle").hidden = kind === "off" || kind === "failed";
  $("camera-toggle").querySelector(".camera-toggle-text").textContent =
    t(state.cameraWanted ? "scan.camera.stop" : "scan.camera.start");
}

async function updateCamera() {
  const want = state.screen === "desk" && state.cameraWanted && document.visibilityState !== "hidden";
  if (!state.scanner) {
    state.scanner = new QrScanner($("camera").querySelector("video"), {
      workerUrl: new URL("./scan-worker.js", import.meta.url),
      onText: onCameraText,
    });
  }
  if (!want) {
    state.scanner.stop();
    cameraState("off", t("scan.camera.off"));
    return;
  }
  if (state.scanner.running) return;
  cameraState("starting", t("scan.camera.starting"));
  try {
    await state.scanner.start();
    if (state.scanner.running) cameraState("on", t("scan.camera"));
  } catch (e) {
    cameraState("failed", errorText(e, i18n.lang));
  }
}

function onVisibility() {
  updateCamera();
  if (document.visibilityState === "visible") {
    renderAge();
    autoSync();
  }
}

// ---------------------------------------------------------------------------------------
// Challenge mode

function startChallenge() {
  state.challenge = state.core.challenge();
  renderChallenge();
  // The answer will be a new code: look again even at a code seen before.
  state.scanner?.stop();
  updateCamera();
  hideVerdict();
  focusInput();
}

function endChallenge() {
  state.challenge = null;
  renderChallenge();
}

function renderChallenge() {
  const on = !!state.challenge;
  $("challenge").hidden = !on;
  $("challenge-banner").hidden = !on;
  $("screen-scan").classList.toggle("with-challenge", on);
  if (!on) return;
  const code = state.challenge;
  $("challenge-code").textContent = groupHex(code);
  $("challenge-code").dataset.code = code;
  $("challenge-banner").textContent = t("challenge.banner", { code: groupHex(code) });
  const box = $("challenge-qr");
  box.setAttribute("aria-label", code);
  box.innerHTML = state.core.qrSvg(code); // SVG drawn by the core from 16 hex digits
}

// ---------------------------------------------------------------------------------------
// Counters that ask: the counter's key, its registration, its requests

/** The stored registration checked again (it may have ended, or the data changed). */
function checkStoredRegistration() {
  state.registration = null;
  state.registrationError = "";
  if (!state.registrationBytes || !state.counterKey || !state.store) return;
  try {
    state.registration = state.store.checkRegistration(state.registrationBytes, state.counterKey, now());
  } catch (e) {
    state.registrationError = registrationRefusal(e);
  }
}

function registrationRefusal(e) {
  return `${errorText(e, i18n.lang)} (${e.code}: ${e.message})`;
}

async function makeCounterKey() {
  if (state.counterKey) return;
  const key = state.core.counterKeyNew();
  await state.db.set("counterKey", key);
  state.counterKey = key;
  renderAsking();
}

/** A registration file from the department, checked by the core before it is kept. */
async function loadRegistration(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const status = $("registration-status");
  if (!state.store) {
    notice(status, "error", t("sync.noanchor"));
    return;
  }
  let registration;
  try {
    registration = state.store.checkRegistration(bytes, state.counterKey, now());
  } catch (e) {
    notice(status, "error", t("asking.registration.refused", { why: registrationRefusal(e) }));
    return;
  }
  await state.db.set("registration", bytes);
  await state.db.delete("request");
  state.registrationBytes = bytes;
  state.registration = registration;
  state.registrationError = "";
  state.request = null;
  renderAsking();
  notice(status, "ok", t("asking.registration.ok", { name: registration.name }));
}

function askName(ask) {
  return i18n.pick(ask.kindName, ask.kindNameLocal);
}

function fieldName(field) {
  return i18n.pick(field.label, field.labelLocal);
}

function renderAsking() {
  if (!$("asking")) return;
  const key = state.counterKey ? state.core.counterKeyPublic(state.counterKey) : null;
  $("counter-key-make").hidden = !!key;
  $("counter-key-box").hidden = !key;
  $("counter-key").textContent = key || "";
  const info = $("registration-info");
  const r = state.registration;
  info.hidden = !r;
  if (r) {
    const sep = i18n.zh ? "、" : ", ";
    info.replaceChildren(
      el("dt", { text: t("asking.name") }), el("dd", { text: r.nameLocal ? `${r.name} / ${r.nameLocal}` : r.name }),
      el("dt", { text: t("asking.role") }), el("dd", { text: r.role }),
      el("dt", { text: t("asking.department") }), el("dd", { text: `${r.departmentName} (${r.department})` }),
      el("dt", { text: t("asking.mayAsk") }),
      el("dd", {}, ...r.mayAsk.map((a) => el("div", { text: `${askName(a)}: ${a.fields.map(fieldName).join(sep)}` }))),
      el("dt", { text: t("asking.until") }), el("dd", { text: r.validUntilDate }),
    );
  }
  if (state.registrationError) notice($("registration-status"), "error", state.registrationError);
  $("request-button").hidden = !state.registration;
}

function openRequest() {
  if (!state.registration) return;
  endChallenge();
  state.requestOpen = true;
  hideVerdict();
  renderRequest();
  if (!state.request) $("request-purpose").focus();
}

function endRequest() {
  state.requestOpen = false;
  state.request = null;
  state.db.delete("request");
  renderRequest();
  focusInput();
}

/** An accepted answer retires the request: the same answer shown again has nothing to answer. */
function retireRequest() {
  state.request = null;
  state.requestOpen = false;
  state.db.delete("request");
  renderRequest();
}

/** Signs a request of the fields ticked, checks it as a wallet will, keeps it and shows it. */
async function makeRequest(event) {
  event.preventDefault();
  const error = $("request-error");
  const asks = [];
  for (const input of $("request-fields").querySelectorAll("input[type=checkbox]:checked")) {
    const { kind, key } = input.dataset;
    let ask = asks.find((a) => a.kind === kind);
    if (!ask) asks.push(ask = { kind, fields: [] });
    ask.fields.push(key);
  }
  const purpose = $("request-purpose").value.trim();
  if (!asks.length) return notice(error, "error", t("request.none"));
  if (!purpose) return notice(error, "error", t("request.noPurpose"));
  let text;
  let view;
  try {
    text = state.core.signRequest(state.registrationBytes, state.counterKey, asks, purpose, now());
    // As `ecert-verify request` does: a request a wallet would refuse is not shown.
    view = state.store.checkRequest(text, now());
  } catch (e) {
    notice(error, "error", t("request.refused", { why: `${errorText(e, i18n.lang)} (${e.code}: ${e.message})` }));
    return;
  }
  error.hidden = true;
  await state.db.set("request", text);
  state.request = { text, view };
  // The answer is a new code: look again even at a code seen before.
  state.scanner?.stop();
  updateCamera();
  renderRequest();
  focusInput();
}

function renderRequest() {
  const open = state.requestOpen || !!state.request;
  $("request").hidden = !open;
  $("screen-scan").classList.toggle("with-request", open);
  const banner = $("request-banner");
  banner.hidden = !state.request;
  if (!open) return;
  const form = $("request-form");
  form.hidden = !!state.request;
  $("request-shown").hidden = !state.request;
  if (state.request) {
    const { text, view } = state.request;
    const box = $("request-qr");
    box.innerHTML = state.core.qrSvg(text); // SVG drawn by the core from the request's text
    box.dataset.request = text;
    box.setAttribute("aria-label", view.purpose);
    const sep = i18n.zh ? "、" : ", ";
    const what = view.asks.map((a) => `${askName(a)}: ${a.fields.map(fieldName).join(sep)}`).join("; ");
    $("request-summary").textContent = t("request.summary", { what, purpose: view.purpose });
    banner.textContent = t("request.banner", { what });
    return;
  }
  if (!state.registration) return;
  const fields = $("request-fields");
  const ticked = new Set([...fields.querySelectorAll("input:checked")].map((i) => `${i.dataset.kind}:${i.dataset.key}`));
  fields.replaceChildren(...state.registration.mayAsk.map((a) => el("fieldset", { class: "ask-group" },
    el("legend", { text: askName(a) }),
    ...a.fields.map((f) => el("label", {},
      el("input", {
        type: "checkbox", testid: `ask-${a.kind}-${f.key}`, "data-kind": a.kind, "data-key": f.key,
        checked: ticked.has(`${a.kind}:${f.key}`),
      }),
      el("span", { text: fieldName(f) }))))));
}

// ---------------------------------------------------------------------------------------
// The keyboard-wedge scanner: a focused field, Enter checks, ready for the next scan

/**
 * Desk computers (a mouse, a keyboard-wedge scanner): the scanner's field keeps the focus.
 * Phones: not, or the on-screen keyboard would cover the verdict after every scan.
 */
const KEEP_FOCUS = matchMedia("(pointer: fine)").matches;

function focusInput() {
  if (state.screen !== "desk" || !KEEP_FOCUS) return;
  const input = $("manual-input");
  if (document.activeElement !== input) input.focus({ preventScroll: true });
}

function onGlobalKey(event) {
  if (state.screen !== "desk" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  const typing = target instanceof HTMLElement
    && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  if (event.key === "Escape" && !$("verdict").hidden) {
    nextCitizen();
    return;
  }
  // A scanner "types" into whatever has focus: send its keys to the field.
  if (!typing && event.key.length === 1) $("manual-input").focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------
// Settings

function renderSettings() {
  if (state.screen !== "settings") return;
  renderAsking();
  $("settings-chain").textContent = state.anchor?.chainId ?? "–";
  $("settings-hash").textContent = state.anchor ? groupHex(state.anchor.validatorsHash) : "–";
  if (state.store) {
    const info = state.store.info(now());
    const fresh = info.vouched === null ? ""
      : ` ${t("sync.fresh", { signed: info.vouched, validators: info.validators, when: i18n.dateTime(info.time) })}`;
    $("settings-data").textContent = t("settings.data.line", { ...info, blockTime: i18n.dateTime(info.blockTime) }) + fresh;
  } else {
    $("settings-data").textContent = t("age.none");
  }
  const node = $("settings-node");
  if (document.activeElement !== node) node.value = state.node;
  const select = $("settings-policy");
  select.replaceChildren(...POLICY_HOURS.map((h) => el("option", { value: String(h), text: t("settings.hours", { n: h }) })));
  select.value = String(state.policyHours);
  $("settings-offline").textContent = t(state.offline ? "settings.offline" : "settings.offline.no");
}

async function saveSettings() {
  const hours = Number($("settings-policy").value);
  if (POLICY_HOURS.includes(hours)) {
    state.policyHours = hours;
    await state.db.set("policyHours", hours);
  }
  const node = normaliseNode($("settings-node").value);
  if (node && node !== state.node) {
    const result = await sync(node);
    syncNotice(result);
  }
  show("desk");
}

function showQr(text, caption) {
  const layer = $("qr-layer");
  $("qr-layer-code").innerHTML = state.core.qrSvg(text); // SVG drawn by the core
  layer.querySelector(".show-qr-caption").textContent = caption;
  layer.hidden = false;
}

// ---------------------------------------------------------------------------------------
// Controls

function bindControls() {
  // While the anchor is typed or pasted: say so as soon as it reads as one (nothing is
  // kept before "Check and sync"; a half-typed anchor is not scolded).
  $("anchor-text").addEventListener("input", () => {
    try {
      anchorStatus("ok", t("setup.anchor.ok", anchorVars(state.core.anchorInfo($("anchor-text").value))));
    } catch {
      $("anchor-status").hidden = true;
    }
  });
  $("anchor-file").addEventListener("change", async (event) => {
    const file = event.target.files?.[0];
    if (!file) return;
    const text = await file.text();
    $("anchor-text").value = text;
    await setAnchor(text);
    event.target.value = "";
  });
  $("anchor-scan").addEventListener("click", startAnchorScan);
  $("setup-sync").addEventListener("click", async () => {
    const text = $("anchor-text").value;
    if (!state.anchor || state.anchor.text !== text) {
      if (!(await setAnchor(text))) return;
    }
    const result = await sync($("node-url").value);
    notice($("setup-status"), result.ok ? "ok" : "error", result.text);
    if (result.ok) {
      show("desk");
      syncNotice(result);
    }
  });

  $("data-age").addEventListener("click", () => {
    if (state.screen === "setup") return;
    if (state.screen !== "desk") show("desk");
    syncFromDesk();
  });
  $("warning-sync").addEventListener("click", () => syncFromDesk());
  $("sync-button").addEventListener("click", () => syncFromDesk());

  $("manual-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("manual-input");
    const text = input.value.replace(/[\r\n]+$/, "");
    input.value = "";
    if (text.trim()) check(text);
    focusInput();
  });
  document.addEventListener("keydown", onGlobalKey, true);

  $("verdict-next").addEventListener("click", nextCitizen);
  $("challenge-button").addEventListener("click", () => { endRequest(); startChallenge(); });
  $("request-button").addEventListener("click", openRequest);
  $("request-cancel").addEventListener("click", endRequest);
  $("request-new").addEventListener("click", () => {
    state.request = null;
    state.db.delete("request");
    state.requestOpen = true;
    renderRequest();
  });
  $("request-form").addEventListener("submit", makeRequest);
  $("counter-key-make").addEventListener("click", makeCounterKey);
  $("registration-file").addEventListener("change", async (event) => {
    const file = event.target.files?.[0];
    if (file) await loadRegistration(file);
    event.target.value = "";
  });
  $("challenge-new").addEventListener("click", startChallenge);
  $("challenge-cancel").addEventListener("click", () => { endChallenge(); focusInput(); });

  $("camera-start").addEventListener("click", () => {
    state.cameraWanted = true;
    rememberCameraChoice(true);
    updateCamera();
  });
  $("camera-toggle").addEventListener("click", () => {
    state.cameraWanted = !state.cameraWanted;
    rememberCameraChoice(state.cameraWanted);
    updateCamera();
    focusInput();
  });

  $("settings-button").addEventListener("click", () => show(state.screen === "settings" ? (state.store ? "desk" : "setup") : "settings"));
  $("settings-close").addEventListener("click", () => show(state.store && state.anchor ? "desk" : "setup"));
  $("settings-save").addEventListener("click", saveSettings);
  $("anchor-show").addEventListener("click", () => {
    if (state.anchor) showQr(state.anchor.text, `${state.anchor.chainId} · ${shortHash(state.anchor.validatorsHash)} — ${t("settings.anchor.showHelp")}`);
  });
  $("anchor-change").addEventListener("click", async () => {
    if (!confirm(t("settings.anchor.confirm"))) return;
    await dropData();
    state.anchor = null;
    await state.db.delete("anchor");
    $("anchor-text").value = "";
    $("anchor-status").hidden = true;
    show("setup");
  });
  $("qr-layer-close").addEventListener("click", () => { $("qr-layer").hidden = true; });
}

start();
