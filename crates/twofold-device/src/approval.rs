//! Answering a request: the decision is signed with the device key over exactly the request that
//! was shown (its canonical digest), sent, and its outcome returned.

use serde::Serialize;
use twofold_core::keystore::Keystore;
use twofold_protocol::Answer;
use twofold_protocol::api::Status;
use twofold_protocol::client::ClientError;
use uuid::Uuid;

use crate::device::{Device, DeviceError, Shown};
use crate::history::HistoryOutcome;

/// How a decision ended, as the UI reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decided {
    /// The sign-in is allowed.
    Allowed,
    /// The sign-in is refused.
    Denied,
    /// Refused and reported: the service blocks the source.
    Reported,
}

/// The outcome of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// What the server recorded.
    pub status: Decided,
    /// Code mode, after Allow: the six digits to type on the new device.
    pub code: Option<String>,
    /// When that code stops working, Unix seconds.
    pub code_expires_at: Option<u64>,
}

/// Why a decision did not go through, in words for the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecideError {
    /// The request is not on screen (already answered here, withdrawn or expired).
    #[error("this request is no longer waiting for an answer")]
    NotShown,
    /// The request expired before the answer arrived.
    #[error("this request has expired: start the sign-in again")]
    Expired,
    /// Another device answered first.
    #[error("this request was already answered on another device")]
    AlreadyAnswered,
    /// Number mode: the number entered is not the one on the sign-in page.
    #[error(
        "that is not the number shown on the sign-in page: the sign-in was refused (a few \
         refusals in a row make the service lock the account for a while)"
    )]
    WrongNumber,
    /// Number mode: no number was picked.
    #[error("pick the number shown on the sign-in page")]
    NumberNeeded,
    /// Number mode: the number is not one of the request's signed choices; nothing was sent.
    #[error("{0} is not one of the numbers offered: pick one of them")]
    NotAChoice(u32),
    /// The server no longer knows this device.
    #[error("this device is no longer paired with the server: pair it again")]
    Revoked,
    /// The server could not be reached; the request stays on screen to try again.
    #[error("the server could not be reached: check the network and try again")]
    Unreachable,
    /// The server refused for another reason.
    #[error("the server refused the answer: {0}")]
    Refused(String),
    /// The device key could not be used.
    #[error(transparent)]
    Device(#[from] DeviceError),
}

fn from_client(error: ClientError) -> DecideError {
    match error {
        ClientError::Network(_) => DecideError::Unreachable,
        ClientError::Refused { body, .. } => match body.error.as_str() {
            "signin_expired" => DecideError::Expired,
            "already_decided" => DecideError::AlreadyAnswered,
            "wrong_number" => DecideError::WrongNumber,
            "device_revoked" | "unknown_device" => DecideError::Revoked,
            _ => DecideError::Refused(body.message),
        },
        other => DecideError::Refused(other.to_string()),
    }
}

