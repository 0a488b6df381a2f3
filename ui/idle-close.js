// Dialogs that show secrets (QR codes holding accounts' secrets) close themselves after a minute
// without a click, key press or scroll in them, and say why, so a code is not left on an
// unattended screen. The end-to-end tests shorten the wait by setting `data-secret-timeout-ms` on
// <html> before opening such a dialog.

const DEFAULT_TIMEOUT_MS = 60_000;
const INTERACTIONS = ["pointerdown", "keydown", "wheel"];

/** What the page says when it closed a dialog of secrets by itself. */
export const CLOSED_WHEN_IDLE = "Closed after a minute so the codes are not left on screen";

function timeoutMs() {
  const chosen = Number(document.documentElement.dataset.secretTimeoutMs);
  return Number.isFinite(chosen) && chosen > 0 ? chosen : DEFAULT_TIMEOUT_MS;
}

/**
 * Closes the open `dialog` once it has gone a minute without interaction, then calls
 * `onClosed()`. The dialog's own close handlers drop its secrets; closing it any other way
 * stops the watch.
 */
export function closeWhenIdle(dialog, onClosed) {
  let timer = null;
  const stop = () => {
    clearTimeout(timer);
    for (const name of INTERACTIONS) dialog.removeEventListener(name, restart);
    dialog.removeEventListener("close", stop);
  };
  const expire = () => {
    stop();
    if (!dialog.open) return;
    dialog.close();
    onClosed();
  };
  function restart() {
    clearTimeout(timer);
    timer = setTimeout(expire, timeoutMs());
  }
  for (const name of INTERACTIONS) dialog.addEventListener(name, restart);
  dialog.addEventListener("close", stop);
  restart();
}
