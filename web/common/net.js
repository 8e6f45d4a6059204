/**
 * Network calls to ledger nodes and offer servers, with failures that carry a stable
 * `code`: `network` (unreachable, refused, blocked), the server's own code from its JSON
 * error body (`{"error": "offer-used", "message": ...}`), or `bad-answer`. `status` holds
 * the HTTP status when there was one.
 *
 *   import { fetchBytes, postBytes } from "../common/net.js";
 *   const bundle = await fetchBytes(new URL("/v1/export", nodeUrl));
 *   const pkg = await postBytes(redeemUrl, requestBytes);        // application/cbor
 *   const { status, bytes } = await postForAnswer(refillUrl, requestBytes);  // 200 or 202
 */

const TIMEOUT_MS = 20000;

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch { /* not JSON */ }
  const e = new Error(body?.message || `the server answered ${response.status} ${response.statusText}`);
  e.code = typeof body?.error === "string" ? body.error : "bad-answer";
  e.status = response.status;
  e.serverMessage = body?.message ?? null;
  return e;
}

async function call(url, init) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store", signal: AbortSignal.timeout?.(TIMEOUT_MS), ...init });
  } catch (cause) {
    const e = new Error(`${url} could not be reached`);
    e.code = "network";
    e.cause = cause;
    throw e;
  }
  if (!response.ok) throw await failure(response);
  return response;
}

/** GET `url`, the body as a Uint8Array. */
export async function fetchBytes(url) {
  const response = await call(String(url), { headers: { Accept: "application/cbor" } });
  return new Uint8Array(await response.arrayBuffer());
}

/** GET `url`, the body as JSON. */
export async function fetchJson(url) {
  const response = await call(String(url), { headers: { Accept: "application/json" } });
  try {
    return await response.json();
  } catch (cause) {
    const e = new Error("the answer is not JSON");
    e.code = "bad-answer";
    e.cause = cause;
    throw e;
  }
}

/** POST `bytes` (CBOR) to `url`, the body of the answer as a Uint8Array. */
export async function postBytes(url, bytes) {
  const response = await call(String(url), {
    method: "POST",
    headers: { "Content-Type": "application/cbor", Accept: "application/cbor" },
    body: bytes,
  });
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * POST `bytes` (CBOR) to `url` for a server that answers in more than one way when it
 * succeeds (`POST /v1/refills`: `200` with CBOR, `202` with JSON): resolves to
 * `{ status, json, bytes }` (`json` when the answer is JSON, else `bytes`). Failures as
 * for `postBytes`.
 */
export async function postForAnswer(url, bytes) {
  const response = await call(String(url), {
    method: "POST",
    headers: { "Content-Type": "application/cbor", Accept: "application/cbor, application/json" },
    body: bytes,
  });
  const body = new Uint8Array(await response.arrayBuffer());
  if (!/^application\/json\b/i.test(response.headers.get("Content-Type") || "")) {
    return { status: response.status, json: null, bytes: body };
  }
  try {
    return { status: response.status, json: JSON.parse(new TextDecoder().decode(body)), bytes: null };
  } catch (cause) {
    const e = new Error("the answer is not JSON");
    e.code = "bad-answer";
    e.status = response.status;
    e.cause = cause;
    throw e;
  }
}
