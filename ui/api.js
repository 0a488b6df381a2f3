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

/** Calls `handler` whenever the vault changes on disk (e.g. the CLI added an account). */
export async function onVaultChanged(handler) {
  if (!tauri) return () => {};
  return tauri.event.listen("vault-changed", () => handler());
}
