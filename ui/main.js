// The window: lists the accounts, keeps every countdown moving with one timer, lists again when a
// period rolls over or the vault changes, copies a code when its row is clicked (or Enter), searches
// as you type, moves between rows with the arrow keys, sorts, pins favourites and reorders by drag.
import {
  copyCode,
  getSettings,
  listAccounts,
  nextHotp,
  onBackupFailed,
  onVaultChanged,
  reorderAccounts,
  searchAccounts,
  setFavourite,
  setSettings,
} from "./api.js";
import { setUpDensity } from "./density.js";
import { lockApprovals, setUpApprovals, tickApprovals, unlockApprovals } from "./approvals.js";
import { setUpIconPacks } from "./icons.js";
import { holdCopied, release, showHeld } from "./hotp.js";
import { isLocked, setUpLock } from "./lock.js";
import { setUpManaging } from "./manage.js";
import { createRow, fill, tick } from "./rows.js";
import { setUpScanning } from "./scan.js";
import { setUpShellSearch } from "./shell-search.js";
import { setUpShortcuts } from "./shortcuts.js";
import { setUpTransfer } from "./transfer.js";
import { promptForBackups, setUpTrash } from "./trash.js";

const list = document.getElementById("accounts");
const empty = document.getElementById("empty");
const noMatch = document.getElementById("no-match");
const problem = document.getElementById("problem");
const toast = document.getElementById("toast");
const search = document.getElementById("search");
const sort = document.getElementById("sort");

/** From this many rows on, rows off screen are neither laid out nor painted. */
const LONG_LIST = 50;
/** Rows by account id, reused across listings so focus survives. */
const rows = new Map();
/** The rows on screen: only their rings are drawn each second. */
const onScreen = new Set();
const visibility = new IntersectionObserver((changes) => {
  for (const change of changes) {
    if (change.isIntersecting) {
      onScreen.add(change.target);
      tick(change.target, Date.now());
    } else {
      onScreen.delete(change.target);
    }
  }
});
/** The ids the search shows, or null when there is no search. */
let shown = null;
/** The settings as last read or saved. */
let settings = { clipboard_clear_seconds: 30, sort: "manual" };

function showProblem(err) {
  problem.textContent = err ? err.message : "";
  problem.hidden = !err;
}

function applySearch() {
  let visible = 0;
  for (const [id, item] of rows) {
    item.hidden = shown !== null && !shown.has(id);
    if (!item.hidden) visible += 1;
  }
  empty.hidden = rows.size > 0;
  // Long lists let the engine skip rows off screen (see style.css).
  list.classList.toggle("long", rows.size > LONG_LIST);
  noMatch.hidden = rows.size === 0 || visible > 0;
  // Dragging reorders the manual order, which only shows unsorted and unfiltered.
  const draggable = settings.sort === "manual" && shown === null;
  for (const item of rows.values()) item.draggable = draggable;
}

function render(listing) {
  const seen = new Set();
  listing.accounts.forEach((account, index) => {
    seen.add(account.id);
    let item = rows.get(account.id);
    if (!item) {
      item = createRow(account.id);
      rows.set(account.id, item);
      visibility.observe(item);
    }
    fill(item, account, listing.now);
    showHeld(item);
    // A new listing may bring a new period: every ring is drawn again, even if its second is the
    // same (listings are rare: the per-second tick draws only the rows on screen).
    delete item.querySelector(".countdown").dataset.secondsLeft;
    tick(item, Date.now());
    // Only move a row that is out of place: moving the focused one would drop focus.
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
  });
  for (const [id, item] of rows) {
    if (!seen.has(id)) {
      visibility.unobserve(item);
      onScreen.delete(item);
      item.remove();
      rows.delete(id);
    }
  }
  applySearch();
  promptForBackups(rows.size);
}

/** Removes every row (the window locked): no code stays in the page. */
function wipe() {
  for (const item of rows.values()) {
    visibility.unobserve(item);
    item.remove();
  }
  rows.clear();
  onScreen.clear();
  shown = null;
  showProblem(null);
}

let listing = null;
let again = false;

/** Lists the accounts (and searches again); calls made while one runs collapse into one more. */
async function refresh() {
  if (listing) {
    again = true;
    return listing;
  }
  listing = (async () => {
    do {
      again = false;
      try {
        const query = search.value.trim();
        const [accounts, matching] = await Promise.all([
          listAccounts(),
          query ? searchAccounts(query) : Promise.resolve(null),
        ]);
        // Locked while the listing was on its way: it must not reach the page.
        if (isLocked()) break;
        shown = matching && new Set(matching);
        render(accounts);
        // For the start-up bench (tests/app_bench.rs): when the first codes were on screen.
        if (rows.size > 0 && performance.getEntriesByName("first-code").length === 0) {
          performance.mark("first-code");
        }
        showProblem(null);
      } catch (err) {
        if (!isLocked()) showProblem(err);
      }
    } while (again);
    listing = null;
  })();
  return listing;
}

/** The newest search wins: answers to older keystrokes are dropped. */
let searchSerial = 0;
async function runSearch() {
  const serial = ++searchSerial;
  const query = search.value.trim();
  try {
    const matching = query ? await searchAccounts(query) : null;
    if (serial !== searchSerial) return;
    shown = matching && new Set(matching);
    applySearch();
    // For the filter bench (tests/app_bench.rs): when the list matched the search.
    performance.mark("search-applied");
  } catch (err) {
    showProblem(err);
  }
}

