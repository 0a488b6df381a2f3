// Moving accounts out and keeping them safe: the export dialog (an Aegis or URI file saved where
// the person says, or Google Authenticator QR codes shown one after another) and the backup dialog
// (automatic backups, back up now, restore). Formats and encryption are Rust's; passwords leave the
// inputs as soon as they are sent.
import {
  backupNow,
  backupStatus,
  chooseExportPath,
  defaultExportPath,
  exportFile,
  exportMigration,
  restoreBackup,
  setBackups,
} from "./api.js";
import { CLOSED_WHEN_IDLE, closeWhenIdle } from "./idle-close.js";

const $ = (id) => document.getElementById(id);

function showError(node, message) {
  node.textContent = message ?? "";
  node.hidden = !message;
}

function item(text, className = "scan-problem") {
  const node = document.createElement("li");
  node.className = className;
  node.textContent = text;
  return node;
}

function accountsText(n) {
  return n === 1 ? "1 account" : `${n} accounts`;
}

/** Wires the export and backup dialogs. `app`: `{refresh, say}`. */
export function setUpTransfer(app) {
  setUpExport(app);
  setUpBackups(app);
}

function setUpExport({ say }) {
  const dialog = $("export");
  const error = $("export-error");
  const password = $("export-password");
  const again = $("export-password-again");
  const path = $("export-path");
  const save = $("export-save");
  const chosen = () => document.querySelector('input[name="export-format"]:checked').value;
  const clearPasswords = () => {
    password.value = "";
    again.value = "";
  };

  /** Shows the fields the chosen format needs, and suggests a file name to match it. */
  const sync = async () => {
    const format = chosen();
    $("export-passwords").hidden = format !== "aegis-encrypted";
    $("export-path-field").hidden = format === "migration";
    save.textContent = format === "migration" ? "Show QR codes" : "Save file";
    if (format !== "migration") {
      try {
        path.value = await defaultExportPath(format === "uris" ? "uris" : "aegis");
      } catch (err) {
        showError(error, err.message);
      }
    }
  };
  for (const radio of document.querySelectorAll('input[name="export-format"]')) {
    radio.addEventListener("change", sync);
  }

  $("open-export").addEventListener("click", () => {
    $("settings").close();
    clearPasswords();
    showError(error, null);
    dialog.showModal();
    sync();
  });
  const close = () => {
    clearPasswords();
    dialog.close();
  };
  // The desktop's own save dialog; the field stays for desktops without one.
  $("export-choose").addEventListener("click", async () => {
    try {
      const picked = await chooseExportPath(path.value.trim());
      if (picked) path.value = picked;
      showError(error, null);
    } catch (err) {
      showError(error, err.message);
    }
  });
  $("export-cancel").addEventListener("click", close);
  dialog.addEventListener("close", clearPasswords);

  $("export-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const format = chosen();
    showError(error, null);
    if (format === "migration") {
      try {
        const codes = await exportMigration();
        close();
        showMigration(codes, say);
      } catch (err) {
        showError(error, err.message);
      }
      return;
    }
    // Rust checks the two passwords (same, long enough); the page only shows what it says.
    const encrypted = format === "aegis-encrypted";
    const secret = encrypted ? password.value : null;
    const secretAgain = encrypted ? again.value : null;
    clearPasswords();
    try {
      const saved = await exportFile(
        format === "uris" ? "uris" : "aegis",
        path.value.trim(),
        secret,
        secretAgain,
      );
      close();
      const leftOut = saved.left_out.length > 0 ? ` (${saved.left_out.join("; ")})` : "";
      say(`Exported ${accountsText(saved.accounts)} to ${saved.path}${leftOut}`, leftOut !== "");
    } catch (err) {
      showError(error, err.message);
      if (encrypted) password.focus();
    }
  });
}

/**
 * Shows the migration QR codes one at a time; they leave the page when the dialog closes, by
 * itself after a minute untouched (then `say` tells why).
 */
