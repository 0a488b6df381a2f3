//! The paired servers: what the device remembers of each pairing (no secret: the key is in the
//! keyring), and how the UI lists them.

use serde::{Deserialize, Serialize};
use twofold_protocol::text::neutralise;
use twofold_protocol::{PublicKey, SigninRequest};
use uuid::Uuid;

use crate::connection::ConnectionState;

/// One pairing, as stored in `servers.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    /// This pairing's identity on the device (also its keyring entry).
    pub id: Uuid,
    /// The server's base URL.
    pub server_url: String,
    /// The service the device was paired for.
    pub service: String,
    /// The user the device belongs to on that service.
    pub user: String,
    /// The device's identity on the server.
    pub device_id: Uuid,
    /// The server key pinned at pairing: every request must be signed by it.
    pub server_key: PublicKey,
    /// When the pairing was made, Unix seconds.
    pub paired_at: u64,
}

impl ServerRecord {
    /// Whether `request` is for this pairing's service and user: nothing else may be shown.
    pub fn is_for(&self, request: &SigninRequest) -> bool {
        request.service == self.service && request.user == self.user
    }
}

/// The body of `servers.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ServersFile {
    pub(crate) servers: Vec<ServerRecord>,
}

/// A paired server as the UI lists it: the summary and the state of its connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairedServer {
    /// Which pairing, named safely.
    #[serde(flatten)]
    pub pairing: ServerSummary,
    /// "connected", "reconnecting", "no_key" (its key cannot be read), "revoked" or "stopped".
    pub state: &'static str,
    /// Seconds until the next connection attempt, while reconnecting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in: Option<u64>,
}

impl PairedServer {
    /// The view of `record` in `state` at `now` (Unix seconds).
    pub fn new(record: &ServerRecord, state: &ConnectionState, now: u64) -> Self {
        let retry_in = match state {
            ConnectionState::Reconnecting { retry_at: Some(at), .. }
            | ConnectionState::NoKey { retry_at: Some(at), .. } => Some(at.saturating_sub(now)),
            _ => None,
        };
        Self { pairing: ServerSummary::from(record), state: state.name(), retry_in }
    }
}

/// A paired server as a listing shows it without connections (a command line): no state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSummary {
    /// The pairing's identity.
    pub id: Uuid,
    /// The server's base URL.
    pub server_url: String,
    /// The service, made safe to show.
    pub service: String,
    /// The user this device answers for, made safe to show.
    pub user: String,
    /// The pinned server key's fingerprint in groups of four.
    pub fingerprint: String,
    /// When the pairing was made, Unix seconds.
    pub paired_at: u64,
}

impl From<&ServerRecord> for ServerSummary {
    fn from(record: &ServerRecord) -> Self {
        Self {
            id: record.id,
            server_url: neutralise(&record.server_url),
            service: neutralise(&record.service),
            user: neutralise(&record.user),
            fingerprint: record.server_key.fingerprint().to_string(),
            paired_at: record.paired_at,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_ui_shape_has_exactly_the_expected_fields() {
        let record = ServerRecord {
            id: Uuid::from_u128(1),
            server_url: "https://approve.example/".into(),
            service: "Example Mail".into(),
            user: "alice".into(),
            device_id: Uuid::from_u128(2),
            server_key: twofold_protocol::KeyPair::from_seed(&[1; 32]).public(),
            paired_at: 100,
        };
        let state = ConnectionState::Reconnecting { attempt: 2, retry_at: Some(110) };
        let json = serde_json::to_value(PairedServer::new(&record, &state, 104)).unwrap();
        let fingerprint = json["fingerprint"].as_str().unwrap();
        assert_eq!(fingerprint.len(), 39, "{fingerprint}");
        assert!(fingerprint.split('-').all(|g| g.len() == 4), "{fingerprint}");
        assert_eq!(
            json,
            serde_json::json!({
                "id": "00000000-0000-0000-0000-000000000001",
                "server_url": "https://approve.example/",
                "service": "Example Mail",
                "user": "alice",
                "fingerprint": fingerprint,
                "paired_at": 100,
                "state": "reconnecting",
                "retry_in": 6,
            })
        );
        let keyless = ConnectionState::NoKey { attempt: 1, retry_at: Some(107) };
        let json = serde_json::to_value(PairedServer::new(&record, &keyless, 104)).unwrap();
        assert_eq!(
            (&json["state"], &json["retry_in"]),
            (&serde_json::json!("no_key"), &serde_json::json!(3))
        );
        let connected = PairedServer::new(&record, &ConnectionState::Connected, 104);
        let json = serde_json::to_value(connected).unwrap();
        assert_eq!(json["state"], "connected");
        assert!(json.get("retry_in").is_none());
    }

    #[test]
    fn a_summary_names_the_pairing_safely_without_a_state() {
        let record = ServerRecord {
            id: Uuid::from_u128(1),
            server_url: "https://approve.example/".into(),
            service: "Bank\u{202E}moc".into(),
            user: "alice".into(),
            device_id: Uuid::from_u128(2),
            server_key: twofold_protocol::KeyPair::from_seed(&[1; 32]).public(),
            paired_at: 100,
        };
        let json = serde_json::to_value(ServerSummary::from(&record)).unwrap();
        assert_eq!(json["service"], "Bank\u{FFFD}moc");
        assert_eq!(json["paired_at"], 100);
        assert!(json.get("state").is_none());
        assert_eq!(json["fingerprint"], record.server_key.fingerprint().to_string());
    }

    #[test]
    fn a_pairing_answers_only_for_its_service_and_user() {
        let record = ServerRecord {
            id: Uuid::from_u128(1),
            server_url: "https://approve.example/".into(),
            service: "Example".into(),
            user: "alice".into(),
            device_id: Uuid::from_u128(2),
            server_key: twofold_protocol::KeyPair::from_seed(&[1; 32]).public(),
            paired_at: 100,
        };
        let mut request = crate::view::sample_request(1);
        assert!(record.is_for(&request));
        request.user = "mallory".into();
        assert!(!record.is_for(&request), "another user of the same service");
        request.user = "alice".into();
        request.service = "Other Service".into();
        assert!(!record.is_for(&request), "the same user name at another service");
    }
}
