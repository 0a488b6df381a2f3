// The window lock and the desktop settings. Locked, the page holds no code and no secret: the
// rows are removed, every dialog closed and emptied, and only the lock screen shows (the app
// lock's or the secrets file's passphrase form, or the keyring's start screen: keystore.js); Rust
// refuses every account command meanwhile, so a stale page cannot fetch them either.
// Also: Ctrl+L locks, Ctrl+W closes the window (into the tray when chosen), Ctrl+Q quits.
import {
  autostartEnabled,
  closeWindow,
  getSettings,
  lockNow,
  lockStatus,
  onLockChanged,
  quit,
  setAutostart,
  setDesktopSettings,
  setPassphrase,
  touch,
  trayAvailable,
  unlock,
} from "./api.js";
import { setUpKeystore, showKeystoreState, showScreen } from "./keystore.js";
import { showError } from "./manage.js";

const $ = (id) => document.getElementById(id);

/** Activity is reported at most this often (ms): the shortest idle time is a minute. */
const TOUCH_EVERY = 10000;

let status = { enabled: false, locked: false };

/** Whether the window is locked now (a listing that arrives meanwhile must not be shown). */
export function isLocked() {
  return status.locked;
}

/**
 * Follows the lock. `app`: `{wipe, refresh, say}`: `wipe` removes every account row, `refresh`
 * lists them again after unlocking.
 */
export async function setUpLock(app) {
  onLockChanged((next) => apply(next, app));
  $("lock-form").addEventListener("submit", (event) => {
    event.preventDefault();
    tryUnlock(app);
  });
  $("lock-button").addEventListener("click", () => lockNow());
  setUpShortcuts();
  setUpActivity();
  setUpPassphraseDialog(app);
  setUpDesktopSettings(app);
  setUpKeystore({ apply: (next) => apply(next, app), say: app.say, status: () => status });
  try {
    apply(await lockStatus(), app);
  } catch (err) {
    app.say(err.message, true);
  }
}

function apply(next, { wipe, refresh }) {
  const wasLocked = status.locked;
  status = next;
  $("lock-button").hidden = !status.enabled;
  document.body.classList.toggle("locked", status.locked);
  $("lock-screen").hidden = !status.locked;
  const keyring = showScreen(status);
  // Locked because the keyring could not say whether a passphrase is set: say so (Unlock asks again).
  $("lock-reason").textContent = status.reason ?? "";
  $("lock-reason").hidden = !status.reason || keyring;
  if (status.locked) {
    for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
    for (const input of document.querySelectorAll("input[type=password]")) input.value = "";
    $("qr-image").removeAttribute("src");
    $("search").value = "";
    wipe();
    $(keyring ? "keyring-retry" : "lock-passphrase").focus();
  } else if (wasLocked) {
    showError($("lock-error"), null);
    refresh();
  }
}

async function tryUnlock(app) {
  const input = $("lock-passphrase");
  const button = $("lock-unlock");
  button.disabled = true;
  try {
    apply(await unlock(input.value), app);
    showError($("lock-error"), null);
  } catch (err) {
    showError($("lock-error"), err);
    input.select();
  } finally {
    input.value = status.locked ? input.value : "";
    button.disabled = false;
  }
}

function setUpShortcuts() {
  document.addEventListener("keydown", (event) => {
    if (!event.ctrlKey || event.altKey || event.shiftKey) return;
    const key = event.key.toLowerCase();
    if (key === "l" && status.enabled) {
      event.preventDefault();
      lockNow();
    } else if (key === "w") {
      event.preventDefault();
      closeWindow();
    } else if (key === "q") {
      event.preventDefault();
      quit();
    }
  });
}

function setUpActivity() {
  let last = 0;
  const seen = () => {
    const now = Date.now();
    if (status.locked || now - last < TOUCH_EVERY) return;
    last = now;
    touch().catch(() => {});
  };
  for (const type of ["keydown", "pointerdown", "wheel"]) {
    document.addEventListener(type, seen, { passive: true, capture: true });
  }
}

function setUpPassphraseDialog({ say }) {
  const dialog = $("passphrase");
  const fields = ["passphrase-current", "passphrase-new", "passphrase-repeat"].map($);
  const close = () => {
    for (const field of fields) field.value = "";
    showError($("passphrase-error"), null);
    dialog.close();
  };
  $("passphrase-open").addEventListener("click", () => {
    $("passphrase-current-field").hidden = !status.enabled;
    $("passphrase-remove").hidden = !status.enabled;
    dialog.showModal();
    fields[status.enabled ? 0 : 1].focus();
  });
  $("passphrase-cancel").addEventListener("click", close);
  dialog.addEventListener("close", () => {
    for (const field of fields) field.value = "";
  });
  const save = async (next) => {
    try {
      status = await setPassphrase(status.enabled ? fields[0].value : null, next);
      close();
      showLockState();
      $("lock-button").hidden = !status.enabled;
      say(next === null ? "Passphrase removed" : "Passphrase saved");
    } catch (err) {
      showError($("passphrase-error"), err);
    }
  };
  $("passphrase-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (fields[1].value !== fields[2].value) {
      showError($("passphrase-error"), new Error("The two new passphrases differ"));
      return;
    }
    save(fields[1].value);
  });
  $("passphrase-remove").addEventListener("click", () => save(null));
}

function showLockState() {
  const file = status.screen === "secrets_file";
  if (file) {
    $("lock-state").textContent = "The secrets file's passphrase locks the window.";
  } else {
    $("lock-state").textContent = status.enabled
      ? "A passphrase is set."
      : "No passphrase: the window never locks.";
  }
  $("passphrase-open").hidden = file;
  $("passphrase-open").textContent = status.enabled ? "Change…" : "Set passphrase…";
  showKeystoreState(status);
}

// The lock and desktop part of the settings dialog: filled when it opens, saved with it. The tray
// choices are offered only where the desktop has a tray; elsewhere they keep what was stored.
function setUpDesktopSettings({ say }) {
  let autostart = false;
  let stored = null;
  let tray = true;
  $("open-settings").addEventListener("click", async () => {
    // Busy while the rest is filled in: the tray note appearing moves what is below it.
    $("settings").setAttribute("aria-busy", "true");
    showLockState();
    try {
      const settings = await getSettings();
      stored = settings;
      tray = await trayAvailable();
      $("no-tray").hidden = tray;
      for (const id of ["close-to-tray", "start-minimised"]) $(id).disabled = !tray;
      $("lock-after").value = String(Math.round(settings.lock_after_seconds / 60));
      $("lock-screen-lock").checked = settings.lock_on_screen_lock;
      $("close-to-tray").checked = tray && settings.close_to_tray;
      $("start-minimised").checked = tray && settings.start_minimised;
      autostart = await autostartEnabled();
      $("autostart").checked = autostart;
    } catch (err) {
      say(err.message, true);
    } finally {
      $("settings").setAttribute("aria-busy", "false");
    }
  });
  $("settings-form").addEventListener("submit", async () => {
    const minutes = Math.max(0, Math.round(Number($("lock-after").value) || 0));
    try {
      await setDesktopSettings({
        lockAfterSeconds: minutes * 60,
        lockOnScreenLock: $("lock-screen-lock").checked,
        closeToTray: tray || !stored ? $("close-to-tray").checked : stored.close_to_tray,
        startMinimised: tray || !stored ? $("start-minimised").checked : stored.start_minimised,
      });
      if ($("autostart").checked !== autostart) autostart = await setAutostart($("autostart").checked);
    } catch (err) {
      say(err.message, true);
    }
  });
}
