//! Pairing: the confirmation screen's preview of a link, then the pairing itself, in the order
//! that leaves nothing behind when a step fails: key into the keyring, completion to the server,
//! then the paired server into `servers.json`. And unpairing.

use serde::Serialize;
use twofold_core::keystore::Keystore;
use twofold_protocol::client::DeviceClient;
use twofold_protocol::{KeyPair, LinkError, PairingLink};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::device::{Device, DeviceError, Unpaired};
use crate::secret::{self, DeviceSecret};
use crate::servers::ServerRecord;

/// What the confirmation screen shows before pairing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairingPreview {
    /// The server's base URL.
    pub server_url: String,
    /// The service's name, if the link gives one, made safe to show.
    pub service: Option<String>,
    /// The server key's fingerprint, in groups of four, to compare with the one the service shows.
    pub fingerprint: String,
}

/// Reads a pairing link for the confirmation screen; never shows its token.
pub fn preview(link: &str) -> Result<PairingPreview, LinkError> {
    let link: PairingLink = link.parse()?;
    Ok(PairingPreview {
        server_url: link.server.to_string(),
        // The link is anyone's text until paired: shown like a request's names.
        service: link.service.as_deref().map(twofold_protocol::text::neutralise),
        fingerprint: link.fingerprint.to_string(),
    })
}

fn fresh_key() -> Result<KeyPair, DeviceError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|_| DeviceError::Randomness)?;
    Ok(KeyPair::from_seed(&seed))
}

fn keyring_label(link: &PairingLink) -> String {
    key_label(link.service.as_deref(), link.server.host_str().unwrap_or("server"))
}

/// What a pairing's key entry is called in keystores.
pub(crate) fn key_label(service: Option<&str>, host: &str) -> String {
    match service {
        Some(service) => format!("trusted-device key for {service} ({host})"),
        None => format!("trusted-device key for {host}"),
    }
}

impl<K: Keystore + Send + Sync + 'static> Device<K> {
    /// Pairs with the server of `link` as `name` (what the service lists the device as).
    pub async fn pair(&self, link: &str, name: &str) -> Result<ServerRecord, DeviceError> {
        let link: PairingLink = link.parse()?;
        let id = Uuid::new_v4();
        let label = keyring_label(&link);
        let key = fresh_key()?;
        let seed = key.seed();
        // The key is in the keyring before the server hears of it: a device the server knows
        // always has its key.
        let pending = DeviceSecret { key, offline_seed: Zeroizing::new(Vec::new()) };
        let store_label = label.clone();
        self.with_keystore(move |k| secret::store(k, id, &store_label, &pending)).await?;
        let result = self.complete(&link, name, id, label, &seed).await;
        if result.is_err() {
            let undo = self.with_keystore(move |k| Ok(k.delete(id)?)).await;
            if let Err(error) = undo {
                tracing::warn!(%error, "could not delete the key of a failed pairing");
            }
        }
        result
    }

    async fn complete(
        &self,
        link: &PairingLink,
        name: &str,
        id: Uuid,
        label: String,
        seed: &[u8; 32],
    ) -> Result<ServerRecord, DeviceError> {
        let (_client, completed) = DeviceClient::pair(link, name, KeyPair::from_seed(seed))
            .await
            .map_err(DeviceError::Pairing)?;
        let offline = twofold_core::Secret::from_base32(completed.offline_seed.expose())
            .map_err(|_| DeviceError::BadOfflineSeed)?;
        let full = DeviceSecret {
            key: KeyPair::from_seed(seed),
            offline_seed: Zeroizing::new(offline.expose().to_vec()),
        };
        self.with_keystore(move |k| secret::store(k, id, &label, &full)).await?;
        let record = ServerRecord {
            id,
            server_url: link.server.to_string(),
            service: completed.service,
            user: completed.user,
            device_id: completed.device_id,
            server_key: completed.server_key,
            paired_at: self.now(),
        };
        let saved = record.clone();
        self.change_servers(move |servers| servers.push(saved))?;
        Ok(record)
    }

    /// Unpairs from paired server `id`: asks the server to revoke this device (best effort),
    /// deletes the key, forgets the server.
    pub async fn unpair(&self, id: Uuid) -> Result<Unpaired, DeviceError> {
        let record = self.server(id)?;
        let revoke_failed = match self.client(&record).await {
            Ok(client) => client.unpair().await.err().map(DeviceError::Server),
            Err(error) => Some(error),
        };
        if let Some(error) = &revoke_failed {
            tracing::warn!(server = %id, %error, "the server could not be told of the unpairing");
        }
        // The entry goes before the key: a crash in between leaves a key no server names, never
        // a server without its key.
        self.change_servers(|servers| servers.retain(|s| s.id != id))?;
        self.with_keystore(move |k| Ok(k.delete(id)?)).await?;
        for request in self.shown_ids(id) {
            self.unshow(id, request);
        }
        Ok(Unpaired { revoke_failed })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_preview_shows_server_service_and_grouped_fingerprint_but_no_token() {
        let fingerprint = KeyPair::from_seed(&[4; 32]).public().fingerprint();
        let link = PairingLink::new(
            "https://approve.example",
            "abcdefghijklmnopqrstuvwxyz012345",
            fingerprint,
            Some("Example Mail"),
        )
        .unwrap();
        let shown = preview(&link.to_string()).unwrap();
        assert_eq!(shown.server_url, "https://approve.example/");
        assert_eq!(shown.service.as_deref(), Some("Example Mail"));
        assert_eq!(shown.fingerprint, fingerprint.to_string());
        assert_eq!(shown.fingerprint.split('-').count(), 8);
        let json = serde_json::to_string(&shown).unwrap();
        assert!(!json.contains("abcdefghijklmnop"), "{json}");
        assert!(preview("https://approve.example/").is_err());
    }
}
