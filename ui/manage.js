// Managing accounts: adding one by hand, editing (names, tags, icon; code settings behind a
// warning), deleting with a few seconds to undo, showing its QR code (after asking), and settings.
import {
  accountQr,
  addAccount,
  deleteAccount,
  editAccount,
  setIcon,
  restoreAccount,
  setSettings,
} from "./api.js";
import { CLOSED_WHEN_IDLE, closeWhenIdle } from "./idle-close.js";
import { forgetIcon } from "./rows.js";
import { addFromText, holdsAccountLink } from "./scan.js";

const $ = (id) => document.getElementById(id);

/** How long the Undo bar stays; later, "Recently deleted" in the settings restores for 30 days. */
const UNDO_MS = 8000;

/** Shows `err`'s message in `node` (hidden when there is no error). */
export function showError(node, err) {
  node.textContent = err ? err.message : "";
  node.hidden = !err;
}

/**
 * Asks a yes/no question in the window's own dialog; resolves to whether the person agreed.
 * `destructive` paints the yes button red (a deletion).
 */
export function confirmAction(title, text, yes, destructive = false) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = yes;
  $("confirm-yes").classList.toggle("destructive", destructive);
  dialog.showModal();
  $("confirm-no").focus();
  return new Promise((resolve) => {
    const answer = (value) => () => {
      $("confirm-yes").onclick = null;
      $("confirm-no").onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    $("confirm-yes").onclick = answer(true);
    $("confirm-no").onclick = answer(false);
    dialog.onclose = answer(false);
  });
}

/**
 * Wires the add, edit, confirm, QR and settings dialogs and the Undo bar. `app`: `{refresh, say,
 * rowOf(id), getSettings(), setSettings(saved)}`.
 */
export function setUpManaging(app) {
  setUpAdding(app);
  setUpEditing(app);
  setUpSettings(app);
}

/**
 * Asks, then moves `account` (a listed account) to "Recently deleted" and offers Undo; resolves
 * to whether it was deleted. `app`: `{refresh, say}`.
 */
export async function deleteAsked(account, { refresh, say }) {
  const sure = await confirmAction(
    `Delete ${account.label}?`,
    "It moves to Recently deleted (in Settings) for 30 days, then its secret is gone. Keep another way to sign in to this service.",
    "Delete",
    true,
  );
  if (!sure) return false;
  const label = await deleteAccount(account.id);
  offerUndo(account.id, label, { refresh, say });
  refresh();
  return true;
}

function setUpAdding({ refresh, say }) {
  const dialog = $("add");
  const form = $("add-form");
  const secret = $("add-secret");
  const reveal = $("add-reveal");
  const error = $("add-error");

  const more = $("add-more");
  const advanced = $("add-advanced");
  const showMore = (open) => {
    advanced.hidden = !open;
    more.setAttribute("aria-expanded", String(open));
  };
  more.addEventListener("click", () => showMore(advanced.hidden));
  // Only the fields the chosen type uses show (a counter is not asked for a time-based code).
  const syncKind = () => {
    const kind = $("add-kind").value;
    const show = (id, shown) => {
      $(id).disabled = !shown;
      $(id).closest("label").hidden = !shown;
    };
    show("add-period", kind === "totp");
    show("add-counter", kind === "hotp");
    show("add-digits", kind !== "steam");
    show("add-algorithm", kind !== "steam");
    more.hidden = kind === "steam";
    if (kind === "steam") showMore(false);
  };
  $("add-kind").addEventListener("change", syncKind);

  $("add-manual").addEventListener("click", () => {
    form.reset();
    secret.type = "password";
    reveal.setAttribute("aria-pressed", "false");
    reveal.textContent = "Show";
    showError(error, null);
    showMore(false);
    syncKind();
    dialog.showModal();
    $("add-issuer").focus();
  });
  reveal.addEventListener("click", () => {
    const showing = secret.type === "text";
    secret.type = showing ? "password" : "text";
    reveal.setAttribute("aria-pressed", String(!showing));
    reveal.textContent = showing ? "Show" : "Hide";
  });
  $("add-cancel").addEventListener("click", () => dialog.close());
  // The typed key leaves the page once the dialog closes, whichever way.
  dialog.addEventListener("close", () => {
    secret.value = "";
  });

  // An old error goes as soon as the person changes what it was about.
  form.addEventListener("input", () => showError(error, null));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // A whole otpauth link typed or dropped as the key: added as a pasted link is.
    if (holdsAccountLink(secret.value)) {
      addFromText(secret.value);
      return;
    }
    const entry = {
      issuer: $("add-issuer").value,
      name: $("add-name").value,
      secret: secret.value,
      kind: $("add-kind").value,
      algorithm: $("add-algorithm").value,
      digits: Number($("add-digits").value) || 0,
      period: Number($("add-period").value) || 0,
      counter: Number($("add-counter").value) || 0,
    };
    try {
      const label = await addAccount(entry);
      dialog.close();
      say(`Added ${label}`);
      refresh();
    } catch (err) {
      showError(error, err);
    }
  });
}

