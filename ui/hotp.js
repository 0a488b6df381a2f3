// Counter-based (HOTP) rows after a copy: copying uses the code up, and the listing then brings the
// next one; the row keeps showing the code that was copied (what the clipboard holds) until the
// person asks for the next with ↻.
import { groupCode } from "./format.js";

/** Remembers, before a copy of `item`'s account, the code the copy puts on the clipboard. */
export function holdCopied(item) {
  const account = item.account;
  if (account?.kind === "hotp" && account.code) item.heldCode = account.code.current;
}

/** Shows the held code in `item` after a listing filled it; the listing's code becomes "next". */
export function showHeld(item) {
  const account = item.account;
  if (!item.heldCode || account?.kind !== "hotp" || !account.code) return;
  if (item.heldCode === account.code.current) return;
  const code = groupCode(item.heldCode, "hotp");
  item.querySelector(".code").textContent = code;
  item.querySelector(".next").textContent = groupCode(account.code.current, "hotp");
  item.querySelector("button.account").setAttribute("aria-label", `${account.label}: ${code}. Copy`);
}

/** Lets go of `item`'s held code; returns whether one was held (↻ then only shows the next). */
export function release(item) {
  const held = Boolean(item.heldCode);
  delete item.heldCode;
  return held;
}
