//! One authentication, from the request to the verdict, written against [`Conversation`] so it
//! runs (and is tested) without libpam: ask the server, tell the person what to do, wait for the
//! answer within the timeout, take a code when the mode or the fallback needs one.

use std::time::{Duration, Instant};

use twofold_protocol::Mode;
use twofold_protocol::api::Status;
use zeroize::Zeroizing;

use crate::config::{Config, FailMode};
use crate::login::Login;
use crate::server::{ApprovalServer, MAX_POLL_SECS, ServerError};

/// Codes a person may type before the module gives up.
const CODE_TRIES: u32 = 3;

/// The application cannot show text or ask (a non-interactive login, a closed connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the application cannot converse")]
pub struct ConversationError;

/// How the module talks to the person at the terminal: PAM's conversation, or a test's.
pub trait Conversation {
    /// Shows a line of information.
    fn info(&mut self, text: &str) -> Result<(), ConversationError>;
    /// Shows a line saying what went wrong.
    fn error(&mut self, text: &str) -> Result<(), ConversationError>;
    /// Asks for a line of text (shown as typed: codes are single use).
    fn prompt(&mut self, text: &str) -> Result<Zeroizing<String>, ConversationError>;
}

/// How an authentication ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Allowed on a device (code mode: and the code typed was right).
    Allowed,
    /// A code read off a device was accepted after nobody answered.
    AllowedByOfflineCode,
    /// The server could not be reached and `failmode = open` lets the user in.
    AllowedFailOpen,
    /// Denied on a device.
    Denied,
    /// Reported on a device as "this wasn't me".
    Reported,
    /// The server refused without asking: the user is locked out after refusals or a report.
    Locked,
    /// Nobody answered in time.
    TimedOut,
    /// The code typed was wrong too often.
    WrongCode,
    /// The server could not be reached and `failmode = secure` denies.
    Unreachable,
    /// The server refused the request: its reason, for the person.
    Refused(String),
    /// The module or the server's record of this machine is not set up right.
    Misconfigured,
}

impl Outcome {
    /// Whether the user gets in.
    pub fn allows(&self) -> bool {
        matches!(self, Self::Allowed | Self::AllowedByOfflineCode | Self::AllowedFailOpen)
    }

    /// What the person reads at the end.
    pub fn message(&self) -> String {
        match self {
            Self::Allowed => "Approved on your Twofold device.".into(),
            Self::AllowedByOfflineCode => "Code accepted.".into(),
            Self::AllowedFailOpen => {
                "The Twofold server cannot be reached: letting you in without it (failmode = open)."
                    .into()
            }
            Self::Denied => "Denied on your Twofold device.".into(),
            Self::Reported => "Reported on your Twofold device as not you: access denied.".into(),
            Self::Locked => {
                "Twofold sign-ins are locked for this user after refusals: try again later.".into()
            }
            Self::TimedOut => "Timed out: nobody answered on your Twofold device.".into(),
            Self::WrongCode => "Wrong code: access denied.".into(),
            Self::Unreachable => "The Twofold server cannot be reached: access denied.".into(),
            Self::Refused(reason) => format!("Twofold refused the sign-in: {reason}."),
            Self::Misconfigured => {
                "Twofold is not set up right on this machine (see the system log): access denied."
                    .into()
            }
        }
    }
}

/// An outcome and, for the system log, what led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// How it ended.
    pub outcome: Outcome,
    /// The technical reason, when there is more to say than the outcome (a server error).
    pub detail: Option<String>,
}

impl From<Outcome> for Verdict {
    fn from(outcome: Outcome) -> Self {
        Self { outcome, detail: None }
    }
}

/// Authenticates `login` with `server` as `config` says, talking through `conversation`, and
/// tells the person the outcome.
pub fn authenticate(
    config: &Config,
    login: &Login,
    server: &ApprovalServer,
    conversation: &mut dyn Conversation,
) -> Verdict {
    let verdict = decide(config, login, server, conversation);
    let message = verdict.outcome.message();
    // Nothing more to do if it cannot be shown: the verdict stands either way.
    let _shown = if verdict.outcome.allows() {
        conversation.info(&message)
    } else {
        conversation.error(&message)
    };
    verdict
}

