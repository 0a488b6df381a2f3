//! Importing a 10 000-entry encrypted Aegis vault at Aegis's default scrypt cost (N = 2^15, r = 8,
//! p = 1): key derivation, decryption, JSON and every entry's conversion. Goal: under 2 s. And a
//! 1 000-entry password-protected Bitwarden export at Bitwarden's default cost (PBKDF2-SHA256,
//! 600 000 rounds). And 10 000-entry encrypted exports of the formats added in issue 23, each at
//! the cost its app writes: Stratum backups (Argon2id, 64 MiB, 3 passes, 4 lanes; and its older
//! PBKDF2-SHA1, 64 000 rounds, AES-CBC), made here as Stratum writes them; 2FAS (PBKDF2-SHA256,
//! 10 000 rounds) and Ente (Argon2id, 256 MiB, 16 passes), written by Twofold's exports and read
//! back. And one import of each real encrypted export in the shared fixtures folder (skipped when
//! absent), at the cost each app writes: Stratum, FreeOTP 2 (PBKDF2-SHA512, 100 000 rounds), Authy
//! (PBKDF2-SHA1, 1 000 rounds per entry), TOTP Authenticator (SHA-256), Authenticator Plus
//! (ZipCrypto) and Ente.
//! `cargo bench -p twofold-core --bench import`.

#![allow(missing_docs, clippy::unwrap_used)]
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::aead::{AeadInOut, KeyInit};
use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use twofold_core::export::{self, EnteKeys, TwoFasKeys};
use twofold_core::import::{Format, Password};
use twofold_core::{Credential, OtpParams, Secret};

#[path = "../tests/import_support/bitwarden.rs"]
mod bitwarden_export;

const ENTRIES: usize = 10_000;
const PASSWORD: &str = "correct horse battery staple";

fn seal(key: &[u8], nonce: [u8; 12], plaintext: &[u8]) -> (Vec<u8>, String, String) {
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).unwrap();
    let mut buffer = plaintext.to_vec();
    let tag =
        cipher.encrypt_inout_detached(&nonce.into(), &[], buffer.as_mut_slice().into()).unwrap();
    let hex = data_encoding::HEXLOWER;
    (buffer, hex.encode(&nonce), hex.encode(&tag))
}

/// An encrypted vault as Aegis writes it (docs/vault.md): one password slot wrapping the master key.
fn vault() -> Vec<u8> {
    let entries: Vec<_> = (0..ENTRIES)
        .map(|i| {
            let secret = data_encoding::BASE32_NOPAD.encode(&(i as u64).to_be_bytes().repeat(3));
            json!({
                "type": "totp", "uuid": format!("00000000-0000-4000-8000-{i:012}"),
                "name": format!("user{i}@example.com"), "issuer": format!("Service {i}"),
                "note": "", "favorite": false, "icon": null,
                "info": { "secret": secret, "algo": "SHA1", "digits": 6, "period": 30 },
                "groups": [],
            })
        })
        .collect();
    let db =
        serde_json::to_vec(&json!({ "version": 3, "entries": entries, "groups": [] })).unwrap();
    let master_key = [0x42u8; 32];
    let salt = [7u8; 32];
    let mut slot_key = [0u8; 32];
    scrypt::scrypt(
        PASSWORD.as_bytes(),
        &salt,
        &scrypt::Params::new(15, 8, 1).unwrap(),
        &mut slot_key,
    )
    .unwrap();
    let (wrapped, slot_nonce, slot_tag) = seal(&slot_key, [1; 12], &master_key);
    let (ciphertext, nonce, tag) = seal(&master_key, [2; 12], &db);
    serde_json::to_vec(&json!({
        "version": 1,
        "header": {
            "slots": [{
                "type": 1, "uuid": "01234567-89ab-cdef-0123-456789abcdef",
                "key": data_encoding::HEXLOWER.encode(&wrapped),
                "key_params": { "nonce": slot_nonce, "tag": slot_tag },
                "n": 32768, "r": 8, "p": 1, "salt": data_encoding::HEXLOWER.encode(&salt),
                "repaired": true, "is_backup": false,
            }],
            "params": { "nonce": nonce, "tag": tag },
        },
        "db": base64::engine::general_purpose::STANDARD.encode(&ciphertext),
    }))
    .unwrap()
}

