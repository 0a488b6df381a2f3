//! One guess at a time per user name on this instance: a recovery code or an app password is
//! checked while the user's turn is held. The limit itself is the store's (each guess is counted
//! and recorded in one step, across instances); turns keep one client's requests sent at once
//! from all counting as guesses in flight, so a mail or calendar client opening ten connections
//! with its app password is not taken for a guesser.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OwnedMutexGuard;

/// The turns of the users guessing now.
#[derive(Debug, Default)]
pub(crate) struct Turns(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl Turns {
    /// Waits for `user`'s turn; it ends when the guard is dropped.
    pub(crate) async fn take(&self, user: &str) -> OwnedMutexGuard<()> {
        let turn = {
            // Holders are only ever inserted or removed: a panicking holder leaves the map whole.
            let mut turns = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            // Turns nobody holds or waits for are dropped, so the map holds only users guessing.
            turns.retain(|_, turn| Arc::strong_count(turn) > 1);
            Arc::clone(turns.entry(user.to_owned()).or_default())
        };
        turn.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_users_guesses_take_turns_and_other_users_do_not_wait() {
        let turns = Arc::new(Turns::default());
        let held = turns.take("alice").await;
        let waiting = tokio::spawn({
            let turns = Arc::clone(&turns);
            async move { turns.take("alice").await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "alice's second guess waits for the first");
        let other = tokio::time::timeout(Duration::from_secs(5), turns.take("bob")).await;
        assert!(other.is_ok(), "bob does not wait for alice");
        drop(held);
        let next = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert!(next.is_ok(), "alice's second guess goes on once the first ends");
    }

    #[tokio::test]
    async fn finished_turns_are_forgotten() {
        let turns = Turns::default();
        for user in ["a", "b", "c"] {
            drop(turns.take(user).await);
        }
        drop(turns.take("d").await);
        assert_eq!(turns.0.lock().unwrap().len(), 1, "only the last user's turn may remain");
    }
}
