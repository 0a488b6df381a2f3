//! The provider's ID-token signing keys: one ES256 and one RS256 key in use, in one JSON file of
//! the data directory (mode 0600, replaced atomically), with the keys they replaced kept and
//! published in the JWKS until every token they signed has expired.
//!
//! JOSE (keys, JWKs, JWTs) is `josekit` over the system OpenSSL; nothing here writes a token
//! format by hand.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use data_encoding::BASE64URL_NOPAD;
use josekit::jwk::{Jwk, JwkSet, KeyPair as _};
use josekit::jws::{ES256, JwsHeader, JwsSigner, JwsVerifier, RS256};
use josekit::jwt::{self, JwtPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// RSA modulus size of new RS256 keys.
const RSA_BITS: u32 = 2048;

/// Why the keys could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The key file can be read by others.
    #[error(
        "{path}: the OpenID Connect signing keys can be read by other users; run chmod 600 on it"
    )]
    Exposed {
        /// The file.
        path: PathBuf,
    },
    /// The key file is not what this module writes.
    #[error("{path}: not a Twofold OpenID Connect key file ({reason})")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// There is no key in use for the algorithm.
    #[error("no {0} signing key in use: run twofold-server oidc rotate-keys")]
    NoKey(Alg),
    /// OpenSSL failed to make or use a key.
    #[error("signing key operation failed: {0}")]
    Crypto(String),
    /// A token is not one of ours: bad format, unknown key, wrong algorithm or signature.
    #[error("the token was not signed by this provider")]
    NotOurs,
}

fn crypto(error: josekit::JoseError) -> KeyError {
    KeyError::Crypto(error.to_string())
}

/// An ID token signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (what every relying party accepts).
    #[serde(rename = "RS256")]
    Rs256,
}

impl Alg {
    /// Both, in the order the discovery document lists them.
    pub const ALL: [Self; 2] = [Self::Rs256, Self::Es256];

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// The algorithm of a JOSE name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == name)
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key as the file holds it.
#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    alg: Alg,
    created_at: u64,
    /// When a newer key replaced it; it stays published until `retired_at` + the token lifetime.
    retired_at: Option<u64>,
    /// PKCS#8 PEM of the private key.
    private_pem: Zeroizing<String>,
}

/// The key file.
#[derive(Serialize, Deserialize, Default)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

/// A key ready to sign and verify.
struct LoadedKey {
    kid: String,
    alg: Alg,
    retired_at: Option<u64>,
    signer: Box<dyn JwsSigner>,
    verifier: Box<dyn JwsVerifier>,
    public: Jwk,
}

/// The signing keys of the key file.
pub struct SigningKeys {
    keys: Vec<LoadedKey>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("SigningKeys").field("kids", &kids).finish()
    }
}

/// A new key of `alg` made now.
fn generate(alg: Alg, now: u64) -> Result<StoredKey, KeyError> {
    let pem = match alg {
        Alg::Es256 => ES256.generate_key_pair().map_err(crypto)?.to_pem_private_key(),
        Alg::Rs256 => RS256.generate_key_pair(RSA_BITS).map_err(crypto)?.to_pem_private_key(),
    };
    let private_pem = Zeroizing::new(
        String::from_utf8(pem).map_err(|_| KeyError::Crypto("PEM is not text".into()))?,
    );
    let loaded = load_key(alg, "", None, &private_pem)?;
    // The key id names the public key: SHA-256 of its JWK's key material, shortened.
    let digest = Sha256::digest(loaded.public.to_string().as_bytes());
    Ok(StoredKey {
        kid: BASE64URL_NOPAD.encode(&digest[..12]),
        alg,
        created_at: now,
        retired_at: None,
        private_pem,
    })
}

fn load_key(
    alg: Alg,
    kid: &str,
    retired_at: Option<u64>,
    pem: &str,
) -> Result<LoadedKey, KeyError> {
    let (signer, verifier, public): (Box<dyn JwsSigner>, Box<dyn JwsVerifier>, Jwk) = match alg {
        Alg::Es256 => {
            let pair = ES256.key_pair_from_pem(pem).map_err(crypto)?;
            let public = pair.to_jwk_public_key();
            let signer = ES256.signer_from_pem(pem).map_err(crypto)?;
            let verifier = ES256.verifier_from_jwk(&public).map_err(crypto)?;
            (Box::new(signer), Box::new(verifier), public)
        }
        Alg::Rs256 => {
            let pair = RS256.key_pair_from_pem(pem).map_err(crypto)?;
            let public = pair.to_jwk_public_key();
            let signer = RS256.signer_from_pem(pem).map_err(crypto)?;
            let verifier = RS256.verifier_from_jwk(&public).map_err(crypto)?;
            (Box::new(signer), Box::new(verifier), public)
        }
    };
    let mut public = public;
    public.set_key_id(kid);
    public.set_key_use("sig");
    public.set_algorithm(alg.as_str());
    Ok(LoadedKey { kid: kid.to_owned(), alg, retired_at, signer, verifier, public })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io { path: path.to_owned(), source }
}

