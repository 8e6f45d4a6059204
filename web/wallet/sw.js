// The wallet's service worker: its files (../core/pkg/files.js, written by
// scripts/build-web) served from a versioned cache, so that the wallet opens and shows
// QR codes with the network off once it has been loaded. See ../common/sw-shell.js.
importScripts("../core/pkg/files.js", "../common/sw-shell.js");
ecertShell("wallet");
