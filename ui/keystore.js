// Where the secrets are kept, on the page: the start screens of a keyring that is missing (what to
// install, Retry, or an encrypted file instead) or locked (Retry), the secrets file's unlock
// screen's wording, and the settings' move between the keyring and the file. Rust decides every
// step; this only fills forms and shows the LockStatus it answers with.
import { costLevels, moveKeystore, retryKeyring, useSecretsFile } from "./api.js";
import { showError } from "./manage.js";
import {
  KEYSTORE_PLACES,
  MOVED_TO,
  SECRET_SERVICES,
  START_SCREENS,
  USE_FILE,
  costLevelText,
} from "./wording.js";

const $ = (id) => document.getElementById(id);

/** The levels, quickest first; named until Rust has measured them (the default is "standard"). */
const LEVELS = ["quick", "standard", "strong"];

/** Whether `screen` is one of the keyring's start screens. */
export function isKeyringScreen(screen) {
  return screen === "no_keyring" || screen === "keyring_locked";
}

/** Fills the lock screen for `status`: the keyring's screen or the passphrase form's wording. */
export function showScreen(status) {
  const keyring = status.locked && isKeyringScreen(status.screen);
  $("keyring-screen").hidden = !keyring;
  $("lock-form").hidden = keyring;
  const words = START_SCREENS[status.screen] ?? START_SCREENS.passphrase;
  if (keyring) {
    $("keyring-title").textContent = words.title;
    $("keyring-text").textContent = words.text;
    $("keyring-reason").textContent = status.reason ?? "";
    const missing = status.screen === "no_keyring";
    $("keyring-install").hidden = !missing;
    $("file-form").hidden = !missing;
    if (missing) fillLevels($("file-level"));
  } else {
    $("lock-title").textContent = words.title;
  }
  return keyring;
}

/** Fills a level choice with the named levels, then with each one's time measured here. */
async function fillLevels(select) {
  if (select.options.length === 0) {
    for (const level of LEVELS) {
      select.add(new Option(costLevelText(level), level, false, level === "standard"));
    }
  }
  if (select.dataset.measured) return;
  select.dataset.measured = "yes";
  try {
    for (const measured of await costLevels()) {
      const option = [...select.options].find((o) => o.value === measured.level);
      if (!option) continue;
      option.textContent = costLevelText(measured.level, measured);
      option.title = measured.settings;
    }
  } catch {
    delete select.dataset.measured;
  }
}

/**
 * Wires the keyring screens and the settings' move. `app`: `{apply, say, status}`: `apply` shows a
 * new LockStatus, `status` gives the current one.
 */
export function setUpKeystore({ apply, say, status }) {
  const install = $("keyring-install");
  for (const name of SECRET_SERVICES) {
    const item = document.createElement("li");
    item.textContent = name;
    install.append(item);
  }
  $("file-title").textContent = USE_FILE.title;
  $("file-text").textContent = USE_FILE.text;

  $("keyring-retry").addEventListener("click", async () => {
    const button = $("keyring-retry");
    button.disabled = true;
    try {
      apply(await retryKeyring());
      showError($("keyring-error"), null);
    } catch (err) {
      showError($("keyring-error"), err);
    } finally {
      button.disabled = false;
    }
  });

  $("file-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const [first, again] = [$("file-passphrase"), $("file-repeat")];
    if (first.value !== again.value) {
      showError($("file-error"), new Error("The two passphrases differ"));
      return;
    }
    $("file-create").disabled = true;
    try {
      apply(await useSecretsFile(first.value, again.value, $("file-level").value));
      first.value = "";
      again.value = "";
      showError($("file-error"), null);
    } catch (err) {
      showError($("file-error"), err);
    } finally {
      $("file-create").disabled = false;
    }
  });

  setUpMove({ apply, say, status });
}

/** Where the secrets are now, as the settings word it. */
function place(status) {
  return status.screen === "secrets_file" ? KEYSTORE_PLACES.secrets_file : KEYSTORE_PLACES.keyring;
}

/** Shows where the secrets are in the settings (called when the settings open). */
export function showKeystoreState(status) {
  $("keystore-state").textContent = place(status).state;
  $("keystore-move-open").textContent = place(status).move;
}

function setUpMove({ apply, say, status }) {
  const dialog = $("keystore-move");
  const fields = [$("move-passphrase"), $("move-repeat")];
  const clear = () => {
    for (const field of fields) field.value = "";
    showError($("move-error"), null);
  };
  dialog.addEventListener("close", clear);
  $("move-cancel").addEventListener("click", () => dialog.close());
  $("keystore-move-open").addEventListener("click", () => {
    const words = place(status());
    const toFile = status().screen !== "secrets_file";
    $("move-title").textContent = words.title;
    $("move-text").textContent = words.text;
    $("move-passphrase-label").textContent = words.passphrase;
    $("move-passphrase").autocomplete = toFile ? "new-password" : "current-password";
    $("move-repeat-field").hidden = !toFile;
    $("move-level-field").hidden = !toFile;
    if (toFile) fillLevels($("move-level"));
    dialog.showModal();
    fields[0].focus();
  });
  $("move-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const toFile = status().screen !== "secrets_file";
    if (toFile && fields[0].value !== fields[1].value) {
      showError($("move-error"), new Error("The two passphrases differ"));
      return;
    }
    $("move-save").disabled = true;
    try {
      const to = toFile ? "file" : "keyring";
      const next = await moveKeystore(to, fields[0].value, toFile ? fields[1].value : null, $("move-level").value || "standard");
      dialog.close();
      apply(next);
      showKeystoreState(next);
      say(MOVED_TO[to]);
    } catch (err) {
      showError($("move-error"), err);
    } finally {
      $("move-save").disabled = false;
    }
  });
}
