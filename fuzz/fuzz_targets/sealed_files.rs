//! Files sealed with a passphrase: the wallet file (`ECW1`, `ecert_wallet::store::open`),
//! a department's key (`ECK1`) and a node's key (`ECN1`) (`ecert_sealed::open_secret`),
//! opened with a fixed passphrase. The envelope must refuse whatever is wrong, never panic.
//!
//! The first byte picks what the rest is:
//! - 0: a wallet file; 1: a department's key file; 2: a node's key file. Files whose
//!   header asks for more than a cheap key derivation (above 256 KiB × 2 passes) are
//!   skipped: the bounds themselves are checked, but a derivation within them would cost
//!   each run up to seconds (the tests of `ecert-sealed` cover large parameters);
//! - 3: a wallet's contents (the plaintext), sealed here with a cheap derivation and then
//!   opened by `store::open_with_history`: the authenticated contents a mutated file can
//!   never reach (its tag would not verify), read as the wallet reads them. Contents that
//!   open seal again to the same file, except those of version 1 (before the history),
//!   which are written as version 2 with the same key and certificates and no history.
#![no_main]

use ecert_sealed::{open_secret, seal_secret, KdfParams};
use ecert_wallet::store;
use libfuzzer_sys::fuzz_target;
use rand_core::{CryptoRng, RngCore};

/// A fixed "random" source: the salt and nonce do not matter here.
struct Fixed;

impl RngCore for Fixed {
    fn next_u32(&mut self) -> u32 {
        7
    }
    fn next_u64(&mut self) -> u64 {
        7
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(7);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(7);
        Ok(())
    }
}

impl CryptoRng for Fixed {}

/// Whether the KDF parameters in a sealed file's header (after the magic and version)
/// are cheap enough to derive on every run.
fn cheap(file: &[u8]) -> bool {
    let word = |at: usize| {
        file.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    match (word(5), word(9), word(13)) {
        (Some(m), Some(t), Some(p)) => KdfParams::new(m, t, p).is_err() || (m <= 256 && t <= 2),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((choice, rest)) = data.split_first() else {
        return;
    };
    let passphrase = ecert_fuzz::World::passphrase();
    match choice % 4 {
        0 if cheap(rest) => {
            let _ = store::open(rest, &passphrase);
        }
        1 if cheap(rest) => {
            let _ = open_secret(*b"ECK1", rest, &passphrase);
        }
        2 if cheap(rest) => {
            let _ = open_secret(*b"ECN1", rest, &passphrase);
        }
        3 => {
            let params = KdfParams::new(8, 1, 1).expect("cheap parameters");
            let file = seal_secret(store::MAGIC, rest, &passphrase, params, &mut Fixed)
                .expect("a secret under 16 MiB seals");
            if let Ok((contents, history)) = store::open_with_history(&file, &passphrase) {
                let again =
                    store::seal_with_history(&contents, &history, &passphrase, params, &mut Fixed)
                        .expect("opened contents seal again");
                if rest.starts_with(&[0x83, 0x01]) {
                    assert!(history.is_empty(), "a version-1 wallet has no history");
                    let (migrated, kept) = store::open_with_history(&again, &passphrase)
                        .expect("a version-1 wallet written again opens");
                    assert_eq!(*migrated.holder.seed(), *contents.holder.seed());
                    assert_eq!(migrated.packages, contents.packages);
                    assert!(kept.is_empty());
                } else {
                    assert_eq!(
                        again, file,
                        "wallet contents do not re-encode to the same bytes"
                    );
                }
            }
        }
        _ => {}
    }
});
