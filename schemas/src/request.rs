//! Counters that ask: a counter's registration by its department, and the request it
//! shows as a QR code (which fields or facts of which kinds it needs, and why). The
//! wallet checks both (`ecert_verifier::request`), discloses only what was asked and
//! allowed, and binds its answer to the request (`docs/protocol.md` §3.3c).

use crate::codec::{base45, cbor_array, from_cbor, to_cbor};
use crate::{
    ChainId, IssuerId, KeyId, KindId, Nonce, PublicKeyBytes, SchemaError, SignatureBytes, UnixTime,
};

/// Version of the request structure.
pub const REQUEST_VERSION: u64 = 1;
/// Prefix of a request's QR string (base45 of its CBOR).
pub const REQUEST_PREFIX: &str = "ECQ1:";
/// Most kinds one registration or request names.
pub const MAX_ASKED_KINDS: usize = 8;
/// Longest name, role or purpose, in bytes.
pub const MAX_TEXT: usize = 200;
/// Largest request accepted, in bytes.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024;

cbor_array! {
    /// Fields of one kind, by key (`[kind, [* field key]]`): what a registration lets a
    /// counter ask for, or what a request asks for.
    pub struct FieldsAsked {
        /// The kind.
        pub kind: KindId,
        /// Field keys of the kind (facts included), e.g. `age_over_18`.
        pub fields: Vec<String>,
    }
}

impl FieldsAsked {
    /// Reads `KIND:FIELD,FIELD` as people type it (spaces around names ignored); at
    /// least one field, none twice. Whether the kind has the fields is checked against
    /// the kinds (`ecert_verifier::request`).
    pub fn parse(spec: &str) -> Result<FieldsAsked, SchemaError> {
        let what = "KIND:FIELD,FIELD";
        let (kind, fields) = spec
            .split_once(':')
            .ok_or_else(|| SchemaError::malformed(what, "write the kind, a colon, then fields"))?;
        let kind = KindId::new(kind.trim())?;
        let mut list: Vec<String> = Vec::new();
        for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            if list.iter().any(|f| f == field) {
                return Err(SchemaError::malformed(
                    what,
                    format!("field {field:?} is named twice"),
                ));
            }
            list.push(field.to_owned());
        }
        if list.is_empty() {
            return Err(SchemaError::malformed(what, "name at least one field"));
        }
        Ok(FieldsAsked { kind, fields: list })
    }
}

cbor_array! {
    /// What a department states about one of its counters (signed with the department's
    /// issuer key, context `ecert/v2/counter-registration`).
    pub struct CounterRegistrationBody {
        /// The ledger whose registry names the department.
        pub chain_id: ChainId,
        /// The registering department.
        pub department: IssuerId,
        /// The department's issuer key that signs.
        pub key_id: KeyId,
        /// The counter's own key, which signs its requests.
        pub counter_key: PublicKeyBytes,
        /// The counter's name, as a citizen should read it.
        pub name: String,
        /// The name in the local language.
        pub name_local: Option<String>,
        /// What kind of counter it is (`office`, `employer`, `hotel`, ...): the word a
        /// kind's audience names.
        pub role: String,
        /// The fields it may ask for.
        pub may_ask: Vec<FieldsAsked>,
        /// Start of the registration's validity.
        pub valid_from: UnixTime,
        /// End of the registration's validity.
        pub valid_until: UnixTime,
    }
}

impl CounterRegistrationBody {
    /// The exact bytes signed (before the context).
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }
}

cbor_array! {
    /// A counter registration: `[body, signature]`.
    pub struct CounterRegistration {
        /// What the department states.
        pub body: CounterRegistrationBody,
        /// The department's signature.
        pub signature: SignatureBytes,
    }
}

impl CounterRegistration {
    /// Encodes the registration.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a registration strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<CounterRegistration, SchemaError> {
        from_cbor("counter registration", bytes)
    }
}

