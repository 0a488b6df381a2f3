//! The rules against push fatigue and guessing, apart from HTTP and storage: what a new sign-in
//! becomes given the user's recent activity (refused, locked, or asked for in which mode), and
//! how many wrong codes are tolerated.
//!
//! The counted limits (sign-ins per user, per address, one pending request per user and
//! address, wrong offline codes) are checked here on a snapshot for a quick answer, and again
//! by the store in the same write that records the sign-in or the attempt
//! ([`crate::store::Store::add_signin`], [`crate::store::Store::verify_offline_code`]), so that
//! parallel requests, on one instance or several, cannot all pass on the same snapshot.
//!
//! Pending requests are limited per user *and address*: a request from elsewhere (an attacker
//! who knows the password, starting a sign-in every two minutes) does not stop the user's own
//! sign-in from their address, and the device shows both, each with its place. Withdrawing the
//! older request instead would let the attacker withdraw the user's.

use twofold_protocol::Mode;

use crate::app::Limits;
use crate::store::Activity;

/// Codes a service may try per code-mode sign-in before it must start over.
pub const MAX_CODE_ATTEMPTS: u32 = 5;

/// Wrong offline codes per user per rate window.
pub const MAX_WRONG_OFFLINE_CODES: u32 = 5;

/// Event streams one device may hold open on one instance: one, and a few while a reconnect
/// overlaps the old stream. Each costs the server a connection and a subscription.
pub const MAX_STREAMS_PER_DEVICE: usize = 4;

/// Authentications (streams opened, polls, unpairing) one device may make per minute: a device
/// that cannot hold a stream polls every few seconds; each authentication writes a nonce.
pub const DEVICE_AUTHS_PER_MINUTE: u32 = 60;

/// Why a sign-in is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The user had as many sign-ins as the window allows.
    UserRateLimited,
    /// The address had as many sign-ins as the window allows.
    AddressRateLimited,
    /// A request of the user from this address is still waiting for an answer.
    Pending,
}

/// What a sign-in that is not refused becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Stored as `locked` at once: the user denied or reported too much lately, or reported a
    /// sign-in from this address. No device is asked.
    pub locked: bool,
    /// How the person confirms: push becomes number matching from a country new for the user.
    pub mode: Mode,
}

/// The counted limits the store enforces when it records a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigninQuota {
    /// Sign-ins created after this time count.
    pub since: u64,
    /// Sign-ins per user in the window.
    pub per_user: u32,
    /// Sign-ins per address in the window.
    pub per_address: u32,
}

impl SigninQuota {
    /// The quota of `limits` at `now`.
    pub fn at(limits: &Limits, now: u64) -> Self {
        Self {
            since: now.saturating_sub(limits.window_secs),
            per_user: limits.signins_per_user,
            per_address: limits.signins_per_ip,
        }
    }
}

/// Since when denials and reports lock the user out, at `now`.
pub fn lockout_since(limits: &Limits, now: u64) -> u64 {
    now.saturating_sub(limits.lockout_secs)
}

/// The first counted limit `activity` has reached; a locked sign-in is never refused for a
/// pending one (it asks no device).
pub fn refusal(activity: &Activity, limits: &Limits, locked: bool) -> Option<Refusal> {
    if activity.recent_for_user >= limits.signins_per_user {
        Some(Refusal::UserRateLimited)
    } else if activity.recent_for_ip >= limits.signins_per_ip {
        Some(Refusal::AddressRateLimited)
    } else if !locked && activity.pending_from_address > 0 {
        Some(Refusal::Pending)
    } else {
        None
    }
}

/// Whether the user is locked out: a recent report, a reported sign-in from this address, or
/// too many recent denials.
pub fn is_locked(activity: &Activity, limits: &Limits) -> bool {
    activity.ip_reported
        || activity.recent_reports > 0
        || activity.recent_denials >= limits.lockout_denials
}

/// What a sign-in asked for in `requested` mode becomes, given the user's `activity`;
/// `country_known`: the sign-in's address was placed in a country.
pub fn admit(
    activity: &Activity,
    limits: &Limits,
    requested: Mode,
    country_known: bool,
) -> Result<Admission, Refusal> {
    let locked = is_locked(activity, limits);
    if let Some(refusal) = refusal(activity, limits, locked) {
        return Err(refusal);
    }
    // A sign-in from a country the user never signed in from needs more than a tap.
    let new_country = country_known && activity.allowed > 0 && activity.allowed_from_country == 0;
    let mode = if new_country && requested == Mode::Push { Mode::Number } else { requested };
    Ok(Admission { locked, mode })
}

