//! The real keyring (gnome-keyring under `scripts/with-services`) while another process deletes:
//! an entry deleted between the keyring's search and the read of what it found reads as gone, never
//! as a failure (the app's undo window closing while the CLI or a second window reads it).

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use twofold_core::Secret;
use twofold_core::keystore::{Keystore as _, OsKeystore};
use uuid::Uuid;

const ROUNDS: usize = 20;
const READERS: usize = 2;

#[test]
fn reads_racing_a_delete_see_the_secret_or_nothing() {
    let keystore = OsKeystore::default();
    let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let vault = Uuid::new_v4();
    let mut failures = Vec::new();
    for _ in 0..ROUNDS {
        let id = Uuid::new_v4();
        keystore.store(id, vault, "race", &secret).unwrap();
        let start = Arc::new(Barrier::new(READERS + 1));
        let gone = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let (keystore, start, gone, secret) =
                    (keystore.clone(), start.clone(), gone.clone(), secret.clone());
                std::thread::spawn(move || {
                    start.wait();
                    // Reads until one after the delete finished: every read before sees the
                    // secret or nothing, and that last one must see nothing.
                    loop {
                        let done = gone.load(Ordering::SeqCst);
                        match keystore.load(id) {
                            Ok(Some(read)) if read != secret => {
                                return Err("another secret was read".to_owned());
                            }
                            Ok(Some(_)) if done => {
                                return Err("a deleted secret was still read".to_owned());
                            }
                            Ok(None) if done => return Ok(()),
                            Ok(_) => {}
                            Err(err) => return Err(err.to_string()),
                        }
                        // Room for the rest of the suite: the daemon serves one call at a time and
                        // aborts when a client gives up waiting (2 s) in the middle of a session.
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                })
            })
            .collect();
        start.wait();
        std::thread::sleep(std::time::Duration::from_millis(20));
        keystore.delete(id).unwrap();
        gone.store(true, Ordering::SeqCst);
        failures.extend(readers.into_iter().filter_map(|r| r.join().unwrap().err()));
    }
    assert!(failures.is_empty(), "reads racing a delete failed: {failures:?}");
}
