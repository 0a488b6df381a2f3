// The window: lists the accounts, keeps every countdown moving with one timer, lists again when a
// period rolls over or the vault changes, copies a code when its row is clicked, and adds accounts
// from QR images.
import { copyCode, listAccounts, onVaultChanged } from "./api.js";
import { createRow, fill, tick } from "./rows.js";
import { setUpScanning } from "./scan.js";

const list = document.getElementById("accounts");
const empty = document.getElementById("empty");
const problem = document.getElementById("problem");
const toast = document.getElementById("toast");

/** Rows by account id, reused across listings so focus and the rings' easing survive. */
const rows = new Map();

function showProblem(err) {
  problem.textContent = err ? err.message : "";
  problem.hidden = !err;
}

function render(listing) {
  const seen = new Set();
  listing.accounts.forEach((account, index) => {
    seen.add(account.id);
    let item = rows.get(account.id);
    if (!item) {
      item = createRow(account.id);
      rows.set(account.id, item);
    }
    fill(item, account, listing.now);
    tick(item, Date.now());
    // Only move a row that is out of place: moving the focused one would drop focus.
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
  });
  for (const [id, item] of rows) {
    if (!seen.has(id)) {
      item.remove();
      rows.delete(id);
    }
  }
  empty.hidden = rows.size > 0;
}

let listing = null;
let again = false;

/** Lists the accounts; calls made while one is running collapse into one more. */
async function refresh() {
  if (listing) {
    again = true;
    return listing;
  }
  listing = (async () => {
    do {
      again = false;
      try {
        render(await listAccounts());
        showProblem(null);
      } catch (err) {
        showProblem(err);
      }
    } while (again);
    listing = null;
  })();
  return listing;
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

list.addEventListener("click", async (event) => {
  const button = event.target.closest("button.account");
  if (!button) return;
  try {
    await copyCode(button.dataset.accountId);
    say("Copied");
  } catch (err) {
    say(err.message, true);
  }
  // A counter-based code is used up by copying it: show the next one.
  refresh();
});

/** The one timer: every second, on the second, moves every ring and lists again on rollover. */
function everySecond() {
  const now = Date.now();
  let expired = false;
  for (const item of rows.values()) {
    if (!tick(item, now)) expired = true;
  }
  if (expired) refresh();
  setTimeout(everySecond, 1000 - (Date.now() % 1000) + 10);
}

onVaultChanged(refresh);
setUpScanning(refresh, say);
refresh();
everySecond();
