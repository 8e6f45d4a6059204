/**
 * The service worker of an app shell: precaches the app's files in a versioned cache,
 * serves them cache-first (so the app starts and works with the network off once loaded),
 * and replaces the cache cleanly when a new version is published.
 *
 * An app's `sw.js` (a classic script, in the app's folder, so that its scope is the app):
 *
 *   importScripts("../core/pkg/files.js", "../common/sw-shell.js");
 *   ecertShell("wallet");
 *
 * `../core/pkg/files.js` is written by `scripts/build-web`: for each app, the files of its
 * shell (relative to `web/`) and a version hashed from their contents, so any change to
 * any of them (or to the WebAssembly) makes a new service worker. Without it (before the
 * first build) nothing is cached and the app works online only.
 *
 * Updates: the new worker installs into a new cache `ecert-APP-VERSION` and waits; the page
 * (pwa.js) offers to switch; on "skip-waiting" it takes over, deletes the app's old
 * caches and the page reloads. Everything else (API calls to nodes and offer servers)
 * goes to the network untouched.
 */
/* global self, caches, ecertShell */
self.ecertShell = function ecertShell(app) {
  const manifest = self.ECERT_FILES && self.ECERT_FILES[app];
  const prefix = `ecert-${app}-`;
  const cacheName = manifest ? prefix + manifest.version : null;
  // The web/ root: one level above the app's folder (the worker's scope).
  const root = new URL("../", self.registration.scope);
  const appUrl = new URL(`${app}/`, root).href;
  const files = manifest ? manifest.files.map((f) => new URL(f, root).href) : [];
  const inShell = new Set(files);

  self.addEventListener("install", (event) => {
    if (!cacheName) return;
    event.waitUntil((async () => {
      const cache = await caches.open(cacheName);
      // Checked with the server (not taken from the HTTP cache unasked), so all files are
      // of one version; a file the page just loaded comes back as "304 Not Modified" and
      // is not downloaded twice.
      await cache.addAll(files.map((url) => new Request(url, { cache: "no-cache" })));
      // The first install takes over at once; an update waits for the page to agree.
      if (!self.registration.active) await self.skipWaiting();
    })());
  });

  self.addEventListener("activate", (event) => {
    event.waitUntil((async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(prefix) && name !== cacheName) await caches.delete(name);
      }
      await self.clients.claim();
    })());
  });

  self.addEventListener("message", (event) => {
    if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  });

  self.addEventListener("fetch", (event) => {
    const request = event.request;
    if (!cacheName || request.method !== "GET") return;
    const url = new URL(request.url);
    url.hash = "";
    let key = null;
    if (request.mode === "navigate" && (url.href === appUrl || url.href.startsWith(appUrl + "?")
        || url.href.startsWith(appUrl + "index.html"))) {
      key = appUrl + "index.html";
    } else {
      url.search = "";
      if (inShell.has(url.href)) key = url.href;
    }
    if (!key) return;
    event.respondWith((async () => {
      const cache = await caches.open(cacheName);
      const hit = await cache.match(key);
      return hit || fetch(request);
    })());
  });
};