fn decide(
    config: &Config,
    login: &Login,
    server: &ApprovalServer,
    conversation: &mut dyn Conversation,
) -> Verdict {
    let started = Instant::now();
    let user = config.twofold_user(&login.user);
    let created = match server.create_signin(&login.signin(user, config.mode)) {
        Ok(created) => created,
        Err(error) => return failed(config, error),
    };
    if created.status == Status::Locked {
        return Outcome::Locked.into();
    }
    let instruction = match (created.number, config.mode) {
        (Some(number), _) => format!("Choose {number} on your Twofold device to approve."),
        (None, Mode::Code) => {
            "Approve on your Twofold device, then type the code it shows.".to_owned()
        }
        (None, _) => "Approve on your Twofold device…".to_owned(),
    };
    // A conversation that cannot show text or ask must not stop the request: the device still
    // asks. What is typed at the prompt is only the person's "done".
    if config.prompt && config.mode != Mode::Code {
        let _done = conversation.prompt(&format!("{instruction} Then press Enter: "));
    } else {
        let _shown = conversation.info(&instruction);
    }
    let status = match wait(server, created.id, started + config.timeout) {
        Ok(status) => status,
        Err(error) => return failed(config, error),
    };
    let outcome = match status {
        Status::Allowed if config.mode == Mode::Code => {
            return code_mode(config, server, created.id, conversation);
        }
        Status::Allowed => Outcome::Allowed,
        Status::Denied => Outcome::Denied,
        Status::Reported => Outcome::Reported,
        Status::Locked => Outcome::Locked,
        Status::Pending | Status::Expired if config.offline_codes => {
            return offline_code(config, server, user, conversation);
        }
        Status::Pending | Status::Expired => Outcome::TimedOut,
    };
    outcome.into()
}

/// Waits for the sign-in to be decided, in long polls, until `deadline`; the last status seen.
fn wait(server: &ApprovalServer, id: uuid::Uuid, deadline: Instant) -> Result<Status, ServerError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Status::Pending);
        }
        // Whole seconds, rounded up so the last poll covers the rest of the wait.
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        let state = server.wait(id, secs.min(MAX_POLL_SECS))?;
        if state.status.is_final() {
            return Ok(state.status);
        }
        // The server answers at once only if the wait was cut short; do not spin on it.
        if Instant::now() + Duration::from_millis(200) < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Code mode, once allowed: the code the device shows, typed here and checked by the server.
fn code_mode(
    config: &Config,
    server: &ApprovalServer,
    id: uuid::Uuid,
    conversation: &mut dyn Conversation,
) -> Verdict {
    for _ in 0..CODE_TRIES {
        let Ok(typed) = conversation.prompt("Code shown on your Twofold device: ") else {
            return Outcome::WrongCode.into();
        };
        match server.verify_code(id, typed.trim()) {
            Ok(answer) if answer.verified => return Outcome::Allowed.into(),
            Ok(answer) if answer.attempts_left > 0 => {
                let _shown = conversation.error("That code is not right.");
            }
            Ok(_) => return Outcome::WrongCode.into(),
            Err(error) => return failed(config, error),
        }
    }
    Outcome::WrongCode.into()
}

/// After nobody answered: a code read off one of the user's devices, if they type one.
fn offline_code(
    config: &Config,
    server: &ApprovalServer,
    user: &str,
    conversation: &mut dyn Conversation,
) -> Verdict {
    let _shown = conversation.info("No answer from your Twofold device.");
    for _ in 0..CODE_TRIES {
        let prompt = "Type the code your Twofold device shows, or press Enter to give up: ";
        let typed = match conversation.prompt(prompt) {
            Ok(typed) if !typed.trim().is_empty() => typed,
            _ => return Outcome::TimedOut.into(),
        };
        match server.verify_offline_code(user, typed.trim()) {
            Ok(answer) if answer.verified => return Outcome::AllowedByOfflineCode.into(),
            Ok(_) => {
                let _shown = conversation.error("That code is not right.");
            }
            Err(ServerError::Refused { body, .. }) if body.error == "invalid_code" => {
                let _shown = conversation.error("A code is six digits.");
            }
            Err(error) => return failed(config, error),
        }
    }
    Outcome::WrongCode.into()
}

/// The verdict when a call to the server failed.
fn failed(config: &Config, error: ServerError) -> Verdict {
    let detail = Some(error.to_string());
    let outcome = match error {
        ServerError::Unreachable(_) => match config.failmode {
            FailMode::Secure => Outcome::Unreachable,
            FailMode::Open => Outcome::AllowedFailOpen,
        },
        // The API key is wrong, expired or revoked: nothing the person can fix.
        ServerError::Refused { status: 401 | 403, .. } => Outcome::Misconfigured,
        ServerError::Refused { body, .. } => {
            Outcome::Refused(body.message.trim_end_matches('.').to_owned())
        }
    };
    Verdict { outcome, detail }
}
