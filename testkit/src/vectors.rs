//! Public test vectors (RFC 9285, RFC 6962, Wycheproof, COSE), read at run time from
//! `shared/testdata/`, the folder beside the repository checkout (see each `SOURCE.txt`
//! there). A missing folder is a test failure, never a skip.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// `shared/testdata/`, which sits beside the repository checkout.
pub fn testdata() -> PathBuf {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/testdata"
    ));
    assert!(
        dir.is_dir(),
        "public test vectors not found at {}: the `shared/` folder must sit beside the repository \
         checkout (…/main and …/shared); CI always provides it",
        dir.display()
    );
    dir.to_path_buf()
}

/// The JSON file at `relative` (e.g. `base45/rfc9285_vectors.json`) in [`testdata`].
pub fn read_json(relative: &str) -> Value {
    let path = testdata().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}