/// Whether another offline code may be checked after `wrong` wrong ones in the window.
pub fn offline_code_allowed(wrong: u32) -> bool {
    wrong < MAX_WRONG_OFFLINE_CODES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet() -> Activity {
        Activity::default()
    }

    #[test]
    fn a_first_sign_in_is_admitted_as_asked() {
        let admitted = admit(&quiet(), &Limits::default(), Mode::Push, true);
        assert_eq!(admitted, Ok(Admission { locked: false, mode: Mode::Push }));
    }

    #[test]
    fn the_user_limit_comes_before_the_address_limit() {
        let limits = Limits::default();
        let busy = Activity {
            recent_for_user: limits.signins_per_user,
            recent_for_ip: limits.signins_per_ip,
            ..quiet()
        };
        assert_eq!(admit(&busy, &limits, Mode::Push, false), Err(Refusal::UserRateLimited));
        let busy_address = Activity { recent_for_user: 0, ..busy };
        assert_eq!(
            admit(&busy_address, &limits, Mode::Push, false),
            Err(Refusal::AddressRateLimited)
        );
        let under = Activity {
            recent_for_user: limits.signins_per_user - 1,
            recent_for_ip: limits.signins_per_ip - 1,
            ..quiet()
        };
        assert!(admit(&under, &limits, Mode::Push, false).is_ok());
    }

    #[test]
    fn a_pending_request_from_the_address_refuses_another_but_not_a_locked_one() {
        let limits = Limits::default();
        let pending = Activity { pending_from_address: 1, ..quiet() };
        assert_eq!(admit(&pending, &limits, Mode::Push, false), Err(Refusal::Pending));
        let locked = Activity { recent_reports: 1, ..pending };
        assert_eq!(
            admit(&locked, &limits, Mode::Push, false),
            Ok(Admission { locked: true, mode: Mode::Push })
        );
    }

    #[test]
    fn denials_reports_and_a_reported_address_lock_the_user_out() {
        let limits = Limits::default();
        let denied = Activity { recent_denials: limits.lockout_denials, ..quiet() };
        assert!(is_locked(&denied, &limits));
        let fewer = Activity { recent_denials: limits.lockout_denials - 1, ..quiet() };
        assert!(!is_locked(&fewer, &limits));
        assert!(is_locked(&Activity { recent_reports: 1, ..quiet() }, &limits));
        assert!(is_locked(&Activity { ip_reported: true, ..quiet() }, &limits));
    }

    #[test]
    fn push_from_a_new_country_becomes_number_matching() {
        let limits = Limits::default();
        let elsewhere = Activity { allowed: 3, allowed_from_country: 0, ..quiet() };
        let admitted = admit(&elsewhere, &limits, Mode::Push, true).unwrap();
        assert_eq!(admitted.mode, Mode::Number);
        // Code mode already asks for more than a tap; an unplaced address or a first sign-in
        // says nothing about the country.
        assert_eq!(admit(&elsewhere, &limits, Mode::Code, true).unwrap().mode, Mode::Code);
        assert_eq!(admit(&elsewhere, &limits, Mode::Push, false).unwrap().mode, Mode::Push);
        assert_eq!(admit(&quiet(), &limits, Mode::Push, true).unwrap().mode, Mode::Push);
        let home = Activity { allowed: 3, allowed_from_country: 1, ..quiet() };
        assert_eq!(admit(&home, &limits, Mode::Push, true).unwrap().mode, Mode::Push);
    }

    #[test]
    fn the_quota_window_ends_now() {
        let limits = Limits::default();
        let quota = SigninQuota::at(&limits, 10_000);
        assert_eq!(quota.since, 10_000 - limits.window_secs);
        assert_eq!(SigninQuota::at(&limits, 5).since, 0);
        assert_eq!(lockout_since(&limits, 10_000), 10_000 - limits.lockout_secs);
    }

    #[test]
    fn the_fifth_wrong_offline_code_is_the_last() {
        assert!(offline_code_allowed(MAX_WRONG_OFFLINE_CODES - 1));
        assert!(!offline_code_allowed(MAX_WRONG_OFFLINE_CODES));
    }
}