function say(text, isError = false) {
  toast.textContent = text;
  toast.classList.toggle("error", isError);
  // Restart the fade-out animation (the toast needs no timer of its own).
  toast.classList.remove("shown");
  void toast.offsetWidth;
  toast.classList.add("shown");
}

toast.addEventListener("animationend", () => toast.classList.remove("shown"));

async function copy(id) {
  const item = rows.get(id);
  if (item) holdCopied(item);
  try {
    await copyCode(id);
    say("Copied");
  } catch (err) {
    if (item) release(item);
    say(err.message, true);
  }
  // A counter-based code is used up by copying it, and "recently used" may reorder: list again.
  refresh();
}

list.addEventListener("click", async (event) => {
  const item = event.target.closest("li.row");
  if (!item) return;
  const id = item.dataset.accountId;
  if (event.target.closest("button.account")) {
    copy(id);
  } else if (event.target.closest("button.favourite")) {
    try {
      await setFavourite(id, !item.account.favourite);
    } catch (err) {
      say(err.message, true);
    }
    refresh();
  } else if (event.target.closest("button.hotp-next")) {
    // After a copy, ↻ first shows the code that follows the copied one (already unused).
    if (release(item)) {
      refresh();
      return;
    }
    try {
      await nextHotp(id);
    } catch (err) {
      say(err.message, true);
    }
    refresh();
  }
});

function visibleButtons() {
  return [...list.querySelectorAll("li.row:not([hidden]) > button.account")];
}

function inField(target) {
  return target instanceof Element && target.closest("input, textarea, select, [contenteditable]");
}

document.addEventListener("keydown", (event) => {
  if (document.querySelector("dialog[open]")) return;
  const inSearch = event.target === search;
  if ((event.key === "/" && !inField(event.target)) || (event.key === "f" && event.ctrlKey)) {
    event.preventDefault();
    search.focus();
    search.select();
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (inField(event.target) && !inSearch) return;
    const buttons = visibleButtons();
    if (buttons.length === 0) return;
    event.preventDefault();
    const at = buttons.indexOf(document.activeElement);
    const down = event.key === "ArrowDown";
    const next = at < 0 ? (down ? 0 : buttons.length - 1) : Math.min(buttons.length - 1, Math.max(0, at + (down ? 1 : -1)));
    buttons[next].focus();
  } else if (event.key === "Enter" && inSearch) {
    // Enter in the search copies the first match.
    const [first] = visibleButtons();
    if (first) {
      event.preventDefault();
      first.focus();
      copy(first.dataset.accountId);
    }
  } else if (event.key === "Escape") {
    // Esc in the search clears it, then (when empty) goes to the list; elsewhere it goes to the search.
    if (inSearch && search.value) {
      search.value = "";
      runSearch();
    } else if (inSearch) {
      visibleButtons()[0]?.focus();
    } else {
      search.focus();
      search.select();
    }
  }
});

search.addEventListener("input", runSearch);

sort.addEventListener("change", async () => {
  try {
    settings = await setSettings(settings.clipboard_clear_seconds, sort.value);
  } catch (err) {
    say(err.message, true);
  }
  refresh();
});

// Manual order: rows dragged onto each other; the new order is stored, then listed again.
let dragged = null;
list.addEventListener("dragstart", (event) => {
  dragged = event.target.closest("li.row");
  if (!dragged) return;
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", dragged.dataset.accountId);
  dragged.classList.add("dragging");
});
list.addEventListener("dragover", (event) => {
  if (!dragged) return;
  const over = event.target.closest("li.row");
  if (!over || over === dragged) return;
  event.preventDefault();
  const box = over.getBoundingClientRect();
  list.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? over.nextSibling : over);
});
list.addEventListener("drop", (event) => {
  if (dragged) event.preventDefault();
});
list.addEventListener("dragend", async () => {
  if (!dragged) return;
  dragged.classList.remove("dragging");
  dragged = null;
  try {
    await reorderAccounts([...list.children].map((item) => item.dataset.accountId));
  } catch (err) {
    say(err.message, true);
  }
  refresh();
});

/** The one timer: every second, on the second, moves every ring and lists again on rollover. */
function everySecond() {
  const now = Date.now();
  let expired = false;
  for (const item of rows.values()) {
    if (!tick(item, now, onScreen.has(item))) expired = true;
  }
  if (expired) refresh();
  tickApprovals(now);
  setTimeout(everySecond, 1000 - (Date.now() % 1000) + 10);
}

async function loadSettings() {
  try {
    settings = await getSettings();
    sort.value = settings.sort;
  } catch (err) {
    showProblem(err);
  }
}

onVaultChanged(refresh);
onBackupFailed((message) => say(message, true));
setUpScanning(refresh, say);
setUpManaging({
  refresh,
  say,
  rowOf: (id) => rows.get(id),
  getSettings: () => settings,
  setSettings: (saved) => {
    settings = saved;
  },
});
setUpApprovals({ say });
setUpTransfer({ refresh, say });
setUpIconPacks({ refresh, say });
setUpShellSearch();
setUpTrash({ refresh, say });
setUpDensity();
setUpShortcuts({ copy, refresh, say });
// The empty window's ways in are the toolbar's, closer to hand.
document.getElementById("empty-add").addEventListener("click", () => document.getElementById("add-manual").click());
document.getElementById("empty-scan").addEventListener("click", () => document.getElementById("scan-screen").click());
const reload = () => loadSettings().then(refresh);
const locked = () => {
  wipe();
  lockApprovals();
};
const unlocked = () => {
  unlockApprovals();
  return reload();
};
setUpLock({ wipe: locked, refresh: unlocked, say }).then(reload);
everySecond();