fn encrypted_aegis(c: &mut Criterion) {
    let file = vault();
    let password = Password::new(PASSWORD.to_owned());
    let started = Instant::now();
    let imported = Format::Aegis.read(&file, Some(&password)).unwrap();
    assert_eq!((imported.credentials.len(), imported.errors.len()), (ENTRIES, 0));
    println!(
        "one import of {ENTRIES} entries ({} KiB file): {:.0} ms",
        file.len() / 1024,
        started.elapsed().as_secs_f64() * 1000.0
    );
    c.bench_function("aegis_encrypted_10000_entries", |b| {
        b.iter(|| Format::Aegis.read(black_box(&file), Some(&password)).unwrap())
    });
}

/// Bitwarden's default PBKDF2 rounds for new accounts.
const BITWARDEN_ROUNDS: u32 = 600_000;
const BITWARDEN_ENTRIES: usize = 1_000;

fn protected_bitwarden(c: &mut Criterion) {
    let items = (0..BITWARDEN_ENTRIES)
        .map(|i| {
            let secret = data_encoding::BASE32_NOPAD.encode(&(i as u64).to_be_bytes().repeat(3));
            let uri = format!("otpauth://totp/Service%20{i}:user{i}?secret={secret}");
            bitwarden_export::item(&format!("Service {i}"), &format!("user{i}"), Some(&uri))
        })
        .collect();
    let file = bitwarden_export::password_protected(
        &bitwarden_export::export(items),
        PASSWORD,
        bitwarden_export::Kdf::Pbkdf2(BITWARDEN_ROUNDS),
    );
    let password = Password::new(PASSWORD.to_owned());
    let started = Instant::now();
    let imported = Format::Bitwarden.read(&file, Some(&password)).unwrap();
    assert_eq!((imported.credentials.len(), imported.errors.len()), (BITWARDEN_ENTRIES, 0));
    println!(
        "one import of {BITWARDEN_ENTRIES} Bitwarden entries ({} KiB file): {:.0} ms",
        file.len() / 1024,
        started.elapsed().as_secs_f64() * 1000.0
    );
    c.bench_function("bitwarden_protected_1000_entries", |b| {
        b.iter(|| Format::Bitwarden.read(black_box(&file), Some(&password)).unwrap())
    });
}

/// The secret of generated entry `i`: 24 bytes, distinct for each entry.
fn secret_of(i: usize) -> Vec<u8> {
    (i as u64).to_be_bytes().repeat(3)
}

