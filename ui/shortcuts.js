// The window's keyboard shortcuts beyond moving in the list (main.js): Ctrl+N adds, Ctrl+comma
// opens the settings, Delete and Ctrl+C act on the account in focus, Ctrl+? lists them all.
import { isLocked } from "./lock.js";
import { deleteAsked } from "./manage.js";
import { SHORTCUTS } from "./wording.js";

const $ = (id) => document.getElementById(id);

function inField(target) {
  return target instanceof Element && target.closest("input, textarea, select, [contenteditable]");
}

/** The row of the account in focus, if any. */
function focusedRow() {
  return document.activeElement?.closest?.("li.row") ?? null;
}

function showShortcuts() {
  const list = $("shortcuts-list");
  list.replaceChildren(
    ...SHORTCUTS.flatMap(([keys, what]) => {
      const term = document.createElement("dt");
      term.append(...keys.split(" or ").flatMap((key, at) => {
        const kbd = document.createElement("kbd");
        kbd.textContent = key;
        return at === 0 ? [kbd] : [" or ", kbd];
      }));
      const description = document.createElement("dd");
      description.textContent = what;
      return [term, description];
    }),
  );
  $("shortcuts").showModal();
}

/** Wires the shortcuts. `app`: `{copy(id), refresh, say}`. */
export function setUpShortcuts(app) {
  $("shortcuts-close").addEventListener("click", () => $("shortcuts").close());
  document.addEventListener("keydown", (event) => {
    if (document.querySelector("dialog[open]") || isLocked()) return;
    const ctrl = event.ctrlKey || event.metaKey;
    if (ctrl && !event.altKey && event.key.toLowerCase() === "n") {
      event.preventDefault();
      $("add-manual").click();
    } else if (ctrl && event.key === ",") {
      event.preventDefault();
      $("open-settings").click();
    } else if (ctrl && (event.key === "?" || (event.shiftKey && event.key === "/"))) {
      event.preventDefault();
      showShortcuts();
    } else if (inField(event.target)) {
      // Delete and Ctrl+C keep their meaning in a text field.
    } else if (ctrl && event.key.toLowerCase() === "c" && focusedRow()) {
      event.preventDefault();
      app.copy(focusedRow().dataset.accountId);
    } else if (event.key === "Delete" && focusedRow()) {
      event.preventDefault();
      deleteAsked(focusedRow().account, app).catch((err) => app.say(err.message, true));
    }
  });
}
