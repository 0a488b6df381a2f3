//! Marks pending requests expired once their time is up, so devices can close them (a
//! `withdrawn` event) and the audit log says how each request ended.

use std::time::Duration;

use crate::app::Inner;
use crate::hub::{HubEvent, HubKind};
use crate::store::{Store, StoreError};

/// How often expired requests are looked for: a device closes the view at most this late.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Most requests marked per statement, so one sweep never holds the writer long.
const BATCH: u32 = 500;

/// Marks every request expired by now and tells its user's devices and long polls.
pub(crate) async fn sweep<S: Store>(state: &Inner<S>) -> Result<(), StoreError> {
    loop {
        let expired = state.store.expire_signins(state.clock.now(), BATCH).await?;
        for signin in &expired {
            state
                .announce(HubEvent {
                    service_id: signin.service_id,
                    user: signin.user.as_str().into(),
                    kind: HubKind::Expired { id: signin.id },
                })
                .await;
        }
        if expired.len() < BATCH as usize {
            return Ok(());
        }
    }
}