/// A plain Stratum backup of [`ENTRIES`] TOTP accounts (Stratum's `Backup.cs` fields).
fn stratum_json() -> Vec<u8> {
    let authenticators: Vec<_> = (0..ENTRIES)
        .map(|i| {
            json!({
                "Type": 2, "Issuer": format!("Service {i}"), "Username": format!("user{i}"),
                "Secret": data_encoding::BASE32_NOPAD.encode(&secret_of(i)), "Pin": null,
                "Algorithm": 0, "Digits": 6, "Period": 30, "Counter": 0, "Icon": null,
                "Ranking": i,
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "Authenticators": authenticators, "Categories": [], "AuthenticatorCategories": [],
        "CustomIcons": [],
    }))
    .unwrap()
}

/// A Stratum backup as the app encrypts it: `AUTHENTICATORPRO`, salt, nonce, then AES-256-GCM
/// (tag appended) under Argon2id (3 passes, 64 MiB, 4 lanes) of the password.
fn stratum_encrypted(plain: &[u8]) -> Vec<u8> {
    let (salt, nonce) = ([3u8; 16], [4u8; 12]);
    let params = argon2::Params::new(64 * 1024, 3, 4, Some(32)).unwrap();
    let mut key = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(PASSWORD.as_bytes(), &salt, &mut key)
        .unwrap();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    let mut sealed = plain.to_vec();
    let tag =
        cipher.encrypt_inout_detached(&nonce.into(), &[], sealed.as_mut_slice().into()).unwrap();
    sealed.extend_from_slice(&tag);
    [&b"AUTHENTICATORPRO"[..], &salt, &nonce, &sealed].concat()
}

/// A Stratum backup as versions before 1.15 encrypted it: `AuthenticatorPro`, salt, IV, then
/// AES-256-CBC (PKCS#7) under PBKDF2-HMAC-SHA1 (64 000 rounds) of the password.
fn stratum_legacy(plain: &[u8]) -> Vec<u8> {
    use cbc::cipher::{BlockModeEncrypt as _, KeyIvInit as _, block_padding::Pkcs7};
    let (salt, iv) = ([5u8; 20], [6u8; 16]);
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(PASSWORD.as_bytes(), &salt, 64_000, &mut key);
    let mut buffer = plain.to_vec();
    buffer.resize(plain.len() + 16, 0);
    let sealed = cbc::Encryptor::<aes_gcm::aes::Aes256>::new_from_slices(&key, &iv)
        .unwrap()
        .encrypt_padded::<Pkcs7>(&mut buffer, plain.len())
        .unwrap()
        .to_vec();
    [&b"AuthenticatorPro"[..], &salt, &iv, &sealed].concat()
}

/// [`ENTRIES`] TOTP accounts, for Twofold's own exports.
fn credentials() -> Vec<Credential> {
    (0..ENTRIES)
        .map(|i| Credential {
            issuer: format!("Service {i}"),
            name: format!("user{i}@example.com"),
            secret: Secret::new(secret_of(i)),
            otp: OtpParams::default(),
            icon: None,
        })
        .collect()
}

/// Times one import of `file` and has criterion measure it; the accounts and refusals read.
fn measure(
    c: &mut Criterion,
    name: &str,
    format: Format,
    file: &[u8],
    password: &Password,
) -> (usize, usize) {
    let started = Instant::now();
    let imported = format.read(file, Some(password)).unwrap();
    println!(
        "one import of {name} ({} entries, {} KiB file): {:.0} ms",
        imported.credentials.len(),
        file.len() / 1024,
        started.elapsed().as_secs_f64() * 1000.0
    );
    c.bench_function(name, |b| b.iter(|| format.read(black_box(file), Some(password)).unwrap()));
    (imported.credentials.len(), imported.errors.len())
}

fn generated_exports(c: &mut Criterion) {
    let password = Password::new(PASSWORD.to_owned());
    let stratum = stratum_json();
    let accounts = credentials();
    let twofas =
        export::twofas_encrypted(&accounts, &password, &TwoFasKeys::fresh().unwrap(), 0).unwrap();
    let ente = export::ente_encrypted(&accounts, &password, &EnteKeys::fresh().unwrap()).unwrap();
    for (name, format, file) in [
        ("stratum_encrypted_10000_entries", Format::Stratum, stratum_encrypted(&stratum)),
        ("stratum_legacy_10000_entries", Format::Stratum, stratum_legacy(&stratum)),
        ("twofas_encrypted_10000_entries", Format::TwoFas, twofas.text.as_bytes().to_vec()),
        ("ente_encrypted_10000_entries", Format::Ente, ente.text.as_bytes().to_vec()),
    ] {
        assert_eq!(measure(c, name, format, &file, &password), (ENTRIES, 0), "{name}");
    }
}

/// The real encrypted exports of the formats added in issue 23, with their passwords.
const FIXTURES: [(&str, Format, &str); 7] = [
    ("aegis-stratum_encrypted.bin", Format::Stratum, "test"),
    ("aegis-stratum_encrypted_legacy.bin", Format::Stratum, "test"),
    ("aegis-freeotp_v2_api34.xml", Format::FreeOtp, "test"),
    ("aegis-authy_encrypted.xml", Format::Authy, "testtest"),
    ("aegis-totp_authenticator.bin", Format::TotpAuthenticator, "Testtest1"),
    ("aegis-authenticator_plus.zip", Format::AuthenticatorPlus, "testtesttest"),
    ("proton-ente-encrypted.nominalcomplexity.txt", Format::Ente, "password"),
];

fn encrypted_fixtures(c: &mut Criterion) {
    let Some(dir) = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/import-fixtures/files"))
        .find(|dir| dir.is_dir())
    else {
        println!("skipped: no shared/import-fixtures/files beside or above this checkout");
        return;
    };
    for (file, format, password) in FIXTURES {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        measure(c, file, format, &bytes, &Password::new(password.to_owned()));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(10));
    targets = encrypted_aegis, protected_bitwarden, generated_exports, encrypted_fixtures
}
criterion_main!(benches);
