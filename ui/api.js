// The only module that talks to the Rust side: every command and event goes through here.
import { ApiError, asApiError } from "./errors.js";

const tauri = window.__TAURI__;

async function call(command, args, options) {
  if (!tauri) throw new ApiError("unknown", "This page only works inside the Twofold app.");
  try {
    return await tauri.core.invoke(command, args, options);
  } catch (err) {
    throw asApiError(err);
  }
}

/**
 * Every account with its current code:
 * `{now, accounts: [{id, issuer, name, label, kind, period, tags, favourite, icon, brand, code, error}]}`,
 * `brand` `{key, mime}` (a service icon, for brandIcon) or null,
 * `code` `{current, next, seconds_left}`, `error` an ApiError; favourites first, in the chosen order.
 */
export async function listAccounts() {
  const listing = await call("list_accounts");
  for (const account of listing.accounts) {
    if (account.error) account.error = asApiError(account.error);
  }
  return listing;
}

/** Puts the current code of account `id` on the clipboard (made in Rust, not read from the page). */
export function copyCode(id) {
  return call("copy_code", { id });
}

/**
 * Scans an image file's bytes (an ArrayBuffer or Uint8Array, sent as the raw request body) and opens
 * a scan: `{scan, entries: [{index, label, kind, duplicate}], problems: [message]}`. No secret is in it.
 */
export function scanImage(bytes) {
  return call("scan_image", bytes);
}

/** Hides the window, captures every screen, shows the window again and opens a scan (as scanImage). */
export function scanScreen() {
  return call("scan_screen");
}

/** Reads the image on the clipboard in Rust and opens a scan (as scanImage). */
export function scanClipboard() {
  return call("scan_clipboard");
}

/** Reads the otpauth links in pasted `text` in Rust and opens a scan (as scanImage). */
export function scanText(text) {
  return call("scan_text", { text });
}

/** Adds the accounts at `chosen` (entry indexes) of scan `scan`: `{added: [label], problems: [message]}`. */
export function addScanned(scan, chosen) {
  return call("add_scanned", { scan, chosen });
}

/** Closes scan `scan` without adding anything (its secrets are dropped in Rust). */
export function discardScan(scan) {
  return call("discard_scan", { scan });
}

/**
 * Reads another app's export file (or a Twofold backup) from its bytes (sent as the raw request
 * body): `{file, format, preview}`, `preview` as scanImage gives it (add with addScanned), or null
 * while the file waits for its password (unlockImport).
 */
export function openImport(bytes) {
  return call("open_import", bytes);
}

/** Decrypts export file `file` with `password`: as openImport; a wrong one rejects with "wrong_password". */
export function unlockImport(file, password) {
  return call("unlock_import", { file, password });
}

/** Opens the desktop's save dialog at path `suggested`: the chosen path, or null when cancelled. */
export function chooseExportPath(suggested) {
  return call("choose_export_path", { suggested });
}

/** A new file name in the documents folder for an export in `format` ("aegis" or "uris"). */
export function defaultExportPath(format) {
  return call("default_export_path", { format });
}

/**
 * Saves every account to a new file: `format` "aegis" (encrypted when `password` is given, typed
 * again as `passwordAgain`; Rust checks the two) or "uris". Resolves to `{path, accounts,
 * left_out: [message]}`.
 */
export function exportFile(format, path, password, passwordAgain) {
  return call("export_file", { format, path, password, passwordAgain });
}

/** Every account as migration QR codes: `{batches: [svg], left_out: [message]}`; show, never keep. */
export function exportMigration() {
  return call("export_migration");
}

/** The backup settings and backups: `{enabled, keep, folder, default_folder, backups: [{name, path, created, accounts, problem}]}`. */
export function backupStatus() {
  return call("backup_status");
}

/**
 * Sets automatic backups: `form` `{enabled, keep, folder}` (folder "" for the default), `passphrase`
 * typed again as `passphraseAgain` (Rust checks the two; both "" keep the stored one). Resolves
 * to the first backup written (as backupNow) or null.
 */
export function setBackups(form, passphrase, passphraseAgain) {
  return call("set_backups", { form, passphrase, passphraseAgain });
}

/** Writes a backup now: `{path, accounts, left_out}`. */
export function backupNow() {
  return call("backup_now");
}

/**
 * Merges the automatic backup `name` (as backupStatus lists it) in: `{added: [label], duplicates:
 * [label], refused: [message]}`. Other backup files are opened with openImport.
 */
export function restoreBackup(name, passphrase) {
  return call("restore_backup", { name, passphrase });
}

/** Moves counter-based account `id` on to its next code without copying. */
export function nextHotp(id) {
  return call("next_hotp", { id });
}

/** The ids of the accounts whose issuer, account name or tags match `query` (matching is core's). */
export function searchAccounts(query) {
  return call("search_accounts", { query });
}

