//! PAM's entry points: read the PAM items, load the configuration, run [`crate::core`] with
//! PAM's conversation, and turn its verdict into a PAM code. pam-bindings catches panics at the
//! boundary (`PAM_ABORT`); nothing here holds a thread or runtime past the call.

#![allow(unsafe_code, reason = "pam_hooks! writes the extern \"C\" entry points PAM calls")]

use std::ffi::CStr;

use pam::constants::{
    PAM_ERROR_MSG, PAM_PROMPT_ECHO_ON, PAM_SILENT, PAM_TEXT_INFO, PamFlag, PamResultCode,
};
use pam::conv::Conv;
use pam::items::{RHost, Service, Tty};
use pam::module::{PamHandle, PamHooks};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::core::{self, Conversation, ConversationError, Outcome};
use crate::login::{self, Login};
use crate::server::ApprovalServer;
use crate::syslog::{Severity, log};

/// The module, as pam-bindings sees it.
struct PamTwofold;

pam::pam_hooks!(PamTwofold);

impl PamHooks for PamTwofold {
    fn sm_authenticate(pamh: &mut PamHandle, args: Vec<&CStr>, flags: PamFlag) -> PamResultCode {
        authenticate(pamh, &args, flags)
    }

    /// Nothing to set: the approval is the whole of it. PAM_SUCCESS keeps stacks that call
    /// setcred after auth from failing on an ignored module.
    fn sm_setcred(_pamh: &mut PamHandle, _args: Vec<&CStr>, _flags: PamFlag) -> PamResultCode {
        PamResultCode::PAM_SUCCESS
    }
}

/// A string item, when set and UTF-8.
fn item<'a, T: pam::items::Item<'a> + std::ops::Deref<Target = &'a CStr>>(
    pamh: &'a PamHandle,
) -> Option<String> {
    pamh.get_item::<T>().ok().flatten().and_then(|value| value.to_str().ok().map(str::to_owned))
}

fn authenticate(pamh: &mut PamHandle, args: &[&CStr], flags: PamFlag) -> PamResultCode {
    let user = match pamh.get_user(None) {
        Ok(user) => user,
        Err(code) => return code,
    };
    let args: Vec<&str> = args.iter().filter_map(|arg| arg.to_str().ok()).collect();
    let silent = flags & PAM_SILENT != 0;
    let config = match Config::load(&args) {
        Ok(config) => config,
        Err(error) => {
            log(Severity::Error, &format!("refusing {user}: {error}"));
            let mut conversation = PamConversation { pamh, silent };
            let _shown = conversation.error(&Outcome::Misconfigured.message());
            return PamResultCode::PAM_AUTH_ERR;
        }
    };
    let login = Login {
        service: item::<Service<'_>>(pamh).unwrap_or_else(|| "unknown".to_owned()),
        tty: item::<Tty<'_>>(pamh),
        rhost: item::<RHost<'_>>(pamh),
        host: config.host.clone().unwrap_or_else(login::hostname),
        user,
    };
    let server = match ApprovalServer::new(&config) {
        Ok(server) => server,
        Err(error) => {
            log(Severity::Error, &format!("refusing {}: {error}", login.user));
            return PamResultCode::PAM_AUTH_ERR;
        }
    };
    let mut conversation = PamConversation { pamh, silent };
    let verdict = core::authenticate(&config, &login, &server, &mut conversation);
    let severity = if verdict.outcome.allows() { Severity::Info } else { Severity::Warning };
    let detail = verdict.detail.map(|d| format!(" ({d})")).unwrap_or_default();
    log(
        severity,
        &format!(
            "{} for {} (service {}, from {}): {:?}{detail}",
            if verdict.outcome.allows() { "allowed" } else { "denied" },
            login.user,
            login.service,
            login.rhost.as_deref().unwrap_or("this machine"),
            verdict.outcome,
        ),
    );
    match verdict.outcome {
        outcome if outcome.allows() => PamResultCode::PAM_SUCCESS,
        Outcome::Unreachable => PamResultCode::PAM_AUTHINFO_UNAVAIL,
        // The person said no (or is locked out): sshd and sudo must not ask again at once, as
        // they do after PAM_AUTH_ERR (ssh tries keyboard-interactive three times).
        Outcome::Denied | Outcome::Reported | Outcome::Locked => PamResultCode::PAM_MAXTRIES,
        _ => PamResultCode::PAM_AUTH_ERR,
    }
}

/// PAM's conversation function, through the application.
struct PamConversation<'a> {
    pamh: &'a PamHandle,
    /// `PAM_SILENT`: the application asked for no informational messages.
    silent: bool,
}

impl PamConversation<'_> {
    fn send(
        &self,
        style: i32,
        text: &str,
    ) -> Result<Option<pam::secret::SecretBytes>, ConversationError> {
        let conv = self.pamh.get_item::<Conv<'_>>().ok().flatten().ok_or(ConversationError)?;
        conv.send(style, text).map_err(|_| ConversationError)
    }
}

impl Conversation for PamConversation<'_> {
    fn info(&mut self, text: &str) -> Result<(), ConversationError> {
        if self.silent {
            return Ok(());
        }
        self.send(PAM_TEXT_INFO, text).map(drop)
    }

    fn error(&mut self, text: &str) -> Result<(), ConversationError> {
        self.send(PAM_ERROR_MSG, text).map(drop)
    }

    fn prompt(&mut self, text: &str) -> Result<Zeroizing<String>, ConversationError> {
        let answer = self.send(PAM_PROMPT_ECHO_ON, text)?.ok_or(ConversationError)?;
        let text = answer.as_str().map_err(|_| ConversationError)?;
        Ok(Zeroizing::new(text.to_owned()))
    }
}
