//! The audit log's hash chain: each entry stores SHA-256 over the previous entry's hash and its
//! own columns, as stored, so that an entry changed, removed or moved in the database breaks
//! every hash after it (`twofold-server audit verify`). The triggers that refuse UPDATE and
//! DELETE stop mistakes; the chain shows what someone who dropped them did.
//!
//! The chain runs over every service's entries in `seq` order, from 32 zero bytes. Entries
//! written before the chain existed (no hash) may only come first. What the chain cannot show:
//! entries cut off the end, or a whole chain recomputed by someone who can write the database;
//! a head hash recorded elsewhere (the verify command prints it) shows both.

use sha2::{Digest as _, Sha256};

/// The hash before the first chained entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// One audit entry's columns as stored, with its stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Its sequence number.
    pub seq: u64,
    /// The service's id, as stored.
    pub service_id: String,
    /// When.
    pub at: i64,
    /// The user.
    pub user: String,
    /// The event's name.
    pub event: String,
    /// The sign-in's id, as stored.
    pub signin_id: Option<String>,
    /// The device's id, as stored.
    pub device_id: Option<String>,
    /// The address, as stored.
    pub ip: Option<String>,
    /// The stored hash; `None` for entries from before the chain.
    pub hash: Option<Vec<u8>>,
}

/// The columns an entry's hash covers, as stored.
#[derive(Debug, Clone, Copy)]
pub struct ChainFields<'a> {
    /// The service's id.
    pub service_id: &'a str,
    /// When.
    pub at: i64,
    /// The user.
    pub user: &'a str,
    /// The event's name.
    pub event: &'a str,
    /// The sign-in's id.
    pub signin_id: Option<&'a str>,
    /// The device's id.
    pub device_id: Option<&'a str>,
    /// The address.
    pub ip: Option<&'a str>,
}

impl AuditRecord {
    /// Its columns as the hash covers them.
    pub fn fields(&self) -> ChainFields<'_> {
        ChainFields {
            service_id: &self.service_id,
            at: self.at,
            user: &self.user,
            event: &self.event,
            signin_id: self.signin_id.as_deref(),
            device_id: self.device_id.as_deref(),
            ip: self.ip.as_deref(),
        }
    }
}

/// The hash of an entry with `fields` after an entry whose hash is `previous`. Every text is
/// length-prefixed and every optional one marked present or absent, so that no two entries
/// share their bytes.
pub fn link_hash(previous: &[u8; 32], fields: &ChainFields<'_>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"twofold audit v1");
    hasher.update(previous);
    let text = |hasher: &mut Sha256, value: &str| {
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    };
    let optional = |hasher: &mut Sha256, value: Option<&str>| match value {
        None => hasher.update([0]),
        Some(value) => {
            hasher.update([1]);
            text(hasher, value);
        }
    };
    text(&mut hasher, fields.service_id);
    hasher.update(fields.at.to_be_bytes());
    text(&mut hasher, fields.user);
    text(&mut hasher, fields.event);
    optional(&mut hasher, fields.signin_id);
    optional(&mut hasher, fields.device_id);
    optional(&mut hasher, fields.ip);
    hasher.finalize().into()
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit log was changed at entry {seq}: {why}")]
pub struct ChainBreak {
    /// The first entry whose hash does not hold.
    pub seq: u64,
    /// What is wrong with it.
    pub why: &'static str,
}

/// What a verified chain holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainReport {
    /// Entries from before the chain existed (first in the log).
    pub unchained: u64,
    /// Entries whose hash holds.
    pub chained: u64,
    /// The last entry's hash: record it elsewhere to detect a cut-off or recomputed log.
    pub head: [u8; 32],
}

/// Checks entries in `seq` order, page by page.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    report: ChainReport,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { report: ChainReport { unchained: 0, chained: 0, head: GENESIS } }
    }
}

impl ChainVerifier {
    /// Checks the next entry.
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        let broken = |why| ChainBreak { seq: record.seq, why };
        let Some(stored) = &record.hash else {
            if self.report.chained > 0 {
                return Err(broken("its hash was removed"));
            }
            self.report.unchained += 1;
            return Ok(());
        };
        let expected = link_hash(&self.report.head, &record.fields());
        if stored.as_slice() != expected {
            return Err(broken(
                "its hash does not follow from it and the entry before (changed, or an entry \
                 before it was removed or inserted)",
            ));
        }
        self.report.chained += 1;
        self.report.head = expected;
        Ok(())
    }

    /// What was checked so far.
    pub fn report(&self) -> ChainReport {
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, user: &str) -> AuditRecord {
        AuditRecord {
            seq,
            service_id: "s".into(),
            at: 100,
            user: user.into(),
            event: "device_paired".into(),
            signin_id: None,
            device_id: Some("d".into()),
            ip: None,
            hash: None,
        }
    }

    fn chained(users: &[&str]) -> Vec<AuditRecord> {
        let mut previous = GENESIS;
        users
            .iter()
            .zip(1..)
            .map(|(user, seq)| {
                let mut entry = record(seq, user);
                previous = link_hash(&previous, &entry.fields());
                entry.hash = Some(previous.to_vec());
                entry
            })
            .collect()
    }

    fn verify(records: &[AuditRecord]) -> Result<ChainReport, ChainBreak> {
        let mut verifier = ChainVerifier::default();
        records.iter().try_for_each(|r| verifier.check(r))?;
        Ok(verifier.report())
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let log = chained(&["a", "b", "c"]);
        let report = verify(&log).unwrap();
        assert_eq!((report.unchained, report.chained), (0, 3));
        assert_eq!(report.head.as_slice(), log[2].hash.as_deref().unwrap());
    }

    #[test]
    fn a_changed_removed_or_unhashed_entry_breaks_the_chain() {
        let mut changed = chained(&["a", "b", "c"]);
        changed[1].user = "mallory".into();
        assert_eq!(verify(&changed).unwrap_err().seq, 2);
        let mut removed = chained(&["a", "b", "c"]);
        removed.remove(1);
        assert_eq!(verify(&removed).unwrap_err().seq, 3);
        let mut unhashed = chained(&["a", "b", "c"]);
        unhashed[2].hash = None;
        assert_eq!(verify(&unhashed).unwrap_err().seq, 3);
    }

    #[test]
    fn entries_from_before_the_chain_may_only_come_first() {
        let mut log = vec![record(1, "old")];
        let mut rest = chained(&["a"]);
        rest[0].seq = 2;
        log.extend(rest);
        let report = verify(&log).unwrap();
        assert_eq!((report.unchained, report.chained), (1, 1));
    }

    #[test]
    fn absent_and_empty_fields_hash_apart() {
        let mut a = record(1, "u");
        let mut b = a.clone();
        a.ip = None;
        b.ip = Some(String::new());
        assert_ne!(link_hash(&GENESIS, &a.fields()), link_hash(&GENESIS, &b.fields()));
    }
}
