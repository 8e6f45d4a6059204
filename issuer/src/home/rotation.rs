//! Key rotation files: the next key and its proposal while the validators approve it,
//! the start time once certified, and the switch to the next key when it is due.

use ecert_schemas::{KeyId, PublicKeyBytes};
use ecert_shell::files::{create_private_dir, sync_dir, Existing};

use super::{
    read_limited, read_text, remove_if_present, write_atomically, Home, HomeError, KEY_FILE,
    PENDING_CERTIFIED_FILE, PENDING_KEY_FILE, PENDING_PROPOSAL_FILE, PENDING_PUBLIC_FILE,
    PUBLIC_KEY_FILE, RETIRED_DIR,
};

/// A key rotation in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRotation {
    /// The next key, sealed with the same passphrase as the current one.
    pub sealed_key: Vec<u8>,
    /// Its public key.
    pub public_key: PublicKeyBytes,
    /// The proposal's bytes (CBOR `GovernanceBody`).
    pub proposal: Vec<u8>,
    /// Once certified: the second from which the next key takes over.
    pub takes_over: Option<u64>,
}

impl Home {
    /// Keeps the current key under `retired-keys/KEYID.*` and makes `sealed`/`public` the
    /// current key. The retired copy is written before the current one is replaced, and
    /// never replaced: when an interrupted switch is done again, `key.eck` may already
    /// hold the new key, and the copy made the first time is the old key's.
    pub fn replace_key(
        &self,
        sealed: &[u8],
        public: &PublicKeyBytes,
        old_public: &PublicKeyBytes,
    ) -> Result<(), HomeError> {
        let old_id = KeyId::of(old_public).to_hex();
        let retired = self.path(RETIRED_DIR);
        create_private_dir(&retired)?;
        let retired_key = retired.join(format!("{old_id}.eck"));
        if !retired_key.exists() {
            let old_sealed = self.sealed_key()?;
            write_atomically(&retired_key, &old_sealed, Existing::Refuse)?;
        }
        write_atomically(
            &retired.join(format!("{old_id}.pub")),
            format!("{}\n", old_public.to_hex()).as_bytes(),
            Existing::Replace,
        )?;
        write_atomically(&self.path(KEY_FILE), sealed, Existing::Replace)?;
        write_atomically(
            &self.path(PUBLIC_KEY_FILE),
            format!("{}\n", public.to_hex()).as_bytes(),
            Existing::Replace,
        )
    }

    /// Where the proposal of the rotation in progress is kept.
    pub fn pending_proposal_path(&self) -> std::path::PathBuf {
        self.path(PENDING_PROPOSAL_FILE)
    }

    /// A key rotation in progress: the sealed next key, its public key, the proposal's
    /// bytes, and the second it takes over once certified (`None` while not certified).
    pub fn pending_rotation(&self) -> Result<Option<PendingRotation>, HomeError> {
        let key = self.path(PENDING_KEY_FILE);
        if !key.exists() {
            return Ok(None);
        }
        let public_path = self.path(PENDING_PUBLIC_FILE);
        let public = PublicKeyBytes::from_hex(read_text(&public_path)?.trim()).map_err(|e| {
            HomeError::Damaged {
                path: public_path,
                detail: e.to_string(),
            }
        })?;
        let certified_path = self.path(PENDING_CERTIFIED_FILE);
        let takes_over = if certified_path.exists() {
            let text = read_text(&certified_path)?;
            Some(text.trim().parse().map_err(|_| HomeError::Damaged {
                path: certified_path,
                detail: "expected a whole number".into(),
            })?)
        } else {
            None
        };
        Ok(Some(PendingRotation {
            sealed_key: read_limited(&key)?,
            public_key: public,
            proposal: read_limited(&self.path(PENDING_PROPOSAL_FILE))?,
            takes_over,
        }))
    }

    /// Records a proposed rotation (refuses if one is pending).
    pub fn write_pending_rotation(
        &self,
        sealed: &[u8],
        public: &PublicKeyBytes,
        proposal: &[u8],
    ) -> Result<(), HomeError> {
        // A new rotation is not certified: a mark left by an earlier one interrupted while
        // it was cleared must not carry over.
        remove_if_present(&self.path(PENDING_CERTIFIED_FILE))?;
        write_atomically(
            &self.path(PENDING_PROPOSAL_FILE),
            proposal,
            Existing::Replace,
        )?;
        write_atomically(
            &self.path(PENDING_PUBLIC_FILE),
            format!("{}\n", public.to_hex()).as_bytes(),
            Existing::Replace,
        )?;
        // The key last: its presence is what makes a rotation pending.
        write_atomically(&self.path(PENDING_KEY_FILE), sealed, Existing::Refuse)
    }

    /// Records that the ledger certified the pending rotation, taking over at `at`.
    pub fn mark_rotation_certified(&self, at: u64) -> Result<(), HomeError> {
        write_atomically(
            &self.path(PENDING_CERTIFIED_FILE),
            format!("{at}\n").as_bytes(),
            Existing::Replace,
        )
    }

    /// Abandons a rotation the ledger has not certified: deletes the next key and its
    /// proposal. Refuses a certified one (the ledger already retires the current key).
    pub fn cancel_pending_rotation(&self) -> Result<bool, HomeError> {
        let Some(pending) = self.pending_rotation()? else {
            return Ok(false);
        };
        if pending.takes_over.is_some() {
            return Err(HomeError::BadValue(
                "this rotation was already certified by the ledger: it cannot be abandoned".into(),
            ));
        }
        // The key first: without it, no rotation is pending.
        for name in [PENDING_KEY_FILE, PENDING_PUBLIC_FILE, PENDING_PROPOSAL_FILE] {
            remove_if_present(&self.path(name))?;
        }
        sync_dir(self.dir());
        Ok(true)
    }

    /// If a certified rotation's time has come (`now` ≥ its start), makes the pending key
    /// the current one (the old key is kept under `retired-keys/`). Whether it switched.
    pub fn promote_due_rotation(&self, now: u64) -> Result<bool, HomeError> {
        let Some(pending) = self.pending_rotation()? else {
            return Ok(false);
        };
        if pending.takes_over.is_none_or(|at| now < at) {
            return Ok(false);
        }
        let old = self.public_key()?;
        self.replace_key(&pending.sealed_key, &pending.public_key, &old)?;
        let retired = self.path(RETIRED_DIR);
        let old_id = KeyId::of(&old).to_hex();
        write_atomically(
            &retired.join(format!("{old_id}.rotation.cbor")),
            &pending.proposal,
            Existing::Replace,
        )?;
        for name in [
            PENDING_KEY_FILE,
            PENDING_PUBLIC_FILE,
            PENDING_PROPOSAL_FILE,
            PENDING_CERTIFIED_FILE,
        ] {
            remove_if_present(&self.path(name))?;
        }
        sync_dir(self.dir());
        Ok(true)
    }
}
