// One row per account: a button (avatar, issuer, account name, the code, the next code, a countdown
// ring) that copies, and beside it small buttons to pin it, skip to the next HOTP code and edit it.
import { accountIcon } from "./api.js";
import { groupCode } from "./format.js";
import { showBrand } from "./icons.js";

const SVG = "http://www.w3.org/2000/svg";
const RADIUS = 15;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;

/** Object URLs of custom icons by account id, fetched once and dropped when the icon changes. */
const icons = new Map();

/** A new SVG element `name` with `attributes` (geometry as attributes: the CSP allows no inline style). */
export function svg(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** A new HTML element `name` with class `className` and, when given, text `text`. */
export function element(name, className, text) {
  const node = document.createElement(name);
  node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function smallButton(className, text) {
  const button = element("button", `row-action ${className}`, text);
  button.type = "button";
  return button;
}

/** A new, empty row for account `id`; `fill` puts an account's data in it. */
export function createRow(id) {
  const item = element("li", "row");
  item.dataset.accountId = id;
  const button = element("button", "account");
  button.type = "button";
  button.dataset.accountId = id;

  const avatar = element("span", "avatar");
  avatar.setAttribute("aria-hidden", "true");
  const who = element("span", "who");
  who.append(element("span", "issuer"), element("span", "name"));

  const ring = svg("svg", { class: "countdown", viewBox: "0 0 36 36", "aria-hidden": "true" });
  ring.append(
    svg("circle", { class: "track", cx: 18, cy: 18, r: RADIUS }),
    svg("circle", {
      class: "remaining",
      cx: 18,
      cy: 18,
      r: RADIUS,
      "stroke-dasharray": CIRCUMFERENCE.toFixed(2),
      transform: "rotate(-90 18 18)",
    }),
    svg("text", { class: "seconds", x: 18, y: 18, "text-anchor": "middle", "dominant-baseline": "central" }),
  );

  button.append(avatar, who, element("span", "code"), element("span", "next"), ring, element("span", "tags"));
  button.append(element("span", "error"));

  const actions = element("div", "row-actions");
  actions.append(smallButton("favourite", "★"), smallButton("hotp-next", "↻"), smallButton("edit", "✎"));
  item.append(button, actions);
  return item;
}

/** The letter avatar's hue: the same account always gets the same colour. */
function hueOf(text) {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.codePointAt(0)) % 360;
  return hash;
}

async function showIcon(avatar, id) {
  let url = icons.get(id);
  if (!url) {
    const bytes = await accountIcon(id);
    if (bytes.byteLength === 0) return;
    url = URL.createObjectURL(new Blob([bytes]));
    icons.set(id, url);
  }
  const image = element("img", "icon");
  image.alt = "";
  image.src = url;
  avatar.replaceChildren(image);
  avatar.classList.add("custom");
}

/** Forgets the cached icon of the account in `item` (it was changed), so the next fill fetches it. */
export function forgetIcon(item) {
  const id = item.dataset.accountId;
  const url = icons.get(id);
  if (url) URL.revokeObjectURL(url);
  icons.delete(id);
  item.querySelector(".avatar").dataset.shown = "";
}

/** What `account`'s avatar shows: its custom icon, a service icon, or its letter. */
function avatarOf(account) {
  if (account.icon) return "icon";
  return account.brand ? `brand:${account.brand.key}` : "letter";
}

function fillAvatar(avatar, account) {
  const wanted = avatarOf(account);
  if (avatar.dataset.shown === wanted) return;
  avatar.dataset.shown = wanted;
  const letter = (account.issuer || account.name || "?").trim().charAt(0).toUpperCase() || "?";
  avatar.classList.remove("custom");
  avatar.replaceChildren(letter);
  avatar.style.setProperty("--hue", String(hueOf(account.issuer || account.name)));
  if (account.icon) showIcon(avatar, account.id).catch(() => {});
  else if (account.brand) showBrand(avatar, account.brand).catch(() => {});
}

/**
 * Shows `account` (from listAccounts) in `item`. `now` is the listing's Unix time: a code expires at
 * `now + seconds_left`, kept on the ring for the ticking timer.
 */
export function fill(item, account, now) {
  item.account = account;
  const button = item.firstElementChild;
  fillAvatar(button.querySelector(".avatar"), account);
  button.querySelector(".issuer").textContent = account.issuer || account.name || "(unnamed)";
  button.querySelector(".name").textContent = account.issuer ? account.name : "";
  // A name cut short by the row's width is read whole in the tooltip.
  button.querySelector(".who").title = account.label;
  button.querySelector(".tags").textContent = account.tags.map((tag) => `#${tag}`).join(" ");
  const code = button.querySelector(".code");
  const next = button.querySelector(".next");
  const error = button.querySelector(".error");
  const ring = button.querySelector(".countdown");

  if (account.code) {
    code.textContent = groupCode(account.code.current, account.kind);
    next.textContent = groupCode(account.code.next, account.kind);
    code.classList.remove("unavailable");
    error.textContent = "";
    button.setAttribute("aria-label", `${account.label}: ${code.textContent}. Copy`);
  } else {
    code.textContent = account.error.label;
    next.textContent = "";
    code.classList.add("unavailable");
    error.textContent = account.error.message;
    button.setAttribute("aria-label", `${account.label}: ${account.error.message}`);
  }
  button.dataset.available = String(Boolean(account.code));

  const favourite = item.querySelector(".favourite");
  favourite.setAttribute("aria-pressed", String(account.favourite));
  favourite.setAttribute("aria-label", `${account.favourite ? "Unpin" : "Pin"} ${account.label}`);
  favourite.title = account.favourite ? "Unpin from the top" : "Pin on top";
  const hotpNext = item.querySelector(".hotp-next");
  hotpNext.hidden = account.kind !== "hotp";
  hotpNext.setAttribute("aria-label", `Next code of ${account.label}`);
  hotpNext.title = "Next code";
  const edit = item.querySelector(".edit");
  edit.setAttribute("aria-label", `Edit ${account.label}`);
  edit.title = "Edit";

  const left = account.code?.seconds_left;
  // SVG elements have no `hidden` property, only the attribute.
  ring.toggleAttribute("hidden", left == null);
  if (left == null) {
    delete ring.dataset.expiresAt;
  } else {
    ring.dataset.expiresAt = String(now + left);
    ring.dataset.period = String(account.period);
  }
}

/**
 * Moves the ring of `item` to the time `nowMs`; returns false when its code has expired (the
 * caller lists again). With `draw` false (the row is off screen) only the expiry is checked: the
 * DOM is left alone, which is what keeps a long list idle.
 */
export function tick(item, nowMs, draw = true) {
  const ring = item.querySelector(".countdown");
  if (!ring.dataset.expiresAt) return true;
  const left = Number(ring.dataset.expiresAt) - nowMs / 1000;
  if (!draw) return left > 0;
  const period = Number(ring.dataset.period);
  const seconds = Math.max(0, Math.ceil(left));
  if (ring.dataset.secondsLeft !== String(seconds)) {
    ring.dataset.secondsLeft = String(seconds);
    ring.querySelector(".seconds").textContent = String(seconds);
    ring.classList.toggle("ending", seconds <= 5);
    // One step a second, no CSS transition: an eased ring repaints every frame, and a hundred of
    // them kept a core busy under software rendering.
    const fraction = Math.min(1, Math.max(0, left / period));
    ring.querySelector(".remaining").style.strokeDashoffset = (CIRCUMFERENCE * (1 - fraction)).toFixed(2);
  }
  return left > 0;
}