function showMigration({ batches, left_out: leftOut }, say) {
  const dialog = $("migration");
  const image = $("migration-image");
  const urls = batches.map((svg) => URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" })));
  let at = 0;
  const show = () => {
    image.src = urls[at];
    $("migration-count").textContent = `${at + 1} of ${urls.length}`;
    $("migration-previous").disabled = at === 0;
    $("migration-next").disabled = at === urls.length - 1;
  };
  const forget = () => {
    image.removeAttribute("src");
    for (const url of urls) URL.revokeObjectURL(url);
    urls.length = 0;
    dialog.onclose = null;
  };
  $("migration-left-out").replaceChildren(...leftOut.map((message) => item(message)));
  $("migration-left-out").hidden = leftOut.length === 0;
  $("migration-previous").onclick = () => {
    at = Math.max(0, at - 1);
    show();
  };
  $("migration-next").onclick = () => {
    at = Math.min(urls.length - 1, at + 1);
    show();
  };
  $("migration-close").onclick = () => {
    forget();
    dialog.close();
  };
  dialog.onclose = forget;
  if (urls.length === 0) {
    image.removeAttribute("src");
    $("migration-count").textContent = "No account to export";
    $("migration-previous").disabled = true;
    $("migration-next").disabled = true;
  } else {
    show();
  }
  dialog.showModal();
  // Opened at its top: focus went to a button below the code, and the title and code must show.
  dialog.scrollTop = 0;
  closeWhenIdle(dialog, () => say(CLOSED_WHEN_IDLE));
}

function setUpBackups({ refresh, say }) {
  const dialog = $("backups");
  const error = $("backup-error");
  const passphrase = $("backup-passphrase");
  const again = $("backup-passphrase-again");
  const restoreForm = $("restore-form");
  const restorePassphrase = $("restore-passphrase");
  const report = $("restore-report");
  let restoring = null;
  const clearPassphrases = () => {
    passphrase.value = "";
    again.value = "";
    restorePassphrase.value = "";
  };

  const backupItem = (backup) => {
    const node = item("", "backup-file");
    const text = document.createElement("span");
    text.className = "backup-text";
    text.textContent = backup.problem
      ? `${backup.name}: ${backup.problem}`
      : `${backup.created}, ${accountsText(backup.accounts)}`;
    text.title = backup.path;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "action restore";
    button.textContent = "Restore";
    button.setAttribute("aria-label", `Restore the backup of ${backup.created ?? backup.name}`);
    button.dataset.name = backup.name;
    button.disabled = Boolean(backup.problem);
    node.append(text, button);
    return node;
  };

  const load = async () => {
    try {
      const status = await backupStatus();
      $("backup-enabled").checked = status.enabled;
      $("backup-keep").value = String(status.keep);
      $("backup-folder").value = status.default_folder ? "" : status.folder;
      $("backup-folder-shown").textContent = status.folder;
      $("backup-passphrase-note").textContent = status.enabled
        ? "Leave the passphrase empty to keep the one set; type a new one twice to change it."
        : "Choose a passphrase to turn automatic backups on: restoring needs it.";
      $("backup-list").replaceChildren(...status.backups.map(backupItem));
      if (status.backups.length === 0) {
        $("backup-list").replaceChildren(item("No backups yet", "backup-empty"));
      }
    } catch (err) {
      showError(error, err.message);
    }
  };

  $("open-backups").addEventListener("click", () => {
    $("settings").close();
    clearPassphrases();
    showError(error, null);
    restoreForm.hidden = true;
    report.hidden = true;
    dialog.showModal();
    load();
  });
  $("backups-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", clearPassphrases);

  $("backups-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, null);
    // Rust checks the two passphrases; the page only shows what it says.
    const secret = passphrase.value;
    const secretAgain = again.value;
    passphrase.value = "";
    again.value = "";
    const form = {
      enabled: $("backup-enabled").checked,
      keep: Math.max(1, Math.round(Number($("backup-keep").value) || 1)),
      folder: $("backup-folder").value.trim(),
    };
    try {
      const written = await setBackups(form, secret, secretAgain);
      say(written ? `Backed up ${accountsText(written.accounts)}` : "Backup settings saved");
      await load();
    } catch (err) {
      showError(error, err.message);
    }
  });

  $("backup-now").addEventListener("click", async () => {
    showError(error, null);
    try {
      const written = await backupNow();
      say(`Backed up ${accountsText(written.accounts)}`);
      if (written.left_out.length > 0) showError(error, written.left_out.join("; "));
      await load();
    } catch (err) {
      showError(error, err.message);
    }
  });

  $("backup-list").addEventListener("click", (event) => {
    const button = event.target.closest("button.restore");
    if (!button) return;
    restoring = button.dataset.name;
    $("restore-title").textContent = `Passphrase of ${restoring}`;
    report.hidden = true;
    restoreForm.hidden = false;
    restorePassphrase.focus();
  });
  $("restore-cancel").addEventListener("click", () => {
    restorePassphrase.value = "";
    restoreForm.hidden = true;
  });
  restoreForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const secret = restorePassphrase.value;
    restorePassphrase.value = "";
    try {
      const done = await restoreBackup(restoring, secret);
      restoreForm.hidden = true;
      report.replaceChildren(
        item(`${accountsText(done.added.length)} added, ${done.duplicates.length} already in Twofold`, "restore-summary"),
        ...done.added.map((label) => item(`Added ${label}`)),
        ...done.duplicates.map((label) => item(`Already in Twofold: ${label}`)),
        ...done.refused.map((message) => item(`Not restored: ${message}`)),
      );
      report.hidden = false;
      refresh();
    } catch (err) {
      report.replaceChildren(item(err.message, "form-error"));
      report.hidden = false;
      restorePassphrase.focus();
    }
  });
}
