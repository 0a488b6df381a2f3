// "Recently deleted": the accounts deleted in the last 30 days, each restorable (its secret is
// still in the keystore) or deleted for good; and the one-time suggestion to turn on automatic
// backups once there are accounts to lose.
import { backupStatus, purgeAccount, restoreAccount, trashedAccounts } from "./api.js";
import { confirmAction, showError } from "./manage.js";
import { TRASH } from "./wording.js";

const $ = (id) => document.getElementById(id);

/** localStorage key remembering that the backup suggestion was answered. */
const PROMPTED = "twofold.backup-prompted";

function trashItem(entry, actions) {
  const item = document.createElement("li");
  item.className = "trash-entry";
  item.dataset.accountId = entry.id;
  const label = document.createElement("span");
  label.className = "trash-label";
  label.textContent = entry.label;
  label.title = entry.label;
  const when = document.createElement("span");
  when.className = "trash-when";
  when.textContent = TRASH.left(Math.max(0, Math.ceil((entry.expires - Date.now() / 1000) / 86400)));
  const restore = document.createElement("button");
  restore.type = "button";
  restore.className = "action trash-restore";
  restore.textContent = TRASH.restore;
  restore.setAttribute("aria-label", `${TRASH.restore} ${entry.label}`);
  restore.addEventListener("click", () => actions.restore(entry));
  const purge = document.createElement("button");
  purge.type = "button";
  purge.className = "action danger trash-purge";
  purge.textContent = TRASH.purge;
  purge.setAttribute("aria-label", `${TRASH.purge}: ${entry.label}`);
  purge.addEventListener("click", () => actions.purge(entry));
  item.append(label, when, restore, purge);
  return item;
}

/** Wires the "Recently deleted" dialog (opened from the settings). `app`: `{refresh, say}`. */
export function setUpTrash({ refresh, say }) {
  const dialog = $("trash");
  const list = $("trash-list");
  const error = $("trash-error");

  const show = async () => {
    try {
      const entries = await trashedAccounts();
      list.replaceChildren(...entries.map((entry) => trashItem(entry, actions)));
      $("trash-empty").hidden = entries.length > 0;
      showError(error, null);
    } catch (err) {
      showError(error, err);
    }
  };
  const actions = {
    restore: async (entry) => {
      try {
        say(`Restored ${await restoreAccount(entry.id)}`);
        refresh();
      } catch (err) {
        showError(error, err);
        return;
      }
      show();
    },
    purge: async (entry) => {
      const sure = await confirmAction(TRASH.purgeTitle(entry.label), TRASH.purgeText, TRASH.purge, true);
      // The confirmation was a dialog over this one: this one stays open.
      if (!sure) return;
      try {
        say(`Deleted ${await purgeAccount(entry.id)} for good`);
      } catch (err) {
        showError(error, err);
        return;
      }
      show();
    },
  };

  $("open-trash").addEventListener("click", async () => {
    $("settings").close();
    list.replaceChildren();
    await show();
    dialog.showModal();
  });
  $("trash-close").addEventListener("click", () => dialog.close());
}

/** Suggests automatic backups once, when accounts exist and backups are off. */
export async function promptForBackups(accountCount) {
  const prompt = $("backup-prompt");
  if (accountCount === 0 || localStorage.getItem(PROMPTED) || !prompt.hidden) return;
  let status;
  try {
    status = await backupStatus();
  } catch {
    return;
  }
  if (status.enabled) return;
  prompt.hidden = false;
  const answered = () => {
    localStorage.setItem(PROMPTED, "1");
    prompt.hidden = true;
  };
  $("backup-prompt-open").onclick = () => {
    answered();
    $("open-backups").click();
  };
  $("backup-prompt-dismiss").onclick = answered;
}
