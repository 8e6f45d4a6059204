/**
 * The QR decoder off the main thread: loads the core (WebAssembly) and answers each
 * frame. Used by scanner.js; an app that must scan offline puts a one-line copy in its own
 * folder (`import "../common/scan-worker.js";`) so that its service worker serves it.
 *
 * In:  { id, width, height, pixels: ArrayBuffer (RGBA) }
 * Out: { type: "ready" } once, or { type: "failed", message };
 *      then per frame { id, text } or { id, code } (code: "qr-not-found", ...) and `ms`.
 */
import { loadCore } from "./core.js";

loadCore().then(
  (core) => {
    self.postMessage({ type: "ready" });
    self.onmessage = (event) => {
      const { id, width, height, pixels } = event.data;
      const started = performance.now();
      try {
        const text = core.decodeQrFrame(new Uint8Array(pixels), width, height);
        self.postMessage({ id, text, ms: performance.now() - started });
      } catch (e) {
        self.postMessage({ id, code: e?.code || "internal", ms: performance.now() - started });
      }
    };
  },
  (e) => self.postMessage({ type: "failed", message: String(e?.message || e) }),
);
