//! What PAM tells the module about a login, and how the sign-in request describes it to the
//! person on their device ("SSH login as alice to build-01 from 203.0.113.7").

use std::net::{IpAddr, Ipv4Addr};

use twofold_protocol::Mode;
use twofold_protocol::api::CreateSignin;

/// Longest context the server accepts, in characters.
const MAX_CONTEXT_CHARS: usize = 200;

/// The PAM items of one login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// `PAM_USER`: who is logging in (for sudo, the person running it).
    pub user: String,
    /// `PAM_SERVICE`: the program asking (sshd, sudo, login, su, ...).
    pub service: String,
    /// This machine's name.
    pub host: String,
    /// `PAM_TTY`, when set (`/dev/pts/3`, `ssh`, `tty1`).
    pub tty: Option<String>,
    /// `PAM_RHOST`, when set: where a remote login comes from.
    pub rhost: Option<String>,
}

impl Login {
    /// The address of the sign-in: the remote host's when it is an address, else this machine
    /// (a local login), else unspecified (a remote host given by name, named in the context).
    pub fn ip(&self) -> IpAddr {
        match self.rhost.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
            // sshd writes IPv6 addresses bare; some programs bracket them.
            Some(rhost) => rhost
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        }
    }

    /// The terminal, without `/dev/`; none for sshd's placeholder `ssh`.
    fn terminal(&self) -> Option<&str> {
        let tty = self.tty.as_deref()?.trim();
        let tty = tty.strip_prefix("/dev/").unwrap_or(tty);
        (!tty.is_empty() && tty != "ssh").then_some(tty)
    }

    /// What the login is, in words: "SSH login as alice to build-01 from 203.0.113.7", "sudo by
    /// alice on build-01, tty pts/3", "console login as alice on build-01, tty tty1".
    pub fn describe(&self) -> String {
        let (user, host) = (&self.user, &self.host);
        let mut text = match self.service.as_str() {
            // A second sshd is often run under another name (sshd-internal): its PAM service.
            s if s == "sshd" || s.starts_with("sshd-") => format!("SSH login as {user} to {host}"),
            "sudo" | "sudo-i" => format!("sudo by {user} on {host}"),
            "su" | "su-l" => format!("su by {user} on {host}"),
            "login" => format!("console login as {user} on {host}"),
            service => format!("{service} login as {user} on {host}"),
        };
        if let Some(rhost) = self.rhost.as_deref().filter(|r| !r.trim().is_empty()) {
            text.push_str(" from ");
            text.push_str(rhost.trim());
        }
        if let Some(tty) = self.terminal() {
            text.push_str(", tty ");
            text.push_str(tty);
        }
        // The server refuses control characters; a hostile rhost or tty must not make the whole
        // sign-in fail (a denial of service on the door), so they are dropped here.
        text.chars().filter(|c| !c.is_control()).take(MAX_CONTEXT_CHARS).collect()
    }

    /// The user agent the request carries: the module, the PAM service and the host.
    pub fn user_agent(&self) -> String {
        let version = env!("CARGO_PKG_VERSION");
        let agent = format!("pam_twofold/{version} ({} on {})", self.service, self.host);
        agent.chars().filter(|c| !c.is_control()).collect()
    }

    /// The sign-in request for Twofold user `user` in mode `mode`.
    pub fn signin(&self, user: &str, mode: Mode) -> CreateSignin {
        CreateSignin {
            user: user.to_owned(),
            ip: self.ip(),
            user_agent: self.user_agent(),
            mode,
            context: Some(self.describe()),
        }
    }
}

/// This machine's name, as the kernel knows it.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "this computer".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(service: &str, tty: Option<&str>, rhost: Option<&str>) -> Login {
        Login {
            user: "alice".into(),
            service: service.into(),
            host: "build-01".into(),
            tty: tty.map(Into::into),
            rhost: rhost.map(Into::into),
        }
    }

    #[test]
    fn ssh_names_the_user_the_host_and_the_address() {
        let ssh = login("sshd", Some("ssh"), Some("203.0.113.7"));
        assert_eq!(ssh.describe(), "SSH login as alice to build-01 from 203.0.113.7");
        assert_eq!(ssh.ip(), "203.0.113.7".parse::<IpAddr>().unwrap_or(IpAddr::from([0; 4])));
    }

    #[test]
    fn sudo_and_console_name_the_terminal() {
        let sudo = login("sudo", Some("/dev/pts/3"), None);
        assert_eq!(sudo.describe(), "sudo by alice on build-01, tty pts/3");
        assert_eq!(sudo.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        let console = login("login", Some("tty1"), None);
        assert_eq!(console.describe(), "console login as alice on build-01, tty tty1");
    }

    #[test]
    fn remote_hosts_by_name_or_ipv6_are_kept() {
        let named = login("sshd", None, Some("laptop.example"));
        assert_eq!(named.ip(), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert!(named.describe().ends_with("from laptop.example"));
        let v6 = login("sshd", None, Some("2001:db8::5"));
        assert_eq!(v6.ip().to_string(), "2001:db8::5");
    }

    #[test]
    fn control_characters_and_length_cannot_break_the_request() {
        let long = "x".repeat(500);
        let hostile = login("sshd", Some("pts/1\n\u{1b}[2J"), Some(&long));
        let text = hostile.describe();
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert_eq!(text.chars().count(), MAX_CONTEXT_CHARS);
    }

    #[test]
    fn the_request_carries_the_description_and_the_service() {
        let request = login("sshd", None, Some("127.0.0.1")).signin("bob", Mode::Number);
        assert_eq!(request.user, "bob");
        assert_eq!(request.mode, Mode::Number);
        assert_eq!(
            request.context.as_deref(),
            Some("SSH login as alice to build-01 from 127.0.0.1")
        );
        assert!(request.user_agent.starts_with("pam_twofold/"));
        assert!(request.user_agent.ends_with("(sshd on build-01)"));
    }
}
