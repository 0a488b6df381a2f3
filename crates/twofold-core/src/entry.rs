//! An account typed in by hand: the add form's fields, checked before anything is stored.

use std::fmt;

use serde::Deserialize;
use zeroize::Zeroize;

use crate::otp::OtpError;
use crate::secret::SecretError;
use crate::{Algorithm, Credential, Kind, OtpParams, Secret};

/// Why a typed-in account cannot be added. Never carries the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// Neither an issuer nor an account name was given.
    #[error("give the account an issuer or an account name, so it can be told apart")]
    Unnamed,
    /// The secret is not base32.
    #[error("{0}; copy the setup key exactly as the service shows it")]
    Secret(#[from] SecretError),
    /// The parameters cannot make codes.
    #[error("{0}")]
    Otp(#[from] OtpError),
    /// mOTP or Yandex, whose PIN the form does not take.
    #[error(
        "mOTP and Yandex accounts need their PIN: add them from an Aegis export or an otpauth URI \
         that carries it"
    )]
    NeedsPin,
}

/// The add form as the person filled it in. The secret is wiped from memory when this is dropped.
#[derive(Clone, Deserialize)]
pub struct ManualEntry {
    /// Who issued the account.
    pub issuer: String,
    /// The account name within the issuer.
    pub name: String,
    /// The setup key, base32, as typed (any case, spaces allowed).
    pub secret: String,
    /// TOTP, HOTP or Steam (mOTP and Yandex need a PIN, which the form does not take).
    pub kind: Kind,
    /// HMAC hash function.
    pub algorithm: Algorithm,
    /// Code length (ignored for Steam).
    pub digits: u8,
    /// TOTP period in seconds (ignored for HOTP and Steam).
    pub period: u32,
    /// HOTP counter to start at.
    #[serde(default)]
    pub counter: u64,
}

impl ManualEntry {
    /// The credential the form describes, or the first thing wrong with it.
    pub fn to_credential(&self) -> Result<Credential, EntryError> {
        let issuer = self.issuer.trim().to_owned();
        let name = self.name.trim().to_owned();
        if issuer.is_empty() && name.is_empty() {
            return Err(EntryError::Unnamed);
        }
        if self.kind.needs_pin() {
            return Err(EntryError::NeedsPin);
        }
        let secret = Secret::from_base32(&self.secret)?;
        let otp = match self.kind {
            // Steam fixes its own parameters; whatever the form held is not used.
            Kind::Steam => OtpParams::STEAM,
            kind => OtpParams {
                kind,
                algorithm: self.algorithm,
                digits: self.digits,
                period: self.period,
                counter: self.counter,
            },
        };
        otp.validate()?;
        Ok(Credential { issuer, name, secret, otp, icon: None })
    }
}

impl fmt::Debug for ManualEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualEntry")
            .field("issuer", &self.issuer)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Drop for ManualEntry {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(secret: &str) -> ManualEntry {
        ManualEntry {
            issuer: " Example ".to_owned(),
            name: "alice".to_owned(),
            secret: secret.to_owned(),
            kind: Kind::Totp,
            algorithm: Algorithm::Sha256,
            digits: 8,
            period: 60,
            counter: 0,
        }
    }

    #[test]
    fn a_valid_form_becomes_a_credential() {
        let credential = entry("jbsw y3dp ehpk 3pxp").to_credential().unwrap();
        assert_eq!(credential.issuer, "Example");
        assert_eq!(credential.secret, Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap());
        assert_eq!(credential.otp.digits, 8);
        assert_eq!(credential.otp.period, 60);
        assert_eq!(credential.otp.algorithm, Algorithm::Sha256);
    }

    #[test]
    fn each_mistake_is_named_without_the_secret() {
        let err = entry("JBSW1DP").to_credential().unwrap_err();
        assert_eq!(err, EntryError::Secret(SecretError::NotBase32 { position: 5 }));
        assert!(!err.to_string().contains("JBSW"), "{err}");
        let mut unnamed = entry("JBSWY3DPEHPK3PXP");
        unnamed.issuer = " ".to_owned();
        unnamed.name.clear();
        assert_eq!(unnamed.to_credential().unwrap_err(), EntryError::Unnamed);
        let mut short = entry("JBSWY3DPEHPK3PXP");
        short.digits = 3;
        assert!(short.to_credential().unwrap_err().to_string().contains("5 to 10 digits"));
    }

    #[test]
    fn pin_kinds_are_sent_elsewhere() {
        for kind in [Kind::Motp, Kind::Yandex] {
            let mut form = entry("JBSWY3DPEHPK3PXP");
            form.kind = kind;
            let err = form.to_credential().unwrap_err();
            assert_eq!(err, EntryError::NeedsPin);
            assert!(err.to_string().contains("Aegis export or an otpauth URI"), "{err}");
        }
    }

    #[test]
    fn steam_ignores_the_form_parameters_and_debug_hides_the_secret() {
        let mut steam = entry("JBSWY3DPEHPK3PXP");
        steam.kind = Kind::Steam;
        steam.digits = 0;
        assert_eq!(steam.to_credential().unwrap().otp.kind, Kind::Steam);
        assert!(!format!("{steam:?}").contains("JBSW"));
    }
}