impl<K: Keystore + Send + Sync + 'static> Device<K> {
    /// Answers request `request` of paired server `server` (one on screen) with `answer`;
    /// `number` is the choice the person picked in number mode, refused here (before anything
    /// is signed or sent) unless it is one of the request's signed choices.
    pub async fn decide(
        &self,
        server: Uuid,
        request: Uuid,
        answer: Answer,
        number: Option<u32>,
    ) -> Result<Outcome, DecideError> {
        let shown = self.shown_request(server, request).ok_or(DecideError::NotShown)?;
        if shown.request.mode == twofold_protocol::Mode::Number && answer == Answer::Allow {
            // Only what the signed list offers: a number from anywhere else (a stale page, a
            // tampered caller) would cost the person a refusal they never chose.
            match number {
                None => return Err(DecideError::NumberNeeded),
                Some(n) if !shown.request.offers(n) => return Err(DecideError::NotAChoice(n)),
                Some(_) => {}
            }
        }
        let result = self.send_decision(&shown, answer, number).await;
        match &result {
            Ok(outcome) => {
                let outcome = match outcome.status {
                    Decided::Allowed => HistoryOutcome::Allowed,
                    Decided::Denied => HistoryOutcome::Denied,
                    Decided::Reported => HistoryOutcome::Reported,
                };
                self.finish(&shown, outcome);
            }
            Err(DecideError::Expired) => self.finish(&shown, HistoryOutcome::Expired),
            Err(DecideError::AlreadyAnswered) => self.finish(&shown, HistoryOutcome::Withdrawn),
            Err(DecideError::WrongNumber) => self.finish(&shown, HistoryOutcome::Denied),
            Err(DecideError::Revoked) => {
                self.unshow(shown.server, shown.request.id);
            }
            // Worth another try: the request stays on screen.
            Err(_) => {}
        }
        result
    }

    fn finish(&self, shown: &Shown, outcome: HistoryOutcome) {
        if self.unshow(shown.server, shown.request.id).is_some() {
            self.remember(shown, outcome);
        }
    }

    async fn send_decision(
        &self,
        shown: &Shown,
        answer: Answer,
        number: Option<u32>,
    ) -> Result<Outcome, DecideError> {
        let record = self.server(shown.server)?;
        let client = self.client(&record).await?;
        let signed = client.decision(&shown.request, answer, number);
        let accepted = client.send_decision(&signed).await.map_err(from_client)?;
        let status = match accepted.status {
            Status::Allowed => Decided::Allowed,
            Status::Denied => Decided::Denied,
            Status::Reported => Decided::Reported,
            other => {
                return Err(DecideError::Refused(format!(
                    "the server answered with the status {}",
                    other.as_str()
                )));
            }
        };
        // A code is good for as long as the request was, counted from the decision.
        let lifetime = shown.request.expires_at.saturating_sub(shown.request.created_at);
        let code_expires_at = accepted.code.as_ref().map(|_| signed.message.time + lifetime);
        Ok(Outcome { status, code: accepted.code, code_expires_at })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use twofold_core::keystore::MemoryKeystore;
    use twofold_protocol::Mode;

    use super::*;
    use crate::view::sample_request;

    #[tokio::test]
    async fn a_number_outside_the_signed_choices_is_refused_before_anything_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::open(dir.path(), MemoryKeystore::default()).unwrap();
        // No paired server behind it: a refusal that reached the network would be another error.
        let server = Uuid::from_u128(5);
        let mut request = sample_request(1);
        request.mode = Mode::Number;
        request.choices = vec![23, 71, 48];
        device.show(server, request.clone());
        for outside in [24, 0, 100] {
            let err = device.decide(server, request.id, Answer::Allow, Some(outside)).await;
            assert!(matches!(err, Err(DecideError::NotAChoice(n)) if n == outside), "{err:?}");
        }
        let err = device.decide(server, request.id, Answer::Allow, None).await;
        assert!(matches!(err, Err(DecideError::NumberNeeded)), "{err:?}");
        // Still on screen, nothing in the history: the person can pick again.
        assert!(device.shown_request(server, request.id).is_some());
        assert!(device.history().unwrap().is_empty());
        // A signed choice goes on to the server (here: none paired).
        let err = device.decide(server, request.id, Answer::Allow, Some(71)).await;
        assert!(matches!(err, Err(DecideError::Device(_))), "{err:?}");
    }

    fn refused(code: &str) -> DecideError {
        from_client(ClientError::Refused {
            status: 409,
            body: twofold_protocol::api::ErrorBody {
                error: code.into(),
                message: "the server's words".into(),
            },
        })
    }

    #[test]
    fn server_refusals_become_errors_a_person_understands() {
        assert!(matches!(refused("signin_expired"), DecideError::Expired));
        assert!(matches!(refused("already_decided"), DecideError::AlreadyAnswered));
        assert!(matches!(refused("wrong_number"), DecideError::WrongNumber));
        assert!(matches!(refused("device_revoked"), DecideError::Revoked));
        assert!(matches!(refused("unknown_device"), DecideError::Revoked));
        let other = refused("stale_decision");
        assert_eq!(other.to_string(), "the server refused the answer: the server's words");
        assert!(DecideError::Expired.to_string().contains("expired"));
        assert!(DecideError::AlreadyAnswered.to_string().contains("another device"));
    }
}
