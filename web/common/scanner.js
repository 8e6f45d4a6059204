/**
 * Continuous QR scanning with the camera: the rear camera when there is one, frames drawn
 * to a canvas and read by the core's `decodeQrFrame` (rqrr, in WebAssembly) in a Worker,
 * or on the main thread, throttled, where the Worker cannot start. A camera's first
 * frames are often dark or blurred: scanning simply keeps trying.
 *
 *   import { QrScanner } from "../common/scanner.js";
 *   const scanner = new QrScanner(videoElement, {
 *     onText: (text, info) => { ... },   // each decoded text; info = { decodeMs, frameAt }
 *     workerUrl: new URL("./scan-worker.js", import.meta.url),   // optional, see scan-worker.js
 *   });
 *   try { await scanner.start(); } catch (e) { show(errorText(e, lang)); }   // e.code: camera-*
 *   scanner.stop();
 *
 * The same text is reported again only after `repeatMs` (default 3000 ms) without it.
 * `start()` fails with an Error whose `code` is `camera-denied` (the person or the browser
 * refused), `camera-absent` (no camera), `camera-busy` (used by another app),
 * `camera-insecure` (not a secure context: use https or 127.0.0.1) or `camera-failed`.
 * `scanner.stats` counts frames and decodes, for measurements.
 */
import { loadCore } from "./core.js";
import { errorText } from "./errors.js";

function cameraError(code, cause) {
  const e = new Error(errorText(code));
  e.code = code;
  e.cause = cause;
  return e;
}

/** Opens the camera (the rear one preferred). Rejects with a coded Error (see above). */
export async function openCamera({ facingMode = "environment", width = 1280, height = 720 } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw cameraError(globalThis.isSecureContext ? "camera-absent" : "camera-insecure");
  }
  const ask = (video) => navigator.mediaDevices.getUserMedia({ video, audio: false });
  try {
    return await ask({ facingMode: { ideal: facingMode }, width: { ideal: width }, height: { ideal: height } });
  } catch (first) {
    if (first?.name === "OverconstrainedError") {
      try { return await ask(true); } catch (second) { first = second; }
    }
    switch (first?.name) {
      case "NotAllowedError":
      case "SecurityError":
        throw cameraError("camera-denied", first);
      case "NotFoundError":
      case "OverconstrainedError":
        throw cameraError("camera-absent", first);
      case "NotReadableError":
      case "AbortError":
        throw cameraError("camera-busy", first);
      default:
        throw cameraError("camera-failed", first);
    }
  }
}

/** A continuous scanner on a `<video>` element (see the module's documentation). */
export class QrScanner {
  constructor(video, {
    onText,
    workerUrl = new URL("./scan-worker.js", import.meta.url),
    maxSide = 1280,
    intervalMs = 100,
    mainThreadIntervalMs = 300,
    repeatMs = 3000,
    facingMode = "environment",
  } = {}) {
    this.video = video;
    this.onText = onText || (() => {});
    this.options = { workerUrl, maxSide, intervalMs, mainThreadIntervalMs, repeatMs, facingMode };
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.stream = null;
    this.worker = null;
    this.core = null;
    this.timer = null;
    this.busy = false;
    this.frameId = 0;
    this.last = { text: null, at: 0 };
    this.stats = { frames: 0, decoded: 0, lastDecodeMs: 0, inWorker: false };
  }

  /** Whether the camera is on. */
  get running() {
    return this.stream !== null;
  }

  /** Turns the camera on and starts scanning. */
  async start() {
    if (this.stream) return;
    const decoder = this.#startDecoder();
    decoder.catch(() => {});
    const stream = await openCamera({ facingMode: this.options.facingMode });
    this.stream = stream;
    this.video.setAttribute("playsinline", "");
    this.video.muted = true;
    this.video.srcObject = stream;
    try {
      await this.video.play();
    } catch (e) {
      if (e?.name !== "AbortError") throw cameraError("camera-failed", e);
    }
    await decoder;
    if (!this.stream) return; // stopped meanwhile
    this.#schedule();
  }

  /** Turns the camera off; `start()` may be called again. */
  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stream) {
      for (const track of this.stream.getTracks()) track.stop();
    }
    this.stream = null;
    this.video.srcObject = null;
    this.busy = false;
    this.last = { text: null, at: 0 };
  }

  /** Stops and also ends the Worker. */
  dispose() {
    this.stop();
    this.worker?.terminate();
    this.worker = null;
  }

  async #startDecoder() {
    if (this.worker || this.core) return;
    try {
      this.worker = await new Promise((resolve, reject) => {
        const worker = new Worker(this.options.workerUrl, { type: "module" });
        const timeout = setTimeout(() => reject(new Error("the scanning worker did not start")), 15000);
        worker.onmessage = (event) => {
          clearTimeout(timeout);
          if (event.data?.type === "ready") resolve(worker);
          else reject(new Error(event.data?.message || "the scanning worker failed"));
        };
        worker.onerror = (event) => {
          clearTimeout(timeout);
          event.preventDefault?.();
          reject(new Error(event.message || "the scanning worker failed"));
        };
      });
      this.worker.onmessage = (event) => this.#answer(event.data);
      this.stats.inWorker = true;
    } catch (e) {
      console.info("QR decoding runs on the main thread:", e?.message || e);
      this.worker?.terminate?.();
      this.worker = null;
      this.core = await loadCore();
      this.stats.inWorker = false;
    }
  }

  #schedule() {
    if (!this.stream) return;
    const wait = this.worker ? this.options.intervalMs
      : Math.max(this.options.mainThreadIntervalMs, 2 * this.stats.lastDecodeMs);
    this.timer = setTimeout(() => this.#tick(), wait);
  }

  #tick() {
    if (!this.stream) return;
    const v = this.video;
    if (this.busy || v.readyState < 2 || !v.videoWidth) {
      this.#schedule();
      return;
    }
    const scale = Math.min(1, this.options.maxSide / Math.max(v.videoWidth, v.videoHeight));
    const width = Math.max(1, Math.round(v.videoWidth * scale));
    const height = Math.max(1, Math.round(v.videoHeight * scale));
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    // The frame's time is taken before its pixels are grabbed: frame-to-verdict figures
    // include the copy from the camera.
    const frameAt = performance.now();
    this.context.drawImage(v, 0, 0, width, height);
    const pixels = this.context.getImageData(0, 0, width, height).data;
    const id = ++this.frameId;
    this.stats.frames += 1;
    if (this.worker) {
      this.busy = true;
      this.frameAt = frameAt;
      this.worker.postMessage({ id, width, height, pixels: pixels.buffer }, [pixels.buffer]);
      this.#schedule();
      return;
    }
    const started = performance.now();
    let answer;
    try {
      answer = { id, text: this.core.decodeQrFrame(new Uint8Array(pixels.buffer), width, height) };
    } catch (e) {
      answer = { id, code: e?.code || "internal" };
    }
    answer.ms = performance.now() - started;
    this.frameAt = frameAt;
    this.busy = true;
    this.#answer(answer);
    this.#schedule();
  }

  #answer({ id, text, ms }) {
    this.busy = false;
    this.stats.lastDecodeMs = ms || 0;
    if (id !== this.frameId || !this.stream || typeof text !== "string") return;
    this.stats.decoded += 1;
    const at = performance.now();
    const repeated = text === this.last.text && at - this.last.at < this.options.repeatMs;
    this.last = { text, at };
    if (repeated) return;
    try {
      this.onText(text, { decodeMs: ms, frameAt: this.frameAt });
    } catch (e) {
      console.error(e);
    }
  }
}