fn read_file(path: &Path) -> Result<KeyFile, KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_err(io(path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed { path: path.to_owned() });
        }
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io(path))?);
    serde_json::from_str(&text)
        .map_err(|e| KeyError::Unreadable { path: path.to_owned(), reason: e.to_string() })
}

/// Replaces the file atomically (a temporary file of mode 0600, fsync, rename): a failed write
/// leaves the previous keys intact.
fn write_file(path: &Path, file: &KeyFile) -> Result<(), KeyError> {
    let text = Zeroizing::new(
        serde_json::to_string_pretty(file).map_err(|e| KeyError::Crypto(e.to_string()))?,
    );
    let temporary = path.with_extension("json.new");
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(&temporary).map_err(io(&temporary))?;
    out.write_all(text.as_bytes()).map_err(io(&temporary))?;
    out.sync_all().map_err(io(&temporary))?;
    drop(out);
    std::fs::rename(&temporary, path).map_err(io(path))?;
    if let Some(dir) = path.parent().and_then(|d| std::fs::File::open(d).ok()) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Retires the keys in use and adds a new one of each algorithm; forgets keys retired more than
/// `keep_secs` ago (no token they signed is still valid).
fn rotated(mut file: KeyFile, now: u64, keep_secs: u64) -> Result<KeyFile, KeyError> {
    file.keys.retain(|k| k.retired_at.is_none_or(|at| at.saturating_add(keep_secs) > now));
    for key in &mut file.keys {
        key.retired_at.get_or_insert(now);
    }
    for alg in Alg::ALL {
        file.keys.push(generate(alg, now)?);
    }
    Ok(file)
}

impl SigningKeys {
    /// Reads the key file, creating it with a key of each algorithm if it does not exist.
    pub fn open_or_create(path: &Path, now: u64) -> Result<Self, KeyError> {
        if !path.exists() {
            write_file(path, &rotated(KeyFile::default(), now, 0)?)?;
        }
        Self::open(path)
    }

    /// Reads the key file.
    pub fn open(path: &Path) -> Result<Self, KeyError> {
        let file = read_file(path)?;
        let keys = file
            .keys
            .iter()
            .map(|k| load_key(k.alg, &k.kid, k.retired_at, &k.private_pem))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { keys })
    }

    /// Rotates the keys of the file at `path` (see the module docs); the new key ids.
    pub fn rotate(path: &Path, now: u64, keep_secs: u64) -> Result<Vec<String>, KeyError> {
        let file = if path.exists() { read_file(path)? } else { KeyFile::default() };
        let file = rotated(file, now, keep_secs)?;
        write_file(path, &file)?;
        Ok(file.keys.iter().filter(|k| k.retired_at.is_none()).map(|k| k.kid.clone()).collect())
    }

    /// The JWKS at `now`: the keys in use, and those retired less than `keep_secs` ago (tokens
    /// they signed may still be valid).
    pub fn jwks(&self, now: u64, keep_secs: u64) -> JwkSet {
        let mut set = JwkSet::new();
        for key in &self.keys {
            if key.retired_at.is_none_or(|at| now < at.saturating_add(keep_secs)) {
                set.push_key(key.public.clone());
            }
        }
        set
    }

    /// `payload` as a JWT signed with the key in use for `alg`.
    pub fn sign(&self, alg: Alg, payload: &JwtPayload) -> Result<String, KeyError> {
        // The newest key in use: after a rotation, the file holds one per algorithm.
        let key = self
            .keys
            .iter()
            .rev()
            .find(|k| k.alg == alg && k.retired_at.is_none())
            .ok_or(KeyError::NoKey(alg))?;
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(&key.kid);
        jwt::encode_with_signer(payload, &header, key.signer.as_ref()).map_err(crypto)
    }

    /// The payload of a JWT signed by one of these keys with that key's algorithm; `alg: none`,
    /// an unknown key id and a signature by anything else are refused.
    pub fn verify(&self, token: &str) -> Result<JwtPayload, KeyError> {
        let header = jwt::decode_header(token).map_err(|_| KeyError::NotOurs)?;
        let kid = header.claim("kid").and_then(|v| v.as_str()).ok_or(KeyError::NotOurs)?;
        let key = self.keys.iter().find(|k| k.kid == kid).ok_or(KeyError::NotOurs)?;
        let (payload, _) = jwt::decode_with_verifier(token, key.verifier.as_ref())
            .map_err(|_| KeyError::NotOurs)?;
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn payload(subject: &str) -> JwtPayload {
        let mut payload = JwtPayload::new();
        payload.set_subject(subject);
        payload.set_expires_at(&(UNIX_EPOCH + Duration::from_secs(2_000_000_000)));
        payload
    }

    #[test]
    fn the_key_file_is_private_and_signs_with_both_algorithms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oidc-keys.json");
        let keys = SigningKeys::open_or_create(&path, 1000).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(keys.jwks(1000, 600).keys().len(), 2);
        for alg in Alg::ALL {
            let token = keys.sign(alg, &payload("alice")).unwrap();
            let header = jwt::decode_header(&token).unwrap();
            assert_eq!(header.claim("alg").and_then(|v| v.as_str()), Some(alg.as_str()));
            assert_eq!(keys.verify(&token).unwrap().subject(), Some("alice"));
        }
        // Opened again, the same keys.
        let again = SigningKeys::open(&path).unwrap();
        let token = keys.sign(Alg::Es256, &payload("bob")).unwrap();
        assert_eq!(again.verify(&token).unwrap().subject(), Some("bob"));
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oidc-keys.json");
        SigningKeys::open_or_create(&path, 0).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(SigningKeys::open(&path), Err(KeyError::Exposed { .. })));
        }
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let error = SigningKeys::open(&bad).unwrap_err();
        assert!(error.to_string().contains("not a Twofold OpenID Connect key file"), "{error}");
    }

    #[test]
    fn rotation_keeps_old_keys_published_until_their_tokens_expire() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oidc-keys.json");
        let old = SigningKeys::open_or_create(&path, 1000).unwrap();
        let old_token = old.sign(Alg::Rs256, &payload("alice")).unwrap();
        SigningKeys::rotate(&path, 2000, 3600).unwrap();
        let rotated = SigningKeys::open(&path).unwrap();
        assert_eq!(rotated.jwks(2000, 3600).keys().len(), 4, "old and new keys are published");
        assert_eq!(rotated.jwks(5599, 3600).keys().len(), 4, "until the old tokens expire");
        assert_eq!(rotated.jwks(5600, 3600).keys().len(), 2, "then only the new ones");
        assert_eq!(rotated.verify(&old_token).unwrap().subject(), Some("alice"));
        let new_token = rotated.sign(Alg::Rs256, &payload("alice")).unwrap();
        let kid = |t: &str| {
            jwt::decode_header(t).unwrap().claim("kid").unwrap().as_str().unwrap().to_owned()
        };
        assert_ne!(kid(&new_token), kid(&old_token), "new tokens use the new key");
        // A rotation after the old keys' tokens have expired forgets them.
        SigningKeys::rotate(&path, 2000 + 3600, 3600).unwrap();
        let later = SigningKeys::open(&path).unwrap();
        assert_eq!(later.jwks(5600, 3600).keys().len(), 4, "the second pair and the third");
        assert!(matches!(later.verify(&old_token), Err(KeyError::NotOurs)));
    }

    #[test]
    fn unsigned_and_foreign_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ours = SigningKeys::open_or_create(&dir.path().join("a.json"), 0).unwrap();
        let theirs = SigningKeys::open_or_create(&dir.path().join("b.json"), 0).unwrap();
        let token = ours.sign(Alg::Es256, &payload("alice")).unwrap();
        // alg: none, with our key id.
        let kid =
            jwt::decode_header(&token).unwrap().claim("kid").unwrap().as_str().unwrap().to_owned();
        let mut header = JwsHeader::new();
        header.set_key_id(&kid);
        let unsigned = jwt::encode_unsecured(&payload("mallory"), &header).unwrap();
        assert!(matches!(ours.verify(&unsigned), Err(KeyError::NotOurs)));
        // Signed by another key that claims our key id.
        let forged = theirs.sign(Alg::Es256, &payload("mallory")).unwrap();
        let (_, body_and_sig) = forged.split_once('.').unwrap();
        let (own_header, _) = token.split_once('.').unwrap();
        let spliced = format!("{own_header}.{body_and_sig}");
        assert!(matches!(ours.verify(&spliced), Err(KeyError::NotOurs)));
        assert!(matches!(ours.verify(&forged), Err(KeyError::NotOurs)));
        assert!(matches!(ours.verify("not a token"), Err(KeyError::NotOurs)));
    }
}
