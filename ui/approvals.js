// The trusted device's screens. The request view: who signs in to what, "near …" with a small offline
// map, IP, device, time and the time left; Allow, Don't Allow and "This wasn't me"; number mode offers
// three signed numbers instead of Allow (picking the one the sign-in page shows is the Allow; keys 1, 2
// and 3 pick too), code mode shows a six-digit code after Allow. The Trusted
// device dialog: paired servers with their state, pairing by link (or QR, through startPairing),
// removing, offline verification codes and the history. Countdowns move with main.js's one timer.
//
// What tests find:
//   #open-devices             header button opening #devices
//   #approval-view            the request dialog; data-server and data-request name the request shown
//   #approval-service #approval-user #approval-context (what the service says the sign-in is for)
//   #approval-location #approval-ip #approval-device #approval-time
//   #approval-map             holds svg.world-map with circle.map-pin (empty and hidden without coordinates)
//   #approval-expires         "Expires in 1:23"
//   #approval-choices         number mode's group: #approval-choice-1 .. -3 (data-number; #approval-allow is hidden)
//   #approval-allow #approval-deny #approval-report (then #confirm-yes / #confirm-no) #approval-close
//   #approval-code            code mode's code after Allow, "123 456"; #approval-code-expires its countdown
//   #approval-message         how the request ended: "Answered on another device", "This request expired", ...
//   #approval-error #approval-attribution
//   #devices #devices-close #devices-error
//   #lock-waiting (on the lock screen: "A sign-in request is waiting: unlock to answer"), #lock-waiting-list
//   .paired-server[data-server-id][data-state]: .server-service .server-user .server-url .server-state .fingerprint
//     button.offline-code-button, .offline-code (.offline-code-value, .offline-code-left), button.unpair
//   #pair-link #pair-next, then #pair-step: #pair-service #pair-url #pair-fingerprint #pair-device-name
//     #pair-confirm #pair-cancel; #pair-error #pair-status
//   .history-entry[data-outcome] (newest first): .outcome .history-who .history-time .history-where
import {
  approvalHistory,
  decide,
  hostName,
  offlineCode,
  onApprovalOpen,
  onApprovalRequest,
  onApprovalWaiting,
  onApprovalWithdrawn,
  onServersChanged,
  pair,
  pairedServers,
  pairingPreview,
  pendingRequests,
  unpair,
  waitingRequests,
} from "./api.js";
import { groupCode } from "./format.js";
import { isLocked } from "./lock.js";
import { confirmAction, showError } from "./manage.js";
import { worldMap } from "./map.js";
import { element } from "./rows.js";
import {
  CODE_TO_TYPE,
  DECISION_MESSAGES,
  FROM_NOTIFICATION,
  LOCK_WAITING,
  OUTCOME_NAMES,
  PICK_NUMBER,
  STATE_NAMES,
  WITHDRAWN_MESSAGES,
  choiceLabel,
  waitingLine,
} from "./wording.js";

const $ = (id) => document.getElementById(id);

/** Seconds a finished request's message stays before the view closes by itself. */
const CLOSE_AFTER = 4;
/** Degrees of longitude the request's map spans: a region, enough to place a city at a glance. */
const MAP_SPAN = 60;

const view = $("approval-view");
const devices = $("devices");
const allowButton = $("approval-allow");
/** Number mode's choice buttons, in the order keys 1, 2 and 3 pick them. */
const choiceButtons = [1, 2, 3].map((n) => $(`approval-choice-${n}`));
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Requests waiting for an answer by key, in the order they came. */
const waiting = new Map();
/** Keys of requests the person closed unanswered: they are not shown again by themselves. */
const dismissed = new Set();
/**
 * The request on screen: `{key, request, phase, closeAt, codeExpiresAt, withdrawn}`; phase "asking",
 * "busy" (the answer is on its way), "code" (showing the code) or "done" (closing with a message).
 */
let shown = null;
/** Offline verification codes on screen by server id: `{code, expiresAt, fetching}`. */
const offline = new Map();
/** The link whose preview the pairing step shows. */
let pairingLink = null;
/** The request opened from its notification while locked: shown first after unlocking. */
let openAfterUnlock = null;
/** While locked, the requests waiting as the lock screen shows them: `[{service, expires_at}]`. */
let lockedWaiting = [];
let say = () => {};

function keyOf(server, request) {
  return JSON.stringify([server, request]);
}

