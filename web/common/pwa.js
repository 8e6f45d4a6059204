/**
 * The page's side of the offline app shell (the service worker side is sw-shell.js).
 *
 *   import { registerShell } from "../common/pwa.js";
 *   registerShell("./sw.js", { onUpdate: (apply) => showBanner("New version", apply) });
 *
 * `onUpdate(apply)` is called when a new version has been downloaded and is waiting;
 * `apply()` switches to it and reloads the page (ask first: a reload loses what is on
 * screen). Resolves to the registration, or `null` where service workers are not
 * available (no secure context, or blocked): the app then works online only.
 */
export async function registerShell(swUrl, { onUpdate } = {}) {
  if (!("serviceWorker" in navigator)) return null;
  let registration;
  try {
    registration = await navigator.serviceWorker.register(swUrl, { updateViaCache: "none" });
  } catch (e) {
    console.warn("offline use is not available:", e);
    return null;
  }
  let reloading = false;
  const apply = (worker) => () => {
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (!reloading) {
        reloading = true;
        location.reload();
      }
    });
    worker.postMessage({ type: "skip-waiting" });
  };
  const offer = (worker) => {
    if (worker && navigator.serviceWorker.controller && onUpdate) onUpdate(apply(worker));
  };
  const track = (worker) => {
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed") offer(worker);
    });
  };
  offer(registration.waiting);
  track(registration.installing);
  registration.addEventListener("updatefound", () => track(registration.installing));
  // Check again when the app comes back to the foreground.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") registration.update().catch(() => {});
  });
  return registration;
}

/** Whether the page is running as an installed app (standalone display). */
export function isInstalled() {
  return matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
}
