//! Bodies of the HTTP API, shared by the server and the client, and the device event stream.
//!
//! Relying-party routes take `Authorization: Bearer <API key>`. Device routes that read take
//! `Authorization: Twofold <base64url of the JSON of a Signed<DeviceAuth>>` ([`DEVICE_AUTH_SCHEME`]);
//! decisions and pairing completions carry their own signature.

use std::net::IpAddr;

use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keys::{Fingerprint, PublicKey};
use crate::messages::{DeviceAuth, Mode, Signed, SigninRequest};

/// The `Authorization` scheme of device authentication.
pub const DEVICE_AUTH_SCHEME: &str = "Twofold";

/// Longest `Authorization` value [`parse_device_auth`] reads: a signed device authentication is
/// about 400 characters.
const MAX_DEVICE_AUTH_CHARS: usize = 1024;

/// Why an `Authorization` header is not a device authentication.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceAuthError {
    /// Another scheme, or none.
    #[error(
        "the Authorization header must be \"Twofold\" followed by a signed device authentication"
    )]
    Scheme,
    /// The value is not base64url of the JSON of a signed device authentication.
    #[error("the device authentication is malformed: it must be base64url of a signed JSON object")]
    Malformed,
}

/// The `Authorization` value that carries a signed device authentication.
pub fn device_auth_header(auth: &Signed<DeviceAuth>) -> String {
    let json = serde_json::to_vec(auth).unwrap_or_default();
    format!("{DEVICE_AUTH_SCHEME} {}", BASE64URL_NOPAD.encode(&json))
}

/// Reads an `Authorization` value written by [`device_auth_header`]; the signature is unchecked.
pub fn parse_device_auth(header: &str) -> Result<Signed<DeviceAuth>, DeviceAuthError> {
    if header.len() > MAX_DEVICE_AUTH_CHARS {
        return Err(DeviceAuthError::Malformed);
    }
    let encoded = header
        .strip_prefix(DEVICE_AUTH_SCHEME)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or(DeviceAuthError::Scheme)?;
    let json = BASE64URL_NOPAD
        .decode(encoded.trim().as_bytes())
        .map_err(|_| DeviceAuthError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| DeviceAuthError::Malformed)
}

/// Every error response: a stable code for programs, a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable, snake_case ("unknown_api_key", "request_expired", ...).
    pub error: String,
    /// What was wrong, in words.
    pub message: String,
}

/// `POST /v1/pairings`: a service asks for a pairing link for one of its users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePairing {
    /// The user, as the service names them.
    pub user: String,
}

/// The answer to [`CreatePairing`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingCreated {
    /// The pairing link (see [`crate::link`]); show it or its QR code to the user only.
    pub link: String,
    /// When the link stops working, Unix seconds.
    pub expires_at: u64,
    /// URL of the link as a PNG QR code.
    pub qr_png: String,
    /// URL of the link as an SVG QR code.
    pub qr_svg: String,
}

/// `POST /v1/pairings/complete`: a device registers its key.
pub type CompletePairing = Signed<crate::messages::PairingCompletion>;

/// The answer to [`CompletePairing`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingCompleted {
    /// The device's identity on this server.
    pub device_id: Uuid,
    /// The user it now belongs to.
    pub user: String,
    /// The service that user belongs to.
    pub service: String,
    /// The server's key, to pin (its fingerprint matched the link's).
    pub server_key: PublicKey,
    /// Base32 seed of this device's offline codes ([`crate::offline`]); keep it in the keyring.
    pub offline_seed: SecretText,
}

/// A secret carried as text (a base32 seed): redacted in `Debug`, zeroized on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    /// Wraps a secret.
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret, to store it where secrets go.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// `POST /v1/users/{user}/offline-code`: a code the user read off one of their devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyOfflineCode {
    /// Six digits.
    pub code: String,
}

/// The answer to [`VerifyOfflineCode`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineCodeVerified {
    /// Whether the code is current for one of the user's devices and was not used before.
    pub verified: bool,
    /// The device whose code it was.
    pub device_id: Option<Uuid>,
}

/// One paired device, as the service sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Its identity.
    pub id: Uuid,
    /// The name it was given.
    pub name: String,
    /// Fingerprint of its key.
    pub fingerprint: Fingerprint,
    /// When it paired, Unix seconds.
    pub paired_at: u64,
}

/// `GET /v1/users/{user}/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// Paired, unrevoked devices, oldest first.
    pub devices: Vec<DeviceInfo>,
}

/// `POST /v1/signins`: a service asks the user to confirm a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSignin {
    /// The user, as the service names them.
    pub user: String,
    /// Where the sign-in comes from.
    pub ip: IpAddr,
    /// The sign-in's user agent.
    pub user_agent: String,
    /// How the person confirms.
    pub mode: Mode,
    /// What the sign-in is for, shown to the person ("Sign in to webmail").
    #[serde(default)]
    pub context: Option<String>,
}