/** Seconds as "m:ss". */
function clock(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function formatTime(unixSeconds) {
  return dateTime.format(new Date(unixSeconds * 1000));
}

function button(className, text, label) {
  const node = element("button", className, text);
  node.type = "button";
  if (label) node.setAttribute("aria-label", label);
  return node;
}

// The request view.

/** Whether the request on screen is answered by picking one of its numbers. */
function picking() {
  return shown?.request.mode === "number";
}

/** Shows the buttons a phase offers; in number mode the choices take Allow's place. */
function setPhase(phase) {
  shown.phase = phase;
  const asking = phase === "asking" || phase === "busy";
  for (const id of ["approval-allow", "approval-deny", "approval-report"]) {
    $(id).hidden = !asking;
    $(id).disabled = phase === "busy";
  }
  allowButton.hidden = !asking || picking();
  $("approval-choices").hidden = !asking || !picking();
  for (const choice of choiceButtons) choice.disabled = phase === "busy";
  $("approval-close").hidden = asking;
  $("approval-expires").hidden = !asking;
  if (!asking) $("approval-close").focus();
}

/** Puts number mode's signed choices on their buttons (none outside number mode). */
function showChoices(choices) {
  $("approval-choices-title").textContent = PICK_NUMBER;
  choiceButtons.forEach((choice, index) => {
    const number = choices[index];
    choice.textContent = number == null ? "" : String(number);
    choice.dataset.number = number == null ? "" : String(number);
    choice.setAttribute("aria-label", number == null ? "" : choiceLabel(number, index + 1));
  });
}

function showRequest(request) {
  shown = { key: keyOf(request.server, request.id), request, phase: "asking" };
  view.dataset.server = request.server;
  view.dataset.request = request.id;
  $("approval-service").textContent = request.service;
  $("approval-user").textContent = request.user;
  $("approval-context").textContent = request.context ?? "";
  $("approval-context").hidden = !request.context;
  $("approval-location").textContent = request.location.text;
  const { lat, lon } = request.location;
  const placed = Number.isFinite(lat) && Number.isFinite(lon);
  const label = `Map with a pin at the sign-in's approximate location, ${request.location.text}`;
  $("approval-map").replaceChildren(...(placed ? [worldMap(lat, lon, { span: MAP_SPAN, label })] : []));
  $("approval-map").hidden = !placed;
  $("approval-ip").textContent = request.ip;
  $("approval-device").textContent = request.device;
  $("approval-time").textContent = formatTime(request.created_at);
  $("approval-attribution").textContent = request.attribution ?? "";
  $("approval-attribution").hidden = !request.attribution;
  showChoices(request.mode === "number" ? (request.choices ?? []) : []);
  $("approval-code-box").hidden = true;
  $("approval-code").textContent = "";
  $("approval-message").textContent = "";
  showError($("approval-error"), null);
  setPhase("asking");
  tickView(Date.now() / 1000);
  if (!view.open) view.showModal();
  focusView();
}

/**
 * Focuses what the view asks for: never Allow nor a number choice (which allows), so that an Enter
 * pressed by habit lets no stranger in.
 */
function focusView() {
  if (shown.phase !== "asking" && shown.phase !== "busy") $("approval-close").focus();
  else $("approval-deny").focus();
}

/** Ends the request on screen with `message`; the view closes by itself a few seconds later. */
function finish(message) {
  shown.closeAt = Date.now() / 1000 + CLOSE_AFTER;
  $("approval-message").textContent = message;
  $("approval-code-box").hidden = true;
  setPhase("done");
}

/** Shows the first request still waiting that the person has not closed (never behind the lock). */
function showNext() {
  if (isLocked()) return;
  const now = Date.now() / 1000;
  for (const [key, request] of waiting) {
    if (request.expires_at <= now) {
      waiting.delete(key);
    } else if (!dismissed.has(key)) {
      showRequest(request);
      return;
    }
  }
}

/** Whether `request` still waits for an answer on this device (when unsure, it does). */
async function stillWaiting(request) {
  try {
    return (await pendingRequests()).some((p) => p.server === request.server && p.id === request.id);
  } catch {
    return true;
  }
}

/** Answers with `decision`; `number` is the choice picked (number mode's Allow), else null. */
async function answer(decision, number = null) {
  const current = shown;
  if (!current || current.phase !== "asking") return;
  const { request } = current;
  if (decision === "report") {
    const sure = await confirmAction(
      "Report this sign-in?",
      `It is denied, and ${request.service}'s server is told it was not you so it can block where it came from.`,
      "Report",
    );
    if (!sure || shown !== current || current.phase !== "asking") return;
  }
  if (request.mode === "number" && decision === "allow" && number == null) return;
  showError($("approval-error"), null);
  setPhase("busy");
  try {
    const result = await decide(request.server, request.id, decision, number);
    waiting.delete(current.key);
    if (shown !== current) return;
    if (result.code) {
      current.codeExpiresAt = result.code_expires_at;
      $("approval-code").textContent = groupCode(result.code);
      $("approval-code-box").hidden = false;
      $("approval-message").textContent = CODE_TO_TYPE;
      setPhase("code");
      tickView(Date.now() / 1000);
    } else {
      finish(DECISION_MESSAGES[result.status] ?? "Answered");
    }
  } catch (err) {
    if (shown !== current) return;
    if (current.withdrawn) {
      finish(current.withdrawn);
    } else if (await stillWaiting(request)) {
      if (shown === current) {
        setPhase("asking");
        showError($("approval-error"), err);
      }
    } else {
      // The answer ended the request (a decoy picked refuses the sign-in): the view says why and
      // closes instead of offering answers the server would refuse.
      waiting.delete(current.key);
      if (shown === current) finish(err.message);
    }
  }
  if (devices.open) refreshHistory();
}

function tickView(now) {
  if (!shown) return;
  const { phase, request } = shown;
  if (phase === "asking" || phase === "busy") {
    const left = Math.max(0, Math.ceil(request.expires_at - now));
    $("approval-expires").textContent = `Expires in ${clock(left)}`;
    if (left === 0 && phase === "asking") {
      waiting.delete(shown.key);
      finish(WITHDRAWN_MESSAGES.expired);
    }
  } else if (phase === "code") {
    const left = Math.max(0, Math.ceil(shown.codeExpiresAt - now));
    $("approval-code-expires").textContent = `Expires in ${clock(left)}`;
    if (left === 0) finish("The code expired");
  } else if (phase === "done" && now >= shown.closeAt) {
    view.close();
  }
}

function receive(request) {
  // Behind the lock the page keeps nothing about requests; they are fetched again on unlocking.
  if (isLocked()) return;
  waiting.set(keyOf(request.server, request.id), request);
  if (!shown) showNext();
}

function withdrawnMessage(reason, status) {
  if (reason === "decided") return FROM_NOTIFICATION[status] ?? FROM_NOTIFICATION.allowed;
  return WITHDRAWN_MESSAGES[reason] ?? WITHDRAWN_MESSAGES.answered;
}

function withdraw({ server, request, reason, status }) {
  const key = keyOf(server, request);
  waiting.delete(key);
  dismissed.delete(key);
  if (devices.open) refreshHistory();
  if (shown?.key !== key) return;
  if (shown.phase === "asking") {
    finish(withdrawnMessage(reason, status));
  } else if (shown.phase === "busy") {
    // The answer on its way says how it ended; this is the message if it fails.
    shown.withdrawn = withdrawnMessage(reason, status);
  }
}

/** Shows the request the person opened from its notification, and puts the focus on it. */
async function openRequest({ server, request }) {
  const key = keyOf(server, request);
  if (isLocked()) {
    // The window shows the lock screen, which says a request waits; it opens once unlocked.
    openAfterUnlock = key;
    return;
  }
  if (shown?.key === key) {
    focusView();
    return;
  }
  if (!waiting.has(key)) {
    try {
      for (const pending of await pendingRequests()) waiting.set(keyOf(pending.server, pending.id), pending);
    } catch (err) {
      say(err.message, true);
      return;
    }
  }
  const found = waiting.get(key);
  if (!found) {
    say("This sign-in request is no longer waiting");
    return;
  }
  dismissed.delete(key);
  // An answer on its way or a code on screen is not interrupted: the opened request comes next.
  if (!shown || shown.phase === "asking" || shown.phase === "done") showRequest(found);
}

function setUpView() {
  allowButton.addEventListener("click", () => answer("allow"));
  $("approval-deny").addEventListener("click", () => answer("deny"));
  $("approval-report").addEventListener("click", () => answer("report"));
  $("approval-close").addEventListener("click", () => view.close());
  for (const choice of choiceButtons) {
    choice.addEventListener("click", () => {
      if (choice.dataset.number) answer("allow", choice.dataset.number);
    });
  }
  view.addEventListener("keydown", (event) => {
    // 1, 2 and 3 pick the choice at that place, as clicking it would; not with a modifier held.
    if (!picking() || shown.phase !== "asking" || !view.open) return;
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    const choice = choiceButtons[["1", "2", "3"].indexOf(event.key)];
    if (!choice || !choice.dataset.number) return;
    event.preventDefault();
    choice.focus();
    answer("allow", choice.dataset.number);
  });
  // Escape may close the view, but not while an answer is on its way (its code would be lost).
  view.addEventListener("cancel", (event) => {
    if (shown?.phase === "busy") event.preventDefault();
  });
  view.addEventListener("close", () => {
    // Closed by the lock, the request is not dismissed: it opens again after unlocking.
    if (shown?.phase === "asking" && !isLocked()) dismissed.add(shown.key);
    shown = null;
    $("approval-map").replaceChildren();
    showNext();
  });
}

// The Trusted device dialog.

function stateText(badge, now) {
  const retryAt = Number(badge.dataset.retryAt);
  const name = STATE_NAMES[badge.dataset.state] ?? badge.dataset.state;
  if (!["reconnecting", "no_key"].includes(badge.dataset.state) || !retryAt) return name;
  const left = Math.max(0, Math.ceil(retryAt - now));
  return left > 0 ? `${name} in ${left} s` : `${name}…`;
}

function serverItem(server, now) {
  const item = element("li", "paired-server");
  item.dataset.serverId = server.id;
  item.dataset.state = server.state;
  const badge = element("span", `server-state state-${server.state}`);
  badge.dataset.state = server.state;
  if (server.retry_in != null) badge.dataset.retryAt = String(now + server.retry_in);
  badge.textContent = stateText(badge, now);
  const head = element("div", "server-head");
  head.append(element("span", "server-service", server.service), badge);
  const fingerprint = element("div", "server-fact");
  fingerprint.append("Key ", element("span", "fingerprint", server.fingerprint));
  const code = element("div", "offline-code");
  // Only the code is announced when it changes, not the seconds ticking by.
  const value = element("span", "offline-code-value");
  value.setAttribute("aria-live", "polite");
  code.append(value, element("span", "offline-code-left"));
  const actions = element("div", "server-actions");
  actions.append(
    button("action offline-code-button", "Get a verification code", `Get a verification code for ${server.service}`),
    button("action danger unpair", "Remove", `Remove ${server.service}`),
  );
  item.append(
    head,
    element("div", "server-user", server.user),
    element("div", "server-url", server.server_url),
    fingerprint,
    element("div", "server-fact", `Paired ${formatTime(server.paired_at)}`),
    code,
    actions,
  );
  drawOfflineCode(item, now);
  return item;
}

function serverItems() {
  return [...$("paired-servers").children];
}

function drawOfflineCode(item, now) {
  const box = item.querySelector(".offline-code");
  const shownCode = offline.get(item.dataset.serverId);
  box.hidden = !shownCode;
  if (!shownCode) return;
  const left = Math.max(0, Math.ceil(shownCode.expiresAt - now));
  box.querySelector(".offline-code-value").textContent = groupCode(shownCode.code);
  box.querySelector(".offline-code-left").textContent = `valid for ${left} s`;
}

async function fetchOfflineCode(id) {
  const entry = offline.get(id);
  if (entry) entry.fetching = true;
  try {
    const code = await offlineCode(id);
    offline.set(id, { code: code.code, expiresAt: Date.now() / 1000 + code.seconds_left, fetching: false });
    showError($("devices-error"), null);
  } catch (err) {
    offline.delete(id);
    showError($("devices-error"), err);
  }
  const item = serverItems().find((node) => node.dataset.serverId === id);
  if (item) drawOfflineCode(item, Date.now() / 1000);
}

async function refreshServers() {
  let servers;
  try {
    servers = await pairedServers();
  } catch (err) {
    showError($("devices-error"), err);
    return;
  }
  const list = $("paired-servers");
  // The list is drawn anew; the focus goes back to the same button of the same server.
  const focused = document.activeElement?.closest?.(".paired-server button");
  const focusId = focused?.closest(".paired-server").dataset.serverId;
  const focusClass = focused?.classList.contains("unpair") ? "unpair" : "offline-code-button";
  const now = Date.now() / 1000;
  for (const id of offline.keys()) {
    if (!servers.some((server) => server.id === id)) offline.delete(id);
  }
  list.replaceChildren(...servers.map((server) => serverItem(server, now)));
  $("no-servers").hidden = servers.length > 0;
  const again = serverItems().find((node) => node.dataset.serverId === focusId);
  if (focused && again) again.querySelector(`.${focusClass}`).focus();
}

function historyItem({ request, outcome, decided_at: decidedAt }) {
  const item = element("li", "history-entry");
  item.dataset.outcome = outcome;
  const when = element("time", "history-time", formatTime(decidedAt));
  when.dateTime = new Date(decidedAt * 1000).toISOString();
  item.append(
    element("span", `outcome outcome-${outcome}`, OUTCOME_NAMES[outcome] ?? outcome),
    element("span", "history-who", `${request.service} · ${request.user}`),
    when,
    element("span", "history-where", `${request.location.text} · ${request.device} · ${request.ip}`),
  );
  return item;
}

async function refreshHistory() {
  try {
    const entries = await approvalHistory();
    entries.sort((a, b) => b.decided_at - a.decided_at);
    $("approval-history").replaceChildren(...entries.map(historyItem));
    $("no-history").hidden = entries.length > 0;
  } catch (err) {
    showError($("devices-error"), err);
  }
}

function openDevices() {
  showError($("devices-error"), null);
  if (!devices.open) devices.showModal();
  refreshServers();
  refreshHistory();
}

/** A name for this computer the person can change: its host name, as the desktop knows it. */
async function defaultDeviceName() {
  try {
    const name = (await hostName()).trim();
    if (name) return name;
  } catch {
    // The platform's name below.
  }
  const platform = navigator.platform || "";
  if (platform.startsWith("Mac")) return "Twofold on macOS";
  if (platform.startsWith("Win")) return "Twofold on Windows";
  if (platform.startsWith("Linux")) return "Twofold on Linux";
  return "Twofold";
}

function resetPairing() {
  pairingLink = null;
  $("pair-form").hidden = false;
  $("pair-step").hidden = true;
  $("pair-link").value = "";
  showError($("pair-error"), null);
}

async function previewPairing(link) {
  $("pair-status").textContent = "";
  if (!link) {
    showError($("pair-error"), { message: "Paste the pairing link the service shows first." });
    $("pair-link").focus();
    return;
  }
  try {
    const preview = await pairingPreview(link);
    pairingLink = link;
    $("pair-service").textContent = preview.service;
    $("pair-url").textContent = preview.server_url;
    $("pair-fingerprint").textContent = preview.fingerprint;
    if (!$("pair-device-name").value) $("pair-device-name").value = await defaultDeviceName();
    $("pair-form").hidden = true;
    $("pair-step").hidden = false;
    showError($("pair-error"), null);
    $("pair-cancel").focus();
  } catch (err) {
    showError($("pair-error"), err);
  }
}

async function confirmPairing() {
  const name = $("pair-device-name").value.trim();
  if (!name) {
    showError($("pair-error"), { message: "Give this computer a name: the server lists it under that name." });
    $("pair-device-name").focus();
    return;
  }
  const confirmButton = $("pair-confirm");
  confirmButton.disabled = true;
  try {
    const server = await pair(pairingLink, name);
    resetPairing();
    $("pair-status").textContent = `Paired with ${server.service}`;
    refreshServers();
  } catch (err) {
    showError($("pair-error"), err);
  } finally {
    confirmButton.disabled = false;
  }
}

async function removeServer(item) {
  const service = item.querySelector(".server-service").textContent;
  const sure = await confirmAction(
    `Remove ${service}?`,
    "Its sign-ins stop asking this computer, and this computer's key for it is deleted. Pairing again needs a new link.",
    "Remove",
  );
  if (!sure) return;
  const id = item.dataset.serverId;
  try {
    await unpair(id);
    offline.delete(id);
    showError($("devices-error"), null);
  } catch (err) {
    showError($("devices-error"), err);
  }
  refreshServers();
}

function tickDevices(now) {
  for (const item of serverItems()) {
    const badge = item.querySelector(".server-state");
    if (badge.dataset.retryAt) badge.textContent = stateText(badge, now);
    const entry = offline.get(item.dataset.serverId);
    // A code on screen is replaced by the next one when it runs out, as the account codes are.
    if (entry && entry.expiresAt <= now && !entry.fetching) fetchOfflineCode(item.dataset.serverId);
    drawOfflineCode(item, now);
  }
}

function setUpDevices() {
  $("open-devices").addEventListener("click", openDevices);
  $("devices-close").addEventListener("click", () => devices.close());
  devices.addEventListener("close", () => {
    resetPairing();
    $("pair-status").textContent = "";
    offline.clear();
  });
  $("pair-form").addEventListener("submit", (event) => {
    event.preventDefault();
    previewPairing($("pair-link").value.trim());
  });
  $("pair-cancel").addEventListener("click", () => {
    resetPairing();
    $("pair-link").focus();
  });
  $("pair-confirm").addEventListener("click", confirmPairing);
  $("paired-servers").addEventListener("click", (event) => {
    const item = event.target.closest(".paired-server");
    if (!item) return;
    if (event.target.closest(".offline-code-button")) fetchOfflineCode(item.dataset.serverId);
    else if (event.target.closest(".unpair")) removeServer(item);
  });
}

/** Opens the Trusted device dialog at the pairing step for `link` (a `twofold+pair://` link, e.g. from a QR code). */
export function startPairing(link) {
  openDevices();
  resetPairing();
  $("pair-link").value = link;
  return previewPairing(link.trim());
}

/** Moves the countdowns to `nowMs` (main.js's one-second timer calls this). */
export function tickApprovals(nowMs) {
  const now = nowMs / 1000;
  tickView(now);
  if (devices.open) tickDevices(now);
  if (isLocked()) drawLockedWaiting(now);
}

// Behind the lock: the lock screen says a request waits (service and time left, nothing else).

function drawLockedWaiting(now) {
  const left = lockedWaiting.filter((w) => w.expires_at > now);
  $("lock-waiting").hidden = left.length === 0;
  $("lock-waiting-title").textContent = LOCK_WAITING;
  const lines = left.map((w) => waitingLine(w.service, clock(Math.ceil(w.expires_at - now))));
  const list = $("lock-waiting-list");
  // Redrawn only when a line changes: a live region must not announce every redraw.
  if (lines.join("\n") !== [...list.children].map((li) => li.textContent).join("\n")) {
    list.replaceChildren(...lines.map((line) => element("li", "lock-waiting-item", line)));
  }
}

async function refreshLockedWaiting() {
  try {
    lockedWaiting = await waitingRequests();
  } catch {
    lockedWaiting = [];
  }
  if (isLocked()) drawLockedWaiting(Date.now() / 1000);
}

/** The window locked: the page lets go of every request (the lock screen lists what waits). */
export function lockApprovals() {
  waiting.clear();
  offline.clear();
  // Paired servers and history name users and places: none stays in the page behind the lock.
  $("paired-servers").replaceChildren();
  $("approval-history").replaceChildren();
  refreshLockedWaiting();
}

/** The window unlocked: the requests still waiting come back, the one opened from its notification first. */
export async function unlockApprovals() {
  lockedWaiting = [];
  $("lock-waiting").hidden = true;
  let requests = [];
  try {
    requests = await pendingRequests();
  } catch (err) {
    say(err.message, true);
    return;
  }
  const first = requests.find((r) => keyOf(r.server, r.id) === openAfterUnlock);
  openAfterUnlock = null;
  if (first) {
    dismissed.delete(keyOf(first.server, first.id));
    receive(first);
  }
  requests.forEach(receive);
}

/** Wires the request view, the Trusted device dialog and the events. `app.say(text, isError)` shows a short message. */
export function setUpApprovals(app) {
  say = app.say;
  setUpView();
  setUpDevices();
  onApprovalRequest(receive);
  onApprovalWithdrawn(withdraw);
  onApprovalOpen(openRequest);
  onApprovalWaiting(() => {
    if (isLocked()) refreshLockedWaiting();
  });
  onServersChanged(() => {
    if (devices.open) refreshServers();
  });
  // Requests that came before the window was there; later ones come as events. A failure here is
  // not worth a message at start-up: the notification's Open asks again and says what went wrong.
  pendingRequests()
    .then((requests) => requests.forEach(receive))
    .catch(() => {});
}
