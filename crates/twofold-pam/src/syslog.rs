//! The module's lines in the system log: authpriv messages to `/dev/log`, where sshd's and
//! sudo's own lines go. Without a log socket (a container), they go to standard error.

use std::os::unix::net::UnixDatagram;

/// How serious a line is (syslog severities).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The module is not set up right.
    Error = 3,
    /// An authentication was refused.
    Warning = 4,
    /// An authentication succeeded.
    Info = 6,
}

/// The authpriv facility: logs readable by root only.
const AUTHPRIV: u8 = 10;

/// Writes one line, tagged `pam_twofold[PID]`.
pub fn log(severity: Severity, line: &str) {
    let line: String = line.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let priority = (AUTHPRIV << 3) | severity as u8;
    let message = format!("<{priority}>pam_twofold[{}]: {line}", std::process::id());
    let sent =
        UnixDatagram::unbound().and_then(|socket| socket.send_to(message.as_bytes(), "/dev/log"));
    if sent.is_err() {
        eprintln!("pam_twofold: {line}");
    }
}
