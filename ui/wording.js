// What the trusted device's screens say, in one place: connection states, history outcomes, how a
// request ended, number mode's choices, and the lock screen's note; and what the start screens and
// the keystore settings say. approvals.js and keystore.js pick from here; nothing else words these.

/** A paired server's connection state. */
export const STATE_NAMES = Object.freeze({
  connected: "Connected",
  reconnecting: "Reconnecting",
  no_key: "Device key unreadable (keyring unavailable or secrets file locked): retrying",
  revoked: "Removed by the server",
  stopped: "Stopped",
});

/** How a past request ended, as the history lists it. */
export const OUTCOME_NAMES = Object.freeze({
  allowed: "Allowed here",
  denied: "Denied here",
  reported: "Reported here",
  expired: "Expired",
  withdrawn: "Answered on another device",
});

/** What the view says after an answer given in it, by the server's status. */
export const DECISION_MESSAGES = Object.freeze({
  allowed: "Allowed: the sign-in goes on",
  denied: "Denied: the sign-in was stopped",
  reported:
    "Reported: the sign-in was stopped and the service was told it was not you; it may refuse new sign-ins to this account for a while",
});

/** Number mode: above the signed choices; picking one is the Allow. */
export const PICK_NUMBER = "Pick the number shown on the sign-in page to allow (or press 1, 2 or 3)";

/** Number mode: what a screen reader says of choice `number`, picked with key `key`. */
export function choiceLabel(number, key) {
  return `Allow with ${number} (key ${key})`;
}

/** Code mode after Allow: the sign-in waits for the code. */
export const CODE_TO_TYPE = "Allowed: type this code on the device that is signing in to finish";

/** Why a request left the view without an answer given in it. */
export const WITHDRAWN_MESSAGES = Object.freeze({
  answered: "Answered on another device",
  expired: "This request expired",
});

/** A request answered from its notification, by the server's status. */
export const FROM_NOTIFICATION = Object.freeze({
  allowed: "Allowed from the notification",
  denied: "Denied from the notification",
  reported: "Reported from the notification",
});

/** The lock screen's note while sign-in requests wait behind the lock. */
export const LOCK_WAITING = "A sign-in request is waiting: unlock to answer";

/** One waiting request on the lock screen: its service and the time left ("1:23"). */
export function waitingLine(service, left) {
  return `${service} · ${left} left`;
}

/** The full-window screens the lock shows, by the LockStatus's `screen`. */
export const START_SCREENS = Object.freeze({
  passphrase: { title: "Twofold is locked", text: "" },
  secrets_file: {
    title: "Unlock your secrets",
    text: "This vault keeps its secrets in an encrypted file; its passphrase unlocks Twofold.",
  },
  no_keyring: {
    title: "No keyring to keep your secrets",
    text: "Twofold keeps secrets in the desktop's keyring (a Secret Service), and none runs here. Install and start one, then Retry:",
  },
  keyring_locked: {
    title: "The keyring is locked",
    text: "The desktop's keyring is locked, or its unlock prompt was closed. Retry shows the prompt again.",
  },
});

/** Secret Services that serve Twofold (shown when none runs). */
export const SECRET_SERVICES = Object.freeze([
  "GNOME Keyring (package gnome-keyring)",
  "KeePassXC, with its Secret Service integration on",
  "KWallet's Secret Service (KDE Plasma 6)",
]);

/** The no-keyring screen's other way. */
export const USE_FILE = Object.freeze({
  title: "Or use an encrypted file instead",
  text: "Your secrets go into one file in Twofold's folder, sealed with a passphrase typed twice. It also locks Twofold: keep it safe, nobody can recover it.",
});

/** A cost level in the choice: its name, and once measured its size and one unlock's time here. */
export function costLevelText(level, measured) {
  const names = { quick: "Quick", standard: "Standard", strong: "Strong" };
  const name = names[level] ?? level;
  if (!measured) return name;
  const seconds = (measured.millis / 1000).toFixed(1);
  return `${name}: ${seconds} s here (${measured.memory_mib} MiB × ${measured.passes})`;
}

/** Where the secrets are, in the settings, and the move offered. */
export const KEYSTORE_PLACES = Object.freeze({
  keyring: {
    state: "In the system keyring.",
    move: "Move to an encrypted file…",
    title: "Move secrets to an encrypted file",
    text: "Every secret, the app lock and the trusted device's keys move into one file sealed with a new passphrase, all or nothing. That passphrase then unlocks Twofold.",
    passphrase: "New passphrase of the file",
  },
  secrets_file: {
    state: "In an encrypted file; its passphrase locks Twofold.",
    move: "Move to the system keyring…",
    title: "Move secrets to the system keyring",
    text: "Every secret and the trusted device's keys move into the system keyring, all or nothing, and the file is removed. Type the file's passphrase to confirm.",
    passphrase: "Passphrase of the file",
  },
});

/** What the toast says after a move, by where the secrets went. */
export const MOVED_TO = Object.freeze({
  file: "Secrets moved to the encrypted file",
  keyring: "Secrets moved to the system keyring",
});

/** "Recently deleted" (trash.js). */
export const TRASH = Object.freeze({
  restore: "Restore",
  purge: "Delete for good",
  /** What is left of an entry's 30 days. */
  left: (days) => (days <= 1 ? "gone within a day" : `${days} days left`),
  purgeTitle: (label) => `Delete ${label} for good?`,
  purgeText: "Its secret is removed from this computer and cannot be brought back.",
});

/** The keyboard shortcuts, as Ctrl+? lists them (shortcuts.js handles them). */
export const SHORTCUTS = Object.freeze([
  ["Ctrl+N", "Add an account"],
  ["Ctrl+V", "Add from a copied QR picture or otpauth:// link"],
  ["Ctrl+F or /", "Search (#tag finds tagged accounts)"],
  ["↑ ↓", "Move between accounts"],
  ["Enter or Ctrl+C", "Copy the code of the account in focus"],
  ["Delete", "Delete the account in focus"],
  ["Ctrl+,", "Settings"],
  ["Ctrl+L", "Lock (with a passphrase set)"],
  ["Ctrl+?", "This list"],
  ["Esc", "Close a dialog; clear the search"],
]);