/// Where a sign-in stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for the person.
    Pending,
    /// Allowed on a device (code mode: the service still verifies the code).
    Allowed,
    /// Refused on a device.
    Denied,
    /// Refused and reported as "this wasn't me".
    Reported,
    /// Nobody answered in time.
    Expired,
    /// Refused without asking: the user is locked out after repeated denials or a report.
    Locked,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Reported => "reported",
            Self::Expired => "expired",
            Self::Locked => "locked",
        }
    }

    /// Whether the sign-in can still change.
    pub fn is_final(self) -> bool {
        self != Self::Pending
    }
}

/// The answer to [`CreateSignin`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigninCreated {
    /// The sign-in's identity.
    pub id: Uuid,
    /// Pending, or locked when the user is locked out.
    pub status: Status,
    /// When it expires, Unix seconds.
    pub expires_at: u64,
    /// Number mode: the number the sign-in page must show. Present also when the server turned
    /// a push into number matching (a sign-in from a country new for the user).
    pub number: Option<u32>,
}

/// `GET /v1/signins/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigninState {
    /// The sign-in's identity.
    pub id: Uuid,
    /// Where it stands.
    pub status: Status,
    /// When it expires, Unix seconds.
    pub expires_at: u64,
    /// When a device decided, Unix seconds.
    pub decided_at: Option<u64>,
    /// Code mode: whether the service has verified the code.
    pub verified: bool,
}

/// `POST /v1/signins/{id}/verify`: the code the person typed on the new device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyCode {
    /// Six digits.
    pub code: String,
}

/// The answer to [`VerifyCode`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeVerified {
    /// Whether the code matched an allowed sign-in.
    pub verified: bool,
    /// Attempts left before the sign-in stops accepting codes.
    pub attempts_left: u32,
}

/// `POST /v1/signins/{id}/decision`: a device's signed answer.
pub type PostDecision = Signed<crate::messages::Decision>;

/// The answer to [`PostDecision`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionAccepted {
    /// The sign-in's new status.
    pub status: Status,
    /// Code mode, on Allow: the code to type into the new device.
    pub code: Option<String>,
}

/// `GET /v1/device/requests`: pending requests, for devices that cannot hold a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequests {
    /// Pending, unexpired requests of the device's user, oldest first.
    pub requests: Vec<Signed<SigninRequest>>,
}

/// Why a request left a device's screen without its decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawnReason {
    /// Another device of the user answered first.
    DecidedElsewhere,
    /// Nobody answered before it expired.
    Expired,
}

/// Payload of a `withdrawn` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawn {
    /// The request withdrawn.
    pub id: Uuid,
    /// Why.
    pub reason: WithdrawnReason,
}

/// SSE event name of a server-signed sign-in request (data: `Signed<SigninRequest>`).
pub const EVENT_REQUEST: &str = "request";
/// SSE event name of a withdrawal (data: [`Withdrawn`]).
pub const EVENT_WITHDRAWN: &str = "withdrawn";

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditEvent {
    /// The service asked for a pairing link.
    PairingCreated,
    /// A device paired.
    DevicePaired,
    /// The service revoked a device.
    DeviceRevoked,
    /// A sign-in request was sent to the user's devices.
    SigninCreated,
    /// A sign-in was refused without asking: the user is locked out or the address was reported.
    SigninLocked,
    /// A sign-in request expired unanswered.
    SigninExpired,
    /// A device allowed a sign-in.
    SigninAllowed,
    /// A device denied a sign-in.
    SigninDenied,
    /// A device reported a sign-in ("this wasn't me"): its address is blocked for the user.
    SigninReported,
    /// A device entered the wrong number: the sign-in was denied.
    WrongNumber,
    /// The service verified a code.
    CodeVerified,
    /// The service tried a wrong code.
    CodeRejected,
    /// An offline code from a device was verified.
    OfflineCodeVerified,
    /// A wrong offline code was tried.
    OfflineCodeRejected,
    /// A browser signed in to the portal: a session started.
    SessionStarted,
    /// A portal session was signed out.
    SessionEnded,
    /// An app password let a request through (at most once a minute per password).
    AppPasswordUsed,
    /// A wrong app password was tried.
    AppPasswordRejected,
    /// A recovery code signed a browser in.
    RecoveryCodeUsed,
    /// A wrong recovery code was tried.
    RecoveryCodeRejected,
    /// OpenID Connect: an authorization code was issued to a client for the user.
    OidcCodeIssued,
    /// OpenID Connect: a code was redeemed for tokens.
    OidcTokenIssued,
    /// OpenID Connect: a used code was presented again; what it issued was revoked.
    OidcCodeReplayed,
    /// OpenID Connect: a client failed to authenticate at the token endpoint (the entry's user
    /// is the client id).
    OidcClientRejected,
}

