// One row per account: a button showing issuer, account name, the code and a countdown ring.
import { groupCode } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const RADIUS = 15;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;

function svg(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

function span(className) {
  const node = document.createElement("span");
  node.className = className;
  return node;
}

/** A new, empty row for account `id`; `fill` puts an account's data in it. */
export function createRow(id) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "account";
  button.dataset.accountId = id;

  const who = span("who");
  who.append(span("issuer"), span("name"));
  const code = span("code");
  const error = span("error");

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

  button.append(who, code, ring, error);
  item.append(button);
  return item;
}

/**
 * Shows `account` (from listAccounts) in `item`. `now` is the listing's Unix time: a code expires at
 * `now + seconds_left`, kept on the ring for the ticking timer.
 */
export function fill(item, account, now) {
  const button = item.firstElementChild;
  button.querySelector(".issuer").textContent = account.issuer || account.name || "(unnamed)";
  button.querySelector(".name").textContent = account.issuer ? account.name : "";
  const code = button.querySelector(".code");
  const error = button.querySelector(".error");
  const ring = button.querySelector(".countdown");

  if (account.code) {
    code.textContent = groupCode(account.code.current, account.kind);
    code.classList.remove("unavailable");
    error.textContent = "";
    button.setAttribute("aria-label", `${account.label}: ${code.textContent}. Copy`);
  } else {
    code.textContent = account.error.label;
    code.classList.add("unavailable");
    error.textContent = account.error.message;
    button.setAttribute("aria-label", `${account.label}: ${account.error.message}`);
  }
  button.dataset.available = String(Boolean(account.code));

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
 * caller lists again). The ring eases toward where it will be one second later.
 */
export function tick(item, nowMs) {
  const ring = item.querySelector(".countdown");
  if (!ring.dataset.expiresAt) return true;
  const period = Number(ring.dataset.period);
  const left = Number(ring.dataset.expiresAt) - nowMs / 1000;
  const seconds = Math.max(0, Math.ceil(left));
  ring.dataset.secondsLeft = String(seconds);
  ring.querySelector(".seconds").textContent = String(seconds);
  ring.classList.toggle("ending", seconds <= 5);
  const fraction = Math.min(1, Math.max(0, (left - 1) / period));
  ring.querySelector(".remaining").style.strokeDashoffset = (CIRCUMFERENCE * (1 - fraction)).toFixed(2);
  return left > 0;
}
