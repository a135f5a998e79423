// The Tern dashboard: logs in, polls the JSON API under /dashboard/api/ every two seconds, draws
// the throughput graph and the tables, and sends the queue actions with the session's CSRF token.
// No libraries; text goes into the page only through textContent, never as HTML.
"use strict";

const POLL_MS = 2000;
const HISTORY = 150;  // graph points: five minutes at one poll every two seconds

let csrf = "";
let timer = null;
let last = null;       // the previous overview's totals and time, for rates
const history = [];    // {t, received, delivered} per poll: messages per second

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  if (method !== "GET" && csrf) options.headers["X-CSRF-Token"] = csrf;
  const response = await fetch("api/" + path, options);
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  return { status: response.status, data };
}

function showLogin(message) {
  clearInterval(timer);
  timer = null;
  csrf = "";
  $("app").hidden = true;
  $("logout").hidden = true;
  $("whoami").textContent = "";
  $("login-form").hidden = false;
  $("login-error").textContent = message || "";
}

function showApp(user) {
  $("login-form").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  $("whoami").textContent = user;
  refresh();
  if (!timer) timer = setInterval(refresh, POLL_MS);
}

function when(unix) {
  if (!unix) return "–";
  return new Date(unix * 1000).toLocaleString();
}

function age(unix, now) {
  if (!unix) return "–";
  let s = Math.max(0, Math.round(now - unix));
  if (s < 120) return s + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  if (s < 172800) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " d";
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fill(tableId, items, makeRow, emptyText) {
  const body = document.querySelector("#" + tableId + " tbody");
  const rows = items.map(makeRow);
  if (rows.length === 0 && emptyText) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = cell(tr, emptyText, "muted");
    td.colSpan = document.querySelectorAll("#" + tableId + " thead th").length;
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

function messageState(m, now) {
  if (m.held) return "held";
  const waiting = m.waiting || [];
  if (waiting.some((r) => r.in_progress)) return "active";
  if (waiting.some((r) => r.status === "deferred" && r.next_attempt > now)) return "deferred";
  return "pending";
}

function actionButton(id, action, label) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = action;
  b.addEventListener("click", () => act(action, id));
  return b;
}

async function act(action, id) {
  if ((action === "delete" || action === "bounce") &&
      !window.confirm(action === "delete"
          ? "Delete message " + id + "? Nobody is told."
          : "Bounce message " + id + "? The sender gets a failure notice.")) return;
  const { status, data } = await api("POST", "queue", { action, id });
  if (status === 401) return showLogin("Your login has ended; log in again.");
  const result = $("action-result");
  if (status === 200) {
    result.className = "ok";
    result.textContent = action + " " + id + ": done";
  } else {
    result.className = "error";
    result.textContent = action + " " + id + ": " + (data.error || "failed (" + status + ")");
  }
  refresh();
}

function drawGraph() {
  const canvas = $("throughput");
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 28;
  ctx.clearRect(0, 0, w, h);
  const peak = Math.max(1, ...history.map((p) => Math.max(p.received, p.delivered)));
  ctx.strokeStyle = "#d8dce3";
  ctx.fillStyle = "#5b6475";
  ctx.font = "11px sans-serif";
  for (let i = 0; i <= 4; i++) {
    const y = pad / 2 + (h - pad) * i / 4;
    ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(w, y); ctx.stroke();
    ctx.fillText((peak * (4 - i) / 4).toFixed(peak < 4 ? 1 : 0), 2, y + 4);
  }
  const line = (key, colour) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    history.forEach((p, i) => {
      const x = pad + (w - pad) * (i + HISTORY - history.length) / (HISTORY - 1);
      const y = pad / 2 + (h - pad) * (1 - p[key] / peak);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.lineWidth = 1;
  };
  line("received", "#1f6fd1");
  line("delivered", "#1b7f3b");
}

function showOverview(o) {
  const t = o.totals;
  $("total-received").textContent = t.received;
  $("total-delivered").textContent = t.delivered;
  $("total-deferred").textContent = t.deferred;
  $("total-bounced").textContent = t.bounced;
  $("queue-messages").textContent = o.queue.messages + " (" + o.queue.held + " held)";
  $("queue-oldest").textContent = age(o.queue.oldest_arrival, o.time);
  if (last && o.time > last.time) {
    const dt = o.time - last.time;
    history.push({
      received: Math.max(0, t.received - last.totals.received) / dt,
      delivered: Math.max(0, t.delivered - last.totals.delivered) / dt,
    });
    while (history.length > HISTORY) history.shift();
  }
  if (!last || o.time > last.time) last = { time: o.time, totals: t };
  drawGraph();
  fill("sites", o.sites, (s) => {
    const tr = document.createElement("tr");
    tr.dataset.site = s.site;
    cell(tr, s.site);
    cell(tr, s.pending, "num");
    cell(tr, s.active, "num");
    cell(tr, s.deferred, "num");
    cell(tr, s.held, "num");
    cell(tr, age(s.oldest_arrival, o.time), "num");
    return tr;
  }, "The queue is empty.");
}

function showQueue(messages, now) {
  fill("queue", messages, (m) => {
    const tr = document.createElement("tr");
    tr.dataset.id = m.id;
    const state = messageState(m, now);
    cell(tr, m.id);
    cell(tr, m.sender === "" ? "<>" : m.sender);
    cell(tr, when(m.arrival));
    cell(tr, state, "state " + state);
    const reasons = (m.waiting || []).map((r) =>
        r.address + ": " + (r.last_reply || (r.in_progress ? "being delivered" : "not tried yet")));
    cell(tr, reasons.join("\n"), "reason");
    cell(tr, when(m.next_attempt));
    const actions = cell(tr, "");
    actions.append(
        m.held ? actionButton(m.id, "release", "Release") : actionButton(m.id, "hold", "Hold"),
        actionButton(m.id, "retry", "Retry now"),
        actionButton(m.id, "bounce", "Bounce"),
        actionButton(m.id, "delete", "Delete"));
    return tr;
  }, "No messages are waiting.");
}

function showFailures(failures) {
  fill("failures", failures, (f) => {
    const tr = document.createElement("tr");
    cell(tr, when(f.time));
    cell(tr, f.id);
    cell(tr, f.recipient);
    cell(tr, f.status, "state " + f.status);
    cell(tr, f.host || "–");
    cell(tr, f.reply, "reason");
    return tr;
  }, "No failed deliveries since the daemon started.");
}

function showDomains(d, now) {
  fill("domains-tls", d.tls || [], (c) => {
    const tr = document.createElement("tr");
    cell(tr, (c.names || []).join(", "));
    cell(tr, when(c.not_after));
    const days = Math.floor((c.not_after - now) / 86400);
    cell(tr, c.error ? c.error : days, days < 14 || c.error ? "num error" : "num");
    cell(tr, c.self_signed ? "self-signed" : c.issuer);
    return tr;
  }, "No certificates.");
  fill("domains-dkim", d.dkim || [], (k) => {
    const tr = document.createElement("tr");
    cell(tr, k.domain);
    cell(tr, k.selector);
    cell(tr, k.algorithm);
    cell(tr, k.ok ? "matches the key" : (k.error || "not checked"), k.ok ? "ok" : "error");
    return tr;
  }, "No signing keys.");
}

let domainsAsked = 0;  // when the domains were last asked for (answered or not)
let refreshing = false;  // a refresh is under way: the next tick does not start another

async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const overview = await api("GET", "overview");
    if (overview.status === 401) return showLogin("Your login has ended; log in again.");
    if (overview.status !== 200) throw new Error("overview: " + overview.status);
    showOverview(overview.data);
    const queue = await api("GET", "queue");
    if (queue.status === 200) showQueue(queue.data.messages, overview.data.time);
    const failures = await api("GET", "failures");
    if (failures.status === 200) showFailures(failures.data.failures);
    // Certificates and DNS records change rarely: every minute is enough.
    if (Date.now() - domainsAsked > 60000) {
      domainsAsked = Date.now();
      const domains = await api("GET", "domains");
      if (domains.status === 200) showDomains(domains.data, overview.data.time);
    }
    $("connection").textContent = "";
  } catch (e) {
    $("connection").textContent = "The daemon does not answer (" + e.message + "); retrying.";
  } finally {
    refreshing = false;
  }
}

async function start() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    const { status, data } = await api("POST", "login", {
      user: $("login-user").value,
      password: $("login-password").value,
    });
    $("login-password").value = "";
    if (status === 200) {
      csrf = data.csrf;
      showApp(data.user);
    } else {
      $("login-error").textContent = data.error || "Login failed (" + status + ")";
    }
  });
  $("logout").addEventListener("click", async () => {
    await api("POST", "logout", {});
    showLogin("Logged out.");
  });
  const { status, data } = await api("GET", "session");
  if (status === 200) {
    csrf = data.csrf;
    showApp(data.user);
  } else {
    showLogin("");
  }
}

document.addEventListener("DOMContentLoaded", start);