/**
 * Adds an account typed in by hand; core checks it. `entry`: `{issuer, name, secret, kind,
 * algorithm, digits, period, counter}`. Resolves to its label.
 */
export function addAccount(entry) {
  return call("add_account", { entry });
}

/** Changes account `id`: `form` `{issuer, name, tags, otp}`, each optional. Resolves to its label. */
export function editAccount(id, form) {
  return call("edit_account", { id, form });
}

/** Pins account `id` on top (or unpins it). */
export function setFavourite(id, favourite) {
  return call("set_favourite", { id, favourite });
}

/** Stores the manual order: `ids` from top to bottom. */
export function reorderAccounts(ids) {
  return call("reorder_accounts", { ids });
}

/** Sets account `id`'s icon to an image's bytes (a Uint8Array); an empty array removes it. */
export function setIcon(id, bytes) {
  return call("set_icon", bytes, { headers: { "account-id": id } });
}

/** Account `id`'s custom icon as an ArrayBuffer (empty when it has none). */
export function accountIcon(id) {
  return call("account_icon", { id });
}

/** The service icon `key` (a listing's `brand.key`: a built-in brand or an icon pack's) as an ArrayBuffer. */
export function brandIcon(key) {
  return call("brand_icon", { key });
}

/** Imports an Aegis icon pack (the ZIP's bytes, a Uint8Array); resolves to `{uuid, name, version, icons, skipped}`. */
export function importIconPack(bytes) {
  return call("import_icon_pack", bytes);
}

/** The imported icon packs, as importIconPack describes them. */
export function iconPacks() {
  return call("icon_packs");
}

/** Removes the imported icon pack `uuid`. */
export function removeIconPack(uuid) {
  return call("remove_icon_pack", { uuid });
}

/** Calls `handler(query)` when GNOME Shell's search asks the window to search for `query`. */
export function onSearchRequested(handler) {
  return listen("search-requested", handler);
}

/** The computer's host name (the trusted device's default name). */
export function hostName() {
  return call("host_name");
}

/** Moves account `id` to "Recently deleted" (restorable for 30 days). Resolves to its label. */
export function deleteAccount(id) {
  return call("delete_account", { id });
}

/** Brings back deleted account `id` from "Recently deleted". Resolves to its label. */
export function restoreAccount(id) {
  return call("restore_account", { id });
}

/** The accounts in "Recently deleted", newest first: `[{id, label, deleted, expires}]` (Unix seconds). */
export function trashedAccounts() {
  return call("trashed_accounts");
}

/** Deletes account `id` of "Recently deleted" for good, its secret included. Resolves to its label. */
export function purgeAccount(id) {
  return call("purge_account", { id });
}

/** Account `id` as an SVG QR code holding its secret: show it, never keep it. */
export function accountQr(id) {
  return call("account_qr", { id });
}

/** The settings: `{clipboard_clear_seconds, sort, ...}`. */
export function getSettings() {
  return call("get_settings");
}

/** Changes the clipboard time (seconds, 0 never clears) and the order ("manual", "alphabetical", "recently_used"). */
export function setSettings(clipboardClearSeconds, sort) {
  return call("set_settings", { clipboardClearSeconds, sort });
}

/** Calls `handler` with the payload of each `event` from Rust; resolves to the function that stops it. */
async function listen(event, handler) {
  if (!tauri) return () => {};
  return tauri.event.listen(event, (message) => handler(message.payload));
}

/** Calls `handler` whenever the vault changes on disk (e.g. the CLI added an account). */
export function onVaultChanged(handler) {
  return listen("vault-changed", () => handler());
}

// Trusted device (approvals). A RequestView is `{server, id, service, user, mode ("push", "number",
// "code"), choices (number mode: the three signed numbers to pick from, else []), location: {text,
// lat, lon}, ip, device, context, created_at, expires_at, attribution}`
// (times in Unix seconds, lat/lon and context null when unknown); a PairedServer is `{id, server_url,
// service, user, fingerprint, paired_at, state ("connected", "reconnecting", "no_key", "revoked", "stopped"), retry_in}`.

/** What pairing link `link` would pair with, before anything is sent: `{server_url, service, fingerprint}`. */
export function pairingPreview(link) {
  return call("pairing_preview", { link });
}

/** Pairs this device with the server of `link` under the name `deviceName`; resolves to the PairedServer. */
export function pair(link, deviceName) {
  return call("pair", { link, deviceName });
}

/** The paired servers (PairedServer each). */
export function pairedServers() {
  return call("paired_servers");
}

/** Unpairs server `id`: revoked on the server, the device key deleted from the keyring. */
export function unpair(id) {
  return call("unpair", { id });
}

/** The sign-in requests waiting for an answer (RequestView each). */
export function pendingRequests() {
  return call("pending_requests");
}

