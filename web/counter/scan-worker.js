// The QR decoder worker, in the counter's folder so that the counter's service worker
// serves it (and what it loads) offline. See ../common/scan-worker.js.
import "../common/scan-worker.js";