function setUpEditing({ refresh, say, rowOf }) {
  const dialog = $("edit");
  const error = $("edit-error");
  const advanced = $("edit-advanced");
  const toggle = $("edit-advanced-toggle");
  let editing = null;

  const showAdvanced = (open) => {
    advanced.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => showAdvanced(advanced.hidden));

  document.getElementById("accounts").addEventListener("click", (event) => {
    const button = event.target.closest("button.edit");
    if (!button) return;
    const item = button.closest("li.row");
    editing = item.account;
    $("edit-title").textContent = `Edit ${editing.label}`;
    $("edit-issuer").value = editing.issuer;
    $("edit-name").value = editing.name;
    $("edit-tags").value = editing.tags.join(", ");
    $("edit-algorithm").value = editing.algorithm;
    $("edit-digits").value = String(editing.digits);
    $("edit-period").value = String(editing.period);
    // Steam and HOTP have no period; Steam, mOTP and Yandex fix digits and algorithm too.
    $("edit-period").disabled = editing.kind !== "totp";
    toggle.hidden = ["steam", "motp", "yandex"].includes(editing.kind);
    showAdvanced(false);
    showError(error, null);
    dialog.showModal();
    $("edit-issuer").focus();
  });

  $("edit-cancel").addEventListener("click", () => dialog.close());

  $("edit-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = {
      issuer: $("edit-issuer").value,
      name: $("edit-name").value,
      tags: $("edit-tags").value.split(","),
    };
    // Code settings are sent only when the person opened them, past the warning.
    if (!advanced.hidden) {
      form.algorithm = $("edit-algorithm").value;
      form.digits = Number($("edit-digits").value) || 0;
      if (editing.kind === "totp") form.period = Number($("edit-period").value) || 0;
    }
    try {
      const label = await editAccount(editing.id, form);
      dialog.close();
      say(`Saved ${label}`);
      refresh();
    } catch (err) {
      showError(error, err);
    }
  });

  const changeIcon = async (bytes) => {
    try {
      await setIcon(editing.id, bytes);
      const item = rowOf(editing.id);
      if (item) forgetIcon(item);
      say(bytes.length > 0 ? "Icon changed" : "Icon removed");
      showError(error, null);
      refresh();
    } catch (err) {
      showError(error, err);
    }
  };
  $("edit-icon").addEventListener("change", async () => {
    const [file] = $("edit-icon").files;
    $("edit-icon").value = "";
    if (file) await changeIcon(new Uint8Array(await file.arrayBuffer()));
  });
  $("edit-icon-remove").addEventListener("click", () => changeIcon(new Uint8Array()));

  $("edit-delete").addEventListener("click", async () => {
    try {
      if (await deleteAsked(editing, { refresh, say })) dialog.close();
    } catch (err) {
      showError(error, err);
    }
  });

  $("edit-qr").addEventListener("click", async () => {
    const account = editing;
    const sure = await confirmAction(
      `Show the QR code of ${account.label}?`,
      "Anyone who sees or photographs it can make this account's codes. Scan it with your phone, then close it.",
      "Show",
    );
    if (!sure) return;
    try {
      showQr(account.label, await accountQr(account.id), say);
    } catch (err) {
      showError(error, err);
    }
  });
}

let undoTimer = null;

function offerUndo(id, label, { refresh, say }) {
  const bar = $("undo");
  const button = $("undo-button");
  $("undo-text").textContent = `Deleted ${label}`;
  bar.hidden = false;
  clearTimeout(undoTimer);
  undoTimer = setTimeout(() => {
    bar.hidden = true;
  }, UNDO_MS);
  button.onclick = async () => {
    clearTimeout(undoTimer);
    bar.hidden = true;
    try {
      say(`Restored ${await restoreAccount(id)}`);
    } catch (err) {
      say(err.message, true);
    }
    refresh();
  };
}

function showQr(label, svgText, say) {
  const dialog = $("qr");
  const image = $("qr-image");
  $("qr-title").textContent = `Scan ${label} with your phone`;
  const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
  image.src = url;
  const close = () => {
    // The code holds the secret: it leaves the page as soon as the dialog closes.
    image.removeAttribute("src");
    URL.revokeObjectURL(url);
    dialog.onclose = null;
  };
  // `close` fires a task later; the button drops the code at once.
  dialog.onclose = close;
  $("qr-close").onclick = () => {
    close();
    dialog.close();
  };
  dialog.showModal();
  dialog.scrollTop = 0;
  // Closing on Escape or after a minute untouched: a QR code left on screen is a secret left on screen.
  closeWhenIdle(dialog, () => say(CLOSED_WHEN_IDLE));
}

function setUpSettings({ say, getSettings, setSettings: keep }) {
  const dialog = $("settings");
  $("open-settings").addEventListener("click", () => {
    $("clear-seconds").value = String(getSettings().clipboard_clear_seconds);
    dialog.showModal();
  });
  $("settings-cancel").addEventListener("click", () => dialog.close());
  $("settings-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const seconds = Math.max(0, Math.round(Number($("clear-seconds").value) || 0));
    try {
      keep(await setSettings(seconds, getSettings().sort));
      dialog.close();
      say("Settings saved");
    } catch (err) {
      say(err.message, true);
    }
  });
}
