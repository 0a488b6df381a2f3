// The closed set of error codes the app's commands return, mirrored from src-tauri/src/error.rs
// (a Rust test checks every code there appears here), each with the short label a row shows.
export const ERROR_LABELS = Object.freeze({
  secret_missing: "secret missing",
  keyring_unavailable: "keyring unavailable",
  keyring_failed: "keyring error",
  storage: "cannot read accounts",
  not_found: "account removed",
  invalid_account: "invalid account",
  duplicate: "already added",
  clipboard: "cannot copy",
  image_unreadable: "cannot read the image",
  no_qr_code: "no QR code",
  scan_closed: "scan closed",
  screen_capture: "cannot capture the screen",
  locked: "locked",
  approval: "trusted device error",
  wrong_password: "wrong password",
  file_unreadable: "cannot read the file",
  backup_failed: "backup failed",
  export_failed: "export failed",
  unknown: "error",
});

/**
 * `message` as a sentence: Rust's messages start in lower case and end bare ("wrong password: it
 * does not decrypt…"), which reads as a raw string on screen.
 */
export function sentence(message) {
  const text = String(message ?? "").trim();
  if (!text) return text;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?…)]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** An error from the app: `code` is one of ERROR_LABELS' keys, `message` a sentence to show. */
export class ApiError extends Error {
  constructor(code, message) {
    super(sentence(message));
    this.name = "ApiError";
    this.code = code in ERROR_LABELS ? code : "unknown";
  }

  /** The short label for this error's code. */
  get label() {
    return ERROR_LABELS[this.code];
  }
}

/** Whatever a command rejected with, as an ApiError. */
export function asApiError(value) {
  if (value instanceof ApiError) return value;
  if (value && typeof value === "object" && typeof value.message === "string") {
    return new ApiError(value.code, value.message);
  }
  return new ApiError("unknown", String(value));
}
