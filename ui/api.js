// The only module that talks to the Rust side: every command and event goes through here.
import { ApiError, asApiError } from "./errors.js";

const tauri = window.__TAURI__;

async function call(command, args) {
  if (!tauri) throw new ApiError("unknown", "This page only works inside the Twofold app.");
  try {
    return await tauri.core.invoke(command, args);
  } catch (err) {
    throw asApiError(err);
  }
}

/**
 * Every account with its current code:
 * `{now, accounts: [{id, issuer, name, label, kind, period, code, error}]}`, `error` an ApiError.
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

/** Adds the accounts at `chosen` (entry indexes) of scan `scan`: `{added: [label], problems: [message]}`. */
export function addScanned(scan, chosen) {
  return call("add_scanned", { scan, chosen });
}

/** Closes scan `scan` without adding anything (its secrets are dropped in Rust). */
export function discardScan(scan) {
  return call("discard_scan", { scan });
}

/** Calls `handler` whenever the vault changes on disk (e.g. the CLI added an account). */
export async function onVaultChanged(handler) {
  if (!tauri) return () => {};
  return tauri.event.listen("vault-changed", () => handler());
}