impl AuditEvent {
    /// Every event, for reading stored names back.
    pub const ALL: [Self; 24] = [
        Self::PairingCreated,
        Self::DevicePaired,
        Self::DeviceRevoked,
        Self::SigninCreated,
        Self::SigninLocked,
        Self::SigninExpired,
        Self::SigninAllowed,
        Self::SigninDenied,
        Self::SigninReported,
        Self::WrongNumber,
        Self::CodeVerified,
        Self::CodeRejected,
        Self::OfflineCodeVerified,
        Self::OfflineCodeRejected,
        Self::SessionStarted,
        Self::SessionEnded,
        Self::AppPasswordUsed,
        Self::AppPasswordRejected,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodeRejected,
        Self::OidcCodeIssued,
        Self::OidcTokenIssued,
        Self::OidcCodeReplayed,
        Self::OidcClientRejected,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PairingCreated => "pairing_created",
            Self::DevicePaired => "device_paired",
            Self::DeviceRevoked => "device_revoked",
            Self::SigninCreated => "signin_created",
            Self::SigninLocked => "signin_locked",
            Self::SigninExpired => "signin_expired",
            Self::SigninAllowed => "signin_allowed",
            Self::SigninDenied => "signin_denied",
            Self::SigninReported => "signin_reported",
            Self::WrongNumber => "wrong_number",
            Self::CodeVerified => "code_verified",
            Self::CodeRejected => "code_rejected",
            Self::OfflineCodeVerified => "offline_code_verified",
            Self::OfflineCodeRejected => "offline_code_rejected",
            Self::SessionStarted => "session_started",
            Self::SessionEnded => "session_ended",
            Self::AppPasswordUsed => "app_password_used",
            Self::AppPasswordRejected => "app_password_rejected",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodeRejected => "recovery_code_rejected",
            Self::OidcCodeIssued => "oidc_code_issued",
            Self::OidcTokenIssued => "oidc_token_issued",
            Self::OidcCodeReplayed => "oidc_code_replayed",
            Self::OidcClientRejected => "oidc_client_rejected",
        }
    }

    /// The event of a wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// One entry of a service's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log: increasing, never reused.
    pub seq: u64,
    /// When, Unix seconds.
    pub at: u64,
    /// The user concerned.
    pub user: String,
    /// What happened.
    pub event: AuditEvent,
    /// The sign-in concerned.
    pub signin_id: Option<Uuid>,
    /// The device concerned.
    pub device_id: Option<Uuid>,
    /// The sign-in's address.
    pub ip: Option<IpAddr>,
}

/// `GET /v1/audit?after=SEQ&limit=N`: the service's log, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLog {
    /// Entries after `after`, at most `limit` (default and maximum 1000).
    pub entries: Vec<AuditEntry>,
}

/// Credit owed for data the server uses, to show wherever that data appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// The credit to show, as its licence asks: "IP Geolocation by DB-IP".
    pub text: String,
    /// Where the credit links to.
    pub url: String,
    /// The data's licence, e.g. "CC BY 4.0".
    pub license: String,
}

/// `GET /v1/about`: what a person or a service may want to know about this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct About {
    /// The server key's fingerprint, as pairing links carry it.
    pub fingerprint: Fingerprint,
    /// Credits for the data the server uses (GeoIP databases); empty when none is owed.
    pub attributions: Vec<Attribution>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_text_is_redacted_but_travels() {
        let secret = SecretText::new("JBSWY3DPEHPK3PXP".into());
        assert!(!format!("{secret:?}").contains("JBSW"));
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"JBSWY3DPEHPK3PXP\"");
        assert_eq!(secret.expose(), "JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn audit_event_names_match_serde_and_read_back() {
        for event in AuditEvent::ALL {
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(json, format!("\"{}\"", event.as_str()));
            assert_eq!(AuditEvent::from_name(event.as_str()), Some(event));
        }
        assert_eq!(AuditEvent::from_name("nothing"), None);
    }

    #[test]
    fn device_auth_headers_round_trip_and_refuse_junk() {
        use crate::messages::{AuthPurpose, DeviceAuth, Nonce};
        let key = crate::KeyPair::from_seed(&[1; 32]);
        let auth = DeviceAuth {
            server: key.public().fingerprint(),
            device: key.public(),
            purpose: AuthPurpose::Poll,
            time: 7,
            nonce: Nonce([3; 16]),
        };
        let signed = Signed::sign(auth, &key);
        assert_eq!(parse_device_auth(&device_auth_header(&signed)).unwrap(), signed);
        assert_eq!(parse_device_auth("Bearer x"), Err(DeviceAuthError::Scheme));
        assert_eq!(parse_device_auth("Twofold !"), Err(DeviceAuthError::Malformed));
        let long = format!("Twofold {}", "A".repeat(2000));
        assert_eq!(parse_device_auth(&long), Err(DeviceAuthError::Malformed));
    }
}
