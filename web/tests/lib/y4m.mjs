/**
 * A video file for Chromium's fake camera (`--use-file-for-fake-video-capture`) made from
 * a picture of a QR code: the PNG is decoded in the browser (createImageBitmap), drawn
 * centred on a white frame, and converted from RGBA to 4:2:0 Y'CbCr planes (BT.601, full
 * range, as `C420jpeg` says) in JavaScript. No external tool.
 *
 *   await writeY4m(page, pngBuffer, "/tmp/qr.y4m", { width: 1280, height: 720 });
 *   await writeY4m(page, [pngA, pngB], "/tmp/ab.y4m", { frames: 6, fps: 10 });   // A, then B
 */
import { writeFileSync } from "node:fs";

/**
 * Writes `path`: a YUV4MPEG2 video of `width × height` (even numbers) at `fps` frames a
 * second showing `png` (or each PNG of a list in turn), scaled to `fill` of the frame's
 * height, for `frames` frames each. `page` is any page of a browser (its content is not
 * touched).
 */
export async function writeY4m(page, png, path, { width = 1280, height = 720, fill = 0.8, frames = 2, fps = 30 } = {}) {
  if (width % 2 || height % 2) throw new Error("4:2:0 needs an even width and height");
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, "ascii");
  const parts = [header];
  for (const picture of Array.isArray(png) ? png : [png]) {
    const frame = await planesOf(page, picture, { width, height, fill });
    for (let i = 0; i < frames; i += 1) parts.push(Buffer.from("FRAME\n", "ascii"), frame);
  }
  writeFileSync(path, Buffer.concat(parts));
}

/** One frame's Y, Cb and Cr planes (4:2:0) of `png` centred on white. */
async function planesOf(page, png, { width, height, fill }) {
  const planes = await page.evaluate(async ({ b64, width, height, fill }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    const scale = Math.min((width * fill) / bitmap.width, (height * fill) / bitmap.height);
    const w = Math.round(bitmap.width * scale);
    const h = Math.round(bitmap.height * scale);
    ctx.drawImage(bitmap, Math.round((width - w) / 2), Math.round((height - h) / 2), w, h);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    const ySize = width * height;
    const cSize = ySize / 4;
    const out = new Uint8Array(ySize + 2 * cSize);
    const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
    for (let i = 0, p = 0; i < ySize; i += 1, p += 4) {
      out[i] = clamp(0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]);
    }
    const cw = width / 2;
    for (let cy = 0; cy < height / 2; cy += 1) {
      for (let cx = 0; cx < cw; cx += 1) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
          const p = ((2 * cy + dy) * width + 2 * cx + dx) * 4;
          r += rgba[p];
          g += rgba[p + 1];
          b += rgba[p + 2];
        }
        r /= 4;
        g /= 4;
        b /= 4;
        out[ySize + cy * cw + cx] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        out[ySize + cSize + cy * cw + cx] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
    let text = "";
    for (let i = 0; i < out.length; i += 0x8000) text += String.fromCharCode(...out.subarray(i, i + 0x8000));
    return btoa(text);
  }, { b64: Buffer.from(png).toString("base64"), width, height, fill });
  return Buffer.from(planes, "base64");
}
