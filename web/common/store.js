/**
 * A small key-value store in IndexedDB: one database, one object store, structured-clone
 * values (objects, strings, numbers, Uint8Array, Blob ...).
 *
 *   import { openStore } from "../common/store.js";
 *   const kv = await openStore("ecert-wallet");
 *   await kv.set("anchor", text);
 *   const text = await kv.get("anchor");      // undefined when absent
 *   await kv.delete("anchor");
 *   await kv.keys();                          // ["..."]
 *   await kv.setMany({ a: 1, b: 2 });         // one transaction: all or nothing
 *
 * Writes resolve once the browser has them on disk (IndexedDB durability "strict").
 * Keep only what may be stored unencrypted here; the wallet's keys and fields live
 * only inside its sealed envelope.
 */

const STORE = "kv";

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Opens (creating if needed) the database `name`. Resolves to the store object. */
export async function openStore(name) {
  if (!("indexedDB" in globalThis)) {
    throw Object.assign(new Error("this browser cannot store data (no IndexedDB)"), { code: "no-storage" });
  }
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await promised(open);
  db.onversionchange = () => db.close();

  function run(mode, work) {
    return new Promise((resolve, reject) => {
      // A write resolves once it is on disk ("strict"): the wallet app stores a one-time
      // copy as used before it shows the code, which must hold even if the device dies.
      const tx = db.transaction(STORE, mode, mode === "readwrite" ? { durability: "strict" } : undefined);
      const store = tx.objectStore(STORE);
      let result;
      Promise.resolve(work(store)).then((r) => { result = r; }, reject);
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("storage transaction aborted"));
    });
  }

  return {
    /** The value stored under `key`, or `undefined`. */
    get: (key) => run("readonly", (s) => promised(s.get(key))),
    /** Stores `value` under `key` (replacing any). */
    set: (key, value) => run("readwrite", (s) => { s.put(value, key); }),
    /** Stores every `key: value` of `entries` in one transaction. */
    setMany: (entries) => run("readwrite", (s) => {
      for (const [k, v] of Object.entries(entries)) s.put(v, k);
    }),
    /** Removes `key` (no error if absent). */
    delete: (key) => run("readwrite", (s) => { s.delete(key); }),
    /** Every key. */
    keys: () => run("readonly", (s) => promised(s.getAllKeys())),
    /** Removes everything. */
    clear: () => run("readwrite", (s) => { s.clear(); }),
    /** Closes the database. */
    close: () => db.close(),
  };
}

/** Asks the browser not to evict this origin's data under storage pressure (best effort). */
export async function persistStorage() {
  try {
    return (await navigator.storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}
