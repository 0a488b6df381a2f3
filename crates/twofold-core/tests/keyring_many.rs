//! Reading many secrets at once from the real keyring (gnome-keyring under `scripts/with-services`)
//! gives each the answer a read of its own gives: the secret, nothing for a missing entry, and the
//! same error for a damaged one.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use twofold_core::Secret;
use twofold_core::keystore::{Keystore as _, KeystoreError, OsKeystore, SERVICE};
use uuid::Uuid;

#[test]
#[ignore = "needs the services scripts/test starts"]
fn many_secrets_read_together_are_each_what_a_single_read_gives() {
    let keystore = OsKeystore::default();
    let vault = Uuid::new_v4();
    let secrets: Vec<(Uuid, Secret)> = ["JBSWY3DPEHPK3PXP", "GEZDGNBVGY3TQOJQ", "ONSWG4TFOQYTEMZU"]
        .iter()
        .map(|text| (Uuid::new_v4(), Secret::from_base32(text).unwrap()))
        .collect();
    for (id, secret) in &secrets {
        keystore.store(*id, vault, "many", secret).unwrap();
    }
    // One entry written by something else, not in the stored format.
    let damaged = Uuid::new_v4();
    keyring::Entry::new(SERVICE, &damaged.to_string())
        .unwrap()
        .set_password("0189 is not base32")
        .unwrap();
    let missing = Uuid::new_v4();

    let mut ids: Vec<Uuid> = secrets.iter().map(|(id, _)| *id).collect();
    ids.extend([missing, damaged]);
    let together = keystore.load_many(&ids);
    let alone: Vec<_> = ids.iter().map(|id| keystore.load(*id)).collect();
    assert_eq!(together, alone);
    for ((_, secret), read) in secrets.iter().zip(&together) {
        assert_eq!(read.as_ref().unwrap().as_ref(), Some(secret));
    }
    assert_eq!(together[3], Ok(None), "a missing entry reads as nothing");
    assert_eq!(together[4], Err(KeystoreError::Damaged { id: damaged }));

    // Deleted since: nothing, as a single read says.
    keystore.delete(secrets[1].0).unwrap();
    assert_eq!(keystore.load_many(&ids[..3])[1], Ok(None));
    for id in ids {
        keystore.delete(id).unwrap();
    }
}
