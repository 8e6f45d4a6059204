// The QR decoder worker, in the wallet's folder so that the wallet's service worker
// serves it (and what it loads) offline. See ../common/scan-worker.js.
import "../common/scan-worker.js";
