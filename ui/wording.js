// What the trusted device's screens say, in one place: connection states, history outcomes, how a
// request ended, number mode's choices, and the lock screen's note. approvals.js picks from here;
// nothing else words these.

/** A paired server's connection state. */
export const STATE_NAMES = Object.freeze({
  connected: "Connected",
  reconnecting: "Reconnecting",
  no_key: "Device key unreadable (keyring unavailable): retrying",
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