/**
 * What the lock screen may show of the requests waiting while locked: `[{service, expires_at}]`,
 * nothing else (allowed while locked).
 */
export function waitingRequests() {
  return call("waiting_requests");
}

/** Calls `handler` when, while locked, the requests waiting change (ask waitingRequests). */
export function onApprovalWaiting(handler) {
  return listen("approval-waiting", () => handler());
}

/**
 * Answers request `request` of server `server`: `decision` "allow", "deny" or "report"; `number` the
 * choice picked in number mode (one of the request's choices), else null. Resolves to `{status, code, code_expires_at}` (`code`, the
 * six digits to type on the new device in code mode, else null).
 */
export function decide(server, request, decision, number) {
  return call("decide", { server, request, decision, number });
}

/** Past requests, newest first: `[{request: RequestView, outcome, decided_at}]`. */
export function approvalHistory() {
  return call("approval_history");
}

/** The offline verification code for server `server`: `{code, seconds_left, period}`. */
export function offlineCode(server) {
  return call("offline_code", { server });
}

/** Calls `handler` with each new sign-in request (a RequestView). */
export function onApprovalRequest(handler) {
  return listen("approval-request", handler);
}

/**
 * Calls `handler` with `{server, request, reason, status}` when a request leaves the screen: reason
 * "answered" (on another device), "expired", or "decided" (answered from its notification; `status`
 * "allowed" or "denied" says how).
 */
export function onApprovalWithdrawn(handler) {
  return listen("approval-withdrawn", handler);
}

/** Calls `handler` when a paired server is added, removed or changes state. */
export function onServersChanged(handler) {
  return listen("servers-changed", () => handler());
}

/** Calls `handler` with `{server, request}` when the person opens a request from its notification. */
export function onApprovalOpen(handler) {
  return listen("approval-open", handler);
}

// The window lock and the desktop (tray, autostart). A LockStatus is `{enabled, locked, reason,
// screen}`, `screen` one of passphrase, secrets_file, no_keyring, keyring_locked.

/** Whether a lock passphrase is set and whether the window is locked now. */
export function lockStatus() {
  return call("lock_status");
}

/** Unlocks with `passphrase`; rejects with code "wrong_passphrase" after a pause. */
export function unlock(passphrase) {
  return call("unlock", { passphrase });
}

/** The start screen's Retry: asks the keyring again; resolves to the LockStatus. */
export function retryKeyring() {
  return call("retry_keyring");
}

/** With no Secret Service, keeps this new vault's secrets in an encrypted file; resolves to the LockStatus. */
export function useSecretsFile(passphrase, again, level) {
  return call("use_secrets_file", { passphrase, again, level });
}

/**
 * Moves every secret to `to` ("file": new passphrase typed twice at `level`; "keyring": the file's
 * passphrase, `again` null); resolves to the LockStatus.
 */
export function moveKeystore(to, passphrase, again, level) {
  return call("move_keystore", { to, passphrase, again, level });
}

/** The file's cost levels: `[{level, settings, millis}]`, each timed on this machine (takes a second). */
export function costLevels() {
  return call("cost_levels");
}

/** Locks the window now (when a passphrase is set). */
export function lockNow() {
  return call("lock_now");
}

/** Sets or changes (`next`) or removes (`next` null) the passphrase; `current` is the one set, if any. */
export function setPassphrase(current, next) {
  return call("set_passphrase", { current, new: next });
}

/** Tells the app the person is here: the idle time before locking starts again. */
export function touch() {
  return call("touch");
}

/** Whether this desktop has a tray (a StatusNotifierWatcher) to keep the app in. */
export function trayAvailable() {
  return call("tray_available");
}

/** Saves the lock and desktop settings; resolves to the settings. */
export function setDesktopSettings({ lockAfterSeconds, lockOnScreenLock, closeToTray, startMinimised }) {
  return call("set_desktop_settings", { lockAfterSeconds, lockOnScreenLock, closeToTray, startMinimised });
}

/** Whether the app starts with the session. */
export function autostartEnabled() {
  return call("autostart_enabled");
}

/** Adds or removes the session autostart entry; resolves to whether it is on. */
export function setAutostart(enabled) {
  return call("set_autostart", { enabled });
}

/** Closes the window: into the tray, or quits, as the settings say (Ctrl+W). */
export function closeWindow() {
  return call("close_window");
}

/** Quits the app (Ctrl+Q). */
export function quit() {
  return call("quit");
}

/** Calls `handler` with the LockStatus whenever the window locks or unlocks. */
export function onLockChanged(handler) {
  return listen("lock-changed", handler);
}

/** Calls `handler(message)` when an automatic backup of a change fails (the change itself stands). */
export async function onBackupFailed(handler) {
  if (!tauri) return () => {};
  return tauri.event.listen("backup-failed", (event) => handler(String(event.payload)));
}
