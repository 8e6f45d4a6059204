//! The addresses people give the tools and the browser wallet (`--node`, `--issuer`, offer
//! links and their QR codes, the wallet app's `#offer=` links): `ServerUrl::parse` and
//! `OfferLink::parse`, and the wallet app address check. Round trips: an accepted address
//! reads back the same from what it writes (`base()`, `url()`, `wallet_app_link`).
#![no_main]

use ecert_issuer::server::is_wallet_app_url;
use ecert_schemas::address::{is_loopback_host, wallet_app_link, OfferLink, ServerUrl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = is_wallet_app_url(text);
    let _ = is_loopback_host(text);
    if let Ok(url) = ServerUrl::parse(text) {
        let _ = (url.scheme(), url.is_loopback(), url.join("/v1/export"));
        assert_eq!(ServerUrl::parse(url.base()).as_ref(), Ok(&url));
        assert_eq!(ServerUrl::parse(&url.to_string()).as_ref(), Ok(&url));
    }
    if let Ok(link) = OfferLink::parse(text) {
        let _ = link.redeem_url();
        assert_eq!(OfferLink::parse(&link.url()).as_ref(), Ok(&link));
        let app = wallet_app_link("https://node.example:8443/wallet/", &link.url());
        assert_eq!(OfferLink::parse(&app).as_ref(), Ok(&link));
    }
});
