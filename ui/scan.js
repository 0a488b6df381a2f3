// Adding accounts from QR images: a file chosen, dropped on the window or pasted, or the screen, is
// scanned in Rust. Importing another app's export file (chosen or dropped) shows the same preview,
// after the file's password when it is encrypted.
// The preview names what was found by index (no secret reaches the page); the checked ones are added.
import { startPairing } from "./approvals.js";
import {
  addScanned,
  discardScan,
  openImport,
  scanClipboard,
  scanImage,
  scanScreen,
  scanText,
  unlockImport,
} from "./api.js";

const dialog = document.getElementById("scan");
const title = document.getElementById("scan-title");
const entries = document.getElementById("scan-entries");
const problems = document.getElementById("scan-problems");
const addButton = document.getElementById("scan-add");
const cancelButton = document.getElementById("scan-cancel");
const fileInput = document.getElementById("image-file");
const importInput = document.getElementById("import-file");
const formatLine = document.getElementById("scan-format");
const unlockForm = document.getElementById("unlock-form");
const unlockPassword = document.getElementById("unlock-password");
const unlockError = document.getElementById("unlock-error");

const KIND_NAMES = Object.freeze({
  totp: "time-based",
  hotp: "counter-based",
  steam: "Steam",
  motp: "mOTP",
  yandex: "Yandex",
});

/** The scan the dialog previews, until its accounts are added or it is closed. */
let openScan = null;
/** The encrypted export file waiting for its password. */
let lockedFile = null;
/** "Add" for QR codes, "Import" for export files: the add button's verb. */
let verb = "Add";

