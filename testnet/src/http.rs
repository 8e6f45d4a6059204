//! A small blocking client for the node's API (`docs/api.md`), on `ureq`.

use std::time::Duration;

use crate::TestnetError;

/// Largest answer read (a trust-bundle export).
const MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// An HTTP answer: status and body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The `error` code of a JSON error body.
    pub fn error_code(&self) -> Option<String> {
        self.json()
            .get("error")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }
}

/// A client with one timeout for every request.
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
}

impl Http {
    /// A client whose requests fail after `timeout`.
    pub fn new(timeout: Duration) -> Http {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build();
        Http {
            agent: ureq::Agent::new_with_config(config),
        }
    }

    fn finish(
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, TestnetError> {
        let err = |detail: String| TestnetError::Http {
            url: url.to_owned(),
            detail,
        };
        let mut response = result.map_err(|e| err(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(|e| err(e.to_string()))?;
        Ok(Reply { status, body })
    }

    /// `GET url`.
    pub fn get(&self, url: &str) -> Result<Reply, TestnetError> {
        Http::finish(url, self.agent.get(url).call())
    }

    /// `POST url` with a CBOR body.
    pub fn post_cbor(&self, url: &str, body: &[u8]) -> Result<Reply, TestnetError> {
        Http::finish(
            url,
            self.agent
                .post(url)
                .header("content-type", "application/cbor")
                .send(body),
        )
    }
}