cbor_array! {
    /// What a counter asks, signed with its registered key (context `ecert/v2/request`).
    pub struct RequestBody {
        /// The counter's registration.
        pub registration: CounterRegistration,
        /// The fields it needs, by kind.
        pub asks: Vec<FieldsAsked>,
        /// Why, in words for the citizen.
        pub purpose: String,
        /// A fresh challenge.
        pub nonce: Nonce,
        /// When the counter made the request.
        pub time: UnixTime,
    }
}

impl RequestBody {
    /// The exact bytes signed (before the context).
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }
}

cbor_array! {
    /// A counter's request: `[1, body, signature]`.
    pub struct PresentationRequest {
        /// [`REQUEST_VERSION`].
        pub version: u64,
        /// What it asks.
        pub body: RequestBody,
        /// The counter key's signature.
        pub signature: SignatureBytes,
    }
}

impl PresentationRequest {
    /// Encodes the request.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a request strictly and within bounds.
    pub fn from_bytes(bytes: &[u8]) -> Result<PresentationRequest, SchemaError> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(SchemaError::TooLarge {
                actual: bytes.len(),
                limit: MAX_REQUEST_BYTES,
            });
        }
        let request: PresentationRequest = crate::codec::from_cbor_versioned(
            "presentation request",
            bytes,
            MAX_REQUEST_BYTES,
            3,
            REQUEST_VERSION,
            |r: &PresentationRequest| r.version,
        )?;
        let body = &request.body;
        let registration = &body.registration.body;
        let texts = [
            registration.name.as_str(),
            registration.role.as_str(),
            body.purpose.as_str(),
        ];
        if texts.iter().any(|t| t.is_empty() || t.len() > MAX_TEXT)
            || registration
                .name_local
                .as_ref()
                .is_some_and(|n| n.len() > MAX_TEXT)
        {
            return Err(SchemaError::malformed(
                "presentation request",
                format!("names, role and purpose have 1 to {MAX_TEXT} bytes"),
            ));
        }
        if body.asks.is_empty()
            || body.asks.len() > MAX_ASKED_KINDS
            || registration.may_ask.len() > MAX_ASKED_KINDS
        {
            return Err(SchemaError::malformed(
                "presentation request",
                format!("a request asks about 1 to {MAX_ASKED_KINDS} kinds"),
            ));
        }
        Ok(request)
    }

    /// The request's QR string: `ECQ1:` and the base45 of its CBOR.
    pub fn to_qr_string(&self) -> Result<String, SchemaError> {
        Ok(format!(
            "{REQUEST_PREFIX}{}",
            base45::encode(&self.to_bytes()?)
        ))
    }

    /// Reads a request from its QR string (surrounding line ends ignored).
    pub fn from_qr_string(text: &str) -> Result<PresentationRequest, SchemaError> {
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace() && c != ' ');
        let body = text
            .strip_prefix(REQUEST_PREFIX)
            .ok_or(SchemaError::MissingPrefix)?;
        if body.len() > MAX_REQUEST_BYTES * 2 {
            return Err(SchemaError::TooLarge {
                actual: body.len(),
                limit: MAX_REQUEST_BYTES * 2,
            });
        }
        PresentationRequest::from_bytes(&base45::decode(body)?)
    }

    /// The nonce a wallet's answer carries: the first 16 bytes of SHA-256 over the
    /// request's bytes, so that the answer is bound to this request and no other.
    pub fn binding(&self) -> Result<Nonce, SchemaError> {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.to_bytes()?);
        Nonce::new(digest.iter().take(16).copied().collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fields_asked_parse_from_kind_colon_fields() {
        let asked = FieldsAsked::parse(" id-card : name, age_over_18 ,").unwrap();
        assert_eq!(asked.kind.as_str(), "id-card");
        assert_eq!(asked.fields, ["name", "age_over_18"]);
        for bad in ["id-card", "id-card:", "id-card:name,name", "Bad Kind:name"] {
            assert!(FieldsAsked::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn request_strings_need_their_prefix() {
        assert_eq!(
            PresentationRequest::from_qr_string("EC1R:AB"),
            Err(SchemaError::MissingPrefix)
        );
        assert!(PresentationRequest::from_qr_string("ECQ1:%%%").is_err());
    }
}
