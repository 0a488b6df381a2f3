// Adding accounts from QR images: a file chosen, dropped on the window or pasted, or the screen, is
// scanned in Rust.
// The preview names what was found by index (no secret reaches the page); the checked ones are added.
import { addScanned, discardScan, scanClipboard, scanImage, scanScreen } from "./api.js";

const dialog = document.getElementById("scan");
const title = document.getElementById("scan-title");
const entries = document.getElementById("scan-entries");
const problems = document.getElementById("scan-problems");
const addButton = document.getElementById("scan-add");
const cancelButton = document.getElementById("scan-cancel");
const fileInput = document.getElementById("image-file");

const KIND_NAMES = Object.freeze({ totp: "time-based", hotp: "counter-based", steam: "Steam" });

/** The scan the dialog previews, until its accounts are added or it is closed. */
let openScan = null;

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

function showDialog(heading, entryItems, messages) {
  title.textContent = heading;
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
  addButton.textContent = chosen === 1 ? "Add 1 account" : `Add ${chosen} accounts`;
}

function closeDialog() {
  if (openScan) discardScan(openScan).catch(() => {});
  openScan = null;
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
  try {
    const preview = await scanning();
    openScan = preview.scan;
    const heading = preview.entries.length > 0 ? "Accounts found" : "No account found";
    showDialog(heading, preview.entries.map(entryItem), preview.problems);
  } catch (err) {
    showDialog("Nothing to add", [], [err.message]);
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
    const image = files.find((file) => file.type.startsWith("image/")) ?? files[0];
    scan(image);
  });

  document.addEventListener("paste", (event) => {
    const items = [...(event.clipboardData?.items ?? [])];
    const image = items.find((item) => item.kind === "file" && item.type.startsWith("image/"));
    if (image) {
      event.preventDefault();
      scan(image.getAsFile());
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
