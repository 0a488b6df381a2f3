//! Code generation speed: one code of each kind, and a refresh of 100 accounts as the app does
//! every period. `cargo bench -p twofold-core --bench otp`.

use std::hint::black_box;

use criterion::{Criterion, criterion_main};
use twofold_core::Secret;
use twofold_core::otp::{Algorithm, Kind, OtpParams, generate};

/// A moment in 2023, well inside a period.
const TIME: u64 = 1_700_000_000;

fn secret(seed: u8, len: usize) -> Secret {
    Secret::new((0..len).map(|i| seed.wrapping_mul(31).wrapping_add(i as u8)).collect())
}

fn single_codes(c: &mut Criterion) {
    let cases = [
        ("totp_sha1_6", OtpParams::default(), 20),
        (
            "totp_sha512_8",
            OtpParams { algorithm: Algorithm::Sha512, digits: 8, ..OtpParams::default() },
            64,
        ),
        ("hotp_sha1_6", OtpParams { kind: Kind::Hotp, counter: 42, ..OtpParams::default() }, 20),
        ("steam", OtpParams { kind: Kind::Steam, digits: 5, ..OtpParams::default() }, 20),
    ];
    for (name, params, key_len) in cases {
        let secret = secret(1, key_len);
        c.bench_function(name, |b| {
            b.iter(|| generate(black_box(&secret), black_box(&params), black_box(TIME)))
        });
    }
}

fn hundred_accounts(c: &mut Criterion) {
    let accounts: Vec<Secret> = (0..100).map(|seed| secret(seed, 20)).collect();
    let params = OtpParams::default();
    c.bench_function("100_accounts_totp_sha1_6", |b| {
        b.iter(|| {
            for secret in &accounts {
                black_box(generate(black_box(secret), &params, black_box(TIME)).ok());
            }
        })
    });
}

// By hand rather than `criterion_group!`, whose generated `pub fn` cannot carry a doc comment.
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    single_codes(&mut c);
    hundred_accounts(&mut c);
}

criterion_main!(benches);
