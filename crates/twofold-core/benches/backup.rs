//! Writing and reading a backup of 1 000 accounts at the default Argon2id cost (64 MiB, 3 passes,
//! 1 lane): key derivation, JSON and XChaCha20-Poly1305. Also the key derivation alone, to show
//! how much of the time it is. `cargo bench -p twofold-core --bench backup`.

#![allow(missing_docs, clippy::unwrap_used)]
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use twofold_core::backup::{self, Entry, KdfCost, Sealing};
use twofold_core::import::Password;
use twofold_core::{Account, OtpParams, Secret};

const ACCOUNTS: usize = 1_000;

fn entries() -> Vec<Entry> {
    (0..ACCOUNTS)
        .map(|i| Entry {
            account: Account {
                id: uuid::Uuid::new_v4(),
                issuer: format!("Service {i}"),
                name: format!("user{i}@example.com"),
                otp: OtpParams::default(),
                icon: Some(format!("https://service{i}.example.com/favicon.ico")),
                tags: vec!["work".into()],
                order: i as u32,
                created: 1_700_000_000,
            },
            secret: Secret::new((i as u64).to_be_bytes().repeat(3)),
        })
        .collect()
}

fn backup_1000(c: &mut Criterion) {
    let entries = entries();
    let passphrase = Password::new("correct horse battery staple".into());
    let sealing = Sealing::fresh(KdfCost::default()).unwrap();

    let started = Instant::now();
    let file = backup::write(&entries, &passphrase, 1, &sealing).unwrap();
    let write = started.elapsed();
    let started = Instant::now();
    let opened = backup::read(&file, &passphrase).unwrap();
    let read = started.elapsed();
    assert_eq!(opened.entries.len(), ACCOUNTS);
    let cheap = Sealing::fresh(KdfCost { memory_kib: 8, passes: 1, lanes: 1 }).unwrap();
    let cheap_file = backup::write(&entries, &passphrase, 1, &cheap).unwrap();
    let started = Instant::now();
    backup::read(&cheap_file, &passphrase).unwrap();
    let without_kdf = started.elapsed();
    println!(
        "{ACCOUNTS} accounts ({} KiB file): write {:.0} ms, read {:.0} ms; read without the key \
         derivation's cost {:.1} ms",
        file.len() / 1024,
        write.as_secs_f64() * 1000.0,
        read.as_secs_f64() * 1000.0,
        without_kdf.as_secs_f64() * 1000.0,
    );

    c.bench_function("backup_write_1000_accounts", |b| {
        b.iter(|| backup::write(black_box(&entries), &passphrase, 1, &sealing).unwrap())
    });
    c.bench_function("backup_read_1000_accounts", |b| {
        b.iter(|| backup::read(black_box(&file), &passphrase).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(7));
    targets = backup_1000
}
criterion_main!(benches);
