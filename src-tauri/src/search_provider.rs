//! GNOME Shell's search: the app serves `org.gnome.Shell.SearchProvider2` on the session bus, so
//! typing an issuer in the Activities overview lists the account and activating it copies its
//! code (the row's clipboard path, cleared the same way). Locked, it answers nothing and copies
//! nothing. Results name the issuer and account, never a code or a secret. The packages install
//! the provider's .ini and a D-Bus service file that starts the app when it is not running.

use std::collections::HashMap;

use tauri::{AppHandle, Emitter, Manager, Wry};
use uuid::Uuid;
use zbus::zvariant::OwnedValue;

use crate::error::{ApiError, ErrorCode};
use crate::{AppState, clipboard, desktop};

/// The name the provider answers at (the .ini's `BusName`).
pub const BUS_NAME: &str = "org.twofold.Twofold.SearchProvider";
/// Where (the .ini's `ObjectPath`).
pub const OBJECT_PATH: &str = "/org/twofold/Twofold/SearchProvider";
/// The argument the D-Bus service file starts the app with: hidden, whatever the tray.
pub const START_ARG: &str = "--search-provider";
/// The event asking the page to search for its payload (GNOME Shell's "more results").
pub const SEARCH_REQUESTED: &str = "search-requested";

/// The provider: the running app behind it.
struct SearchProvider {
    app: AppHandle<Wry>,
}

impl SearchProvider {
    /// The ids of the accounts all `terms` match, limited to `within` when given; none while
    /// locked or for no terms.
    fn search(&self, terms: &[String], within: Option<&[String]>) -> Vec<String> {
        let query = terms.join(" ");
        if query.trim().is_empty() {
            return Vec::new();
        }
        let state = self.app.state::<AppState>();
        let found = match state.accounts().and_then(|accounts| accounts.search(&query)) {
            Ok(found) => found,
            Err(err) => {
                tracing::info!(error = %err, "GNOME Shell's search is not answered");
                return Vec::new();
            }
        };
        let ids = found.into_iter().map(|id| id.to_string());
        match within {
            Some(previous) => ids.filter(|id| previous.contains(id)).collect(),
            None => ids.collect(),
        }
    }
}

#[zbus::interface(name = "org.gnome.Shell.SearchProvider2")]
impl SearchProvider {
    /// The accounts a new search finds.
    fn get_initial_result_set(&self, terms: Vec<String>) -> Vec<String> {
        self.search(&terms, None)
    }

    /// The accounts a longer search finds among those the shorter one found.
    fn get_subsearch_result_set(
        &self,
        previous_results: Vec<String>,
        terms: Vec<String>,
    ) -> Vec<String> {
        self.search(&terms, Some(&previous_results))
    }

    /// What the overview shows of each result: the issuer as the name, the account name as the
    /// description. No code: it would sit on screen in the overview, out of the app's hands.
    fn get_result_metas(&self, identifiers: Vec<String>) -> Vec<HashMap<String, OwnedValue>> {
        let state = self.app.state::<AppState>();
        let Ok(accounts) = state.accounts() else { return Vec::new() };
        identifiers
            .iter()
            .filter_map(|id| {
                let account = accounts.vault().account(id.parse::<Uuid>().ok()?).ok()?;
                let (name, description) = if account.issuer.is_empty() {
                    (account.name.clone(), String::new())
                } else {
                    (account.issuer.clone(), account.name.clone())
                };
                let meta = [("id", id.clone()), ("name", name), ("description", description)];
                meta.into_iter().map(|(key, value)| Some((key.to_owned(), text(value)?))).collect()
            })
            .collect()
    }

    /// Copies the code of the account chosen.
    fn activate_result(&self, identifier: String, _terms: Vec<String>, _timestamp: u32) {
        let state = self.app.state::<AppState>();
        let copied = state.accounts().and_then(|accounts| {
            let id = identifier
                .parse::<Uuid>()
                .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such account"))?;
            clipboard::copy_code(&self.app, accounts, id)
        });
        match copied {
            Ok(()) => tracing::info!("code copied from GNOME Shell's search"),
            Err(err) => tracing::info!(error = %err, "GNOME Shell's choice not copied"),
        }
    }

    /// Opens the window searching for `terms`.
    fn launch_search(&self, terms: Vec<String>, _timestamp: u32) {
        desktop::show_window(&self.app);
        if let Err(err) = self.app.emit(SEARCH_REQUESTED, terms.join(" ")) {
            tracing::warn!(error = %err, "could not pass GNOME Shell's search to the window");
        }
    }
}

/// `value` as a D-Bus string variant.
fn text(value: String) -> Option<OwnedValue> {
    OwnedValue::try_from(zbus::zvariant::Value::from(value)).ok()
}

/// The provider's hold on its name; it answers as long as this lives.
pub struct Served {
    _connection: zbus::blocking::Connection,
}

/// Serves the provider on the session bus. The newest app started takes the name over, so with
/// two vaults open the overview searches the one opened last.
pub fn serve(app: &AppHandle<Wry>) -> zbus::Result<Served> {
    let connection = zbus::blocking::connection::Builder::session()?
        .name(BUS_NAME)?
        .replace_existing_names(true)
        .allow_name_replacements(true)
        .serve_at(OBJECT_PATH, SearchProvider { app: app.clone() })?
        .build()?;
    Ok(Served { _connection: connection })
}
