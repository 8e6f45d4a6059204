/**
 * The Rust core (web/core, compiled to WebAssembly), loaded once per page or worker.
 *
 *   import { loadCore, now } from "../common/core.js";
 *   const core = await loadCore();          // the module of ../core/pkg/ecert_web.js, initialised
 *   const w = core.Wallet.create();
 *
 * Every rule and every piece of cryptography is in there; JavaScript only calls it.
 */

let loading = null;

/** The initialised `ecert_web` module (the same promise for every caller). */
export function loadCore() {
  if (!loading) {
    loading = (async () => {
      const core = await import(new URL("../core/pkg/ecert_web.js", import.meta.url).href);
      await core.default();
      return core;
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}

/** The time the core wants: seconds since 1970-01-01 UTC. */
export function now() {
  return Date.now() / 1000;
}