function element(name, className, text) {
  const node = document.createElement(name);
  node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function entryItem(entry) {
  const item = element("li", "scan-entry");
  const label = element("label", "scan-choice");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.dataset.index = String(entry.index);
  // A duplicate cannot be added: the vault refuses it.
  box.checked = !entry.duplicate;
  box.disabled = entry.duplicate;
  label.append(box, element("span", "scan-label", entry.label));
  label.append(element("span", "scan-kind", KIND_NAMES[entry.kind] ?? entry.kind));
  if (entry.duplicate) {
    item.classList.add("duplicate");
    label.append(element("span", "scan-note", "already in Twofold"));
  }
  item.append(label);
  return item;
}

function showDialog(heading, entryItems, messages, format = null) {
  title.textContent = heading;
  formatLine.textContent = format ?? "";
  formatLine.hidden = !format;
  unlockForm.hidden = true;
  entries.replaceChildren(...entryItems);
  problems.replaceChildren(...messages.map((message) => element("li", "scan-problem", message)));
  entries.hidden = entryItems.length === 0;
  problems.hidden = messages.length === 0;
  addButton.hidden = entryItems.length === 0;
  cancelButton.textContent = entryItems.length === 0 ? "Close" : "Cancel";
  updateAddButton();
  if (!dialog.open) dialog.showModal();
}

function updateAddButton() {
  const chosen = entries.querySelectorAll("input:checked").length;
  addButton.disabled = chosen === 0;
  addButton.textContent = chosen === 1 ? `${verb} 1 account` : `${verb} ${chosen} accounts`;
}

function closeDialog() {
  if (openScan) discardScan(openScan).catch(() => {});
  openScan = null;
  lockedFile = null;
  unlockPassword.value = "";
  if (dialog.open) dialog.close();
}

/** Scans an image file's bytes and previews what it holds. */
async function scan(file) {
  if (!file) return;
  await showScan(async () => scanImage(new Uint8Array(await file.arrayBuffer())));
}

/** Runs a scan and previews what it found, or says why nothing can be added. */
async function showScan(scanning) {
  // Rust replaces the previous scan with this one.
  openScan = null;
  lockedFile = null;
  verb = "Add";
  try {
    showPreview(await scanning());
  } catch (err) {
    showDialog("Nothing to add", [], [err.message]);
  }
}

function showPreview(preview, format = null) {
  openScan = preview.scan;
  // A pairing QR code and no account: straight to the pairing confirmation.
  if (preview.pairing && preview.entries.length === 0) {
    discardScan(preview.scan).catch(() => {});
    openScan = null;
    startPairing(preview.pairing);
    return;
  }
  const heading = preview.entries.length > 0 ? "Accounts found" : "No account found";
  showDialog(heading, preview.entries.map(entryItem), preview.problems, format);
}

/** Whether `text` holds an account link, which a paste or the Setup key field adds as a scan. */
export function holdsAccountLink(text) {
  return /otpauth(-migration)?:\/\//i.test(text ?? "");
}

/** Previews the accounts of the links in `text` (pasted, or typed as the Setup key). */
export function addFromText(text) {
  // The Add dialog makes way for the preview.
  const add = document.getElementById("add");
  if (add.open) add.close();
  return showScan(() => scanText(text));
}

/** Reads an export file and previews its accounts, asking for its password first if it has one. */
async function importFile(file) {
  if (!file) return;
  openScan = null;
  lockedFile = null;
  verb = "Import";
  try {
    const opened = await openImport(new Uint8Array(await file.arrayBuffer()));
    if (opened.preview) {
      showPreview(opened.preview, `${opened.format} export`);
      return;
    }
    lockedFile = opened.file;
    showDialog("Encrypted file", [], [], `${opened.format} export, encrypted`);
    unlockForm.hidden = false;
    unlockError.hidden = true;
    unlockPassword.focus();
  } catch (err) {
    showDialog("Nothing to import", [], [err.message]);
  }
}

async function unlock(event) {
  event.preventDefault();
  const file = lockedFile;
  const password = unlockPassword.value;
  // The password leaves the page as soon as it is sent, right or wrong.
  unlockPassword.value = "";
  if (!file) return;
  try {
    const opened = await unlockImport(file, password);
    lockedFile = null;
    showPreview(opened.preview, `${opened.format} export`);
  } catch (err) {
    if (err.code !== "wrong_password") {
      showDialog("Nothing to import", [], [err.message]);
      return;
    }
    // Wrong: say so and let the person try again.
    unlockError.textContent = err.message;
    unlockError.hidden = false;
    unlockPassword.focus();
  }
}

/**
 * Wires the file input, drag and drop and paste to the preview. `refresh` lists the accounts again;
 * `say` shows a short message.
 */
export function setUpScanning(refresh, say) {
  fileInput.addEventListener("change", () => {
    const [file] = fileInput.files;
    // Cleared so choosing the same file again scans it again.
    scan(file).finally(() => {
      fileInput.value = "";
    });
  });

  importInput.addEventListener("change", () => {
    const [file] = importInput.files;
    // The settings dialog the input sits in makes way for the preview.
    document.getElementById("settings").close();
    // A screenshot of QR codes (Google Authenticator's export) is scanned, as when dropped.
    const reading = file?.type.startsWith("image/") ? scan(file) : importFile(file);
    reading.finally(() => {
      importInput.value = "";
    });
  });
  unlockForm.addEventListener("submit", unlock);

  const screenButton = document.getElementById("scan-screen");
  screenButton.addEventListener("click", async () => {
    screenButton.disabled = true;
    try {
      await showScan(scanScreen);
    } finally {
      screenButton.disabled = false;
    }
  });

  entries.addEventListener("change", updateAddButton);
  // Enter adds what the preview found (a focused button keeps its own Enter).
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target.closest("button, form")) return;
    if (addButton.hidden || addButton.disabled) return;
    event.preventDefault();
    addButton.click();
  });
  cancelButton.addEventListener("click", closeDialog);
  // Escape closes the dialog too: the scan is discarded the same way.
  dialog.addEventListener("close", closeDialog);

  addButton.addEventListener("click", async () => {
    const chosen = [...entries.querySelectorAll("input:checked")].map((box) => Number(box.dataset.index));
    const scanId = openScan;
    openScan = null;
    try {
      const result = await addScanned(scanId, chosen);
      refresh();
      if (result.problems.length > 0) {
        const heading = result.added.length > 0 ? "Some accounts were not added" : "Nothing was added";
        showDialog(heading, [], result.problems);
      } else {
        dialog.close();
      }
      if (result.added.length > 0) {
        say(result.added.length === 1 ? `Added ${result.added[0]}` : `Added ${result.added.length} accounts`);
      }
    } catch (err) {
      showDialog("Nothing was added", [], [err.message]);
    }
  });

  const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  // The overlay shows as soon as a file enters the window; cancelling both accepts the drop.
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      document.body.classList.add("dropping");
    });
  }
  document.addEventListener("dragleave", (event) => {
    // Leaving the window, not moving between its elements.
    if (event.relatedTarget === null) document.body.classList.remove("dropping");
  });
  document.addEventListener("drop", (event) => {
    document.body.classList.remove("dropping");
    if (!hasFiles(event)) return;
    event.preventDefault();
    const files = [...event.dataTransfer.files];
    const image = files.find((file) => file.type.startsWith("image/"));
    // An image is scanned for QR codes; any other file is read as an export.
    if (image) scan(image);
    else importFile(files[0]);
  });

  document.addEventListener("paste", (event) => {
    const items = [...(event.clipboardData?.items ?? [])];
    const image = items.find((item) => item.kind === "file" && item.type.startsWith("image/"));
    if (image) {
      event.preventDefault();
      scan(image.getAsFile());
      return;
    }
    // An account link is added wherever it is pasted, the Setup key field included.
    const text = event.clipboardData?.getData("text/plain") ?? "";
    if (holdsAccountLink(text)) {
      event.preventDefault();
      addFromText(text);
      return;
    }
    // Text pasted into a field stays the field's.
    if (event.target instanceof Element && event.target.closest("input, textarea, [contenteditable]")) {
      return;
    }
    event.preventDefault();
    // WebKitGTK gives the page no clipboard image (WebKit bug 218519): Rust reads the clipboard.
    showScan(scanClipboard);
  });
}
