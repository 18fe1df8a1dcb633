// The cc-relay dashboard. Every number comes from the admin API (/admin/*),
// called with the token the user signed in with (kept in sessionStorage:
// this tab only; sent as a bearer header, never a cookie). The DOM is built
// with textContent only: nothing the relay reports is parsed as HTML.
"use strict";

(() => {
  const TOKEN_KEY = "cc-relay-admin-token";
  const POLL_MS = 2000;
  const MAX_EVENTS = 500;
  const CHART_SECS = 120;

  const $ = sel => document.querySelector(sel);
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    stats: null,
    readOnly: true,
    events: [],       // newest first: { event, at }
    paused: false,
    unseen: 0,
    stream: null,     // AbortController of the event stream
    poll: null,
    features: { usage: false, keys: false },
    usage: null,
    clientKeys: null,
  };

  // ---- small helpers -------------------------------------------------------

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  const num = n => (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-US");
  function ms(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    if (v < 10) return v.toFixed(2) + " ms";
    if (v < 1000) return v.toFixed(0) + " ms";
    return (v / 1000).toFixed(1) + " s";
  }
  function secs(s) {
    s = Math.max(0, Math.round(s || 0));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
    return Math.floor(s / 86400) + "d " + String(Math.floor(s % 86400 / 3600)).padStart(2, "0") + "h";
  }
  function fill(tbody, rows) { tbody.replaceChildren(...rows); }
  function notice(text, bad) {
    const n = $("#notice");
    n.textContent = text;
    n.className = bad ? "bad" : "";
    n.hidden = !text;
  }

  // ---- the admin API -------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = { accept: "application/json" };
    if (state.token) headers.authorization = "Bearer " + state.token;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
    if (!response.ok) {
      const message = (json && json.error && json.error.message) || text || response.statusText;
      throw new ApiError(response.status, message);
    }
    return json;
  }

  const CLOSED = "The admin API is closed on this relay: set server.admin.token in its configuration to use this dashboard.";

  // ---- sign-in -------------------------------------------------------------

  async function start() {
    $("#signin-form").addEventListener("submit", signIn);
    $("#sign-out").addEventListener("click", () => signOut(""));
    $("#filter").addEventListener("input", renderEvents);
    $("#pause").addEventListener("click", togglePause);
    $("#reload").addEventListener("click", reloadConfig);
    $("#reload-config").addEventListener("click", reloadConfig);
    $("#usage-group").addEventListener("change", loadUsage);
    $("#usage-csv").addEventListener("click", exportCsv);
    $("#key-form").addEventListener("submit", createKey);
    window.addEventListener("hashchange", route);
    // What the relay offers, without a token and without an error in the
    // console: whether the admin API is open, and the optional pages.
    let offered = { admin: false, features: [] };
    try {
      const response = await fetch("/ui/api-state", { cache: "no-store" });
      offered = await response.json();
    } catch (_) {
      showSignIn("Cannot reach the relay.");
      return;
    }
    if (!offered.admin) { showClosed(); return; }
    for (const feature of offered.features || []) state.features[feature] = true;
    if (state.token) {
      try { await enter(); return; } catch (e) { signOut(e.status === 404 ? CLOSED : e.message); return; }
    }
    showSignIn("");
  }

  function showClosed() {
    hideAll();
    const page = $("#signin");
    page.hidden = false;
    $("#signin-form").hidden = true;
    const err = $("#signin-error");
    err.textContent = CLOSED;
    err.hidden = false;
  }

  function showSignIn(message) {
    hideAll();
    $("#signin").hidden = false;
    $("#signin-form").hidden = false;
    const err = $("#signin-error");
    err.textContent = message;
    err.hidden = !message;
    $("#token").focus();
  }

  async function signIn(ev) {
    ev.preventDefault();
    state.token = $("#token").value.trim();
    $("#token").value = "";
    try {
      await enter();
      sessionStorage.setItem(TOKEN_KEY, state.token);
    } catch (e) {
      state.token = null;
      showSignIn(e.status === 404 ? CLOSED : (e.status === 401 ? "The relay refused this token." : e.message));
    }
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    if (state.stream) state.stream.abort();
    clearInterval(state.poll);
    $("#nav").hidden = true;
    $("#session").hidden = true;
    showSignIn(message);
  }

  async function enter() {
    applyStats(await api("GET", "/admin/stats"));
    $("#nav").hidden = false;
    $("#session").hidden = false;
    clearInterval(state.poll);
    state.poll = setInterval(refresh, POLL_MS);
    setInterval(renderCharts, 1000);
    follow();
    document.querySelectorAll("nav a[data-needs]").forEach(a => { a.hidden = !state.features[a.dataset.needs]; });
    route();
  }

  async function refresh() {
    try {
      applyStats(await api("GET", "/admin/stats"));
    } catch (e) {
      if (e.status === 401 || e.status === 403) signOut("The relay no longer accepts this token.");
      else notice("Cannot reach the relay: " + e.message, true);
    }
  }

  // ---- pages ---------------------------------------------------------------

  const PAGES = ["overview", "live", "usage", "keys", "config", "actions"];

  function hideAll() { document.querySelectorAll("main.page").forEach(p => { p.hidden = true; }); }

  function route() {
    if (!state.token) return;
    let page = (location.hash.replace(/^#\//, "") || "overview");
    if (!PAGES.includes(page) || (page in state.features && !state.features[page])) page = "overview";
    hideAll();
    $("#page-" + page).hidden = false;
    document.querySelectorAll("nav a").forEach(a => {
      if (a.dataset.page === page) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    if (page === "config") loadConfig();
    if (page === "usage") loadUsage();
    if (page === "keys") loadKeys();
    if (page === "overview") renderCharts();
  }

  function applyStats(stats) {
    state.stats = stats;
    state.readOnly = stats.read_only !== false;
    $("#mode").textContent = state.readOnly ? "read-only" : "read-write";
    document.querySelectorAll("button.write").forEach(b => setWritable(b));
    renderOverview();
    renderActions();
    if (!$("#notice").classList.contains("bad")) return;
    notice("");
  }

  function setWritable(button) {
    button.disabled = state.readOnly;
    button.title = state.readOnly ? "This token is read-only" : "";
  }

  function renderOverview() {
    const s = state.stats;
    $("#headline").textContent =
      `cc-relay ${s.version} · up ${secs(s.uptime_secs)} · configuration generation ${s.config_generation} · strategy ${s.strategy}`;
    const samples = s.latency_samples;
    const p = (x, k) => samples === 0 ? null : x && x[k];
    const tiles = [
      ["Requests", num(s.requests_total)], ["Errors", num(s.errors_total)],
      ["Per second", (s.requests_per_sec || 0).toFixed(2)], ["In flight", num(s.in_flight)],
      ["Latency p50", ms(p(s.latency_ms, "p50"))], ["Latency p99", ms(p(s.latency_ms, "p99"))],
      ["TTFB p50", ms(p(s.ttfb_ms, "p50"))], ["Tokens in / out", num(s.tokens.input) + " / " + num(s.tokens.output)],
    ];
    $("#tiles").replaceChildren(...tiles.map(([label, value]) => h("div", { class: "tile" }, h("b", { text: value }), h("span", { text: label }))));
    fill($("#providers tbody"), s.providers.map(providerRow));
    const keys = [];
    for (const provider of s.providers) for (const key of provider.keys) keys.push(keyRow(provider, key));
    fill($("#keys tbody"), keys.length ? keys : [h("tr", {}, h("td", { colspan: 8, class: "muted", text: "no keys in service" }))]);
  }

  function stateOf(p) {
    if (p.disabled_by_operator) return "disabled";
    if (!p.enabled) return "off";
    if (!p.active) return "inactive";
    return "active";
  }

  function circuitOf(p) {
    const c = (p.circuit || "?").replace("_", "-");
    return c === "open" && p.circuit_open_until_secs ? `open ${secs(p.circuit_open_until_secs)}` : c;
  }

  function switchButton(p) {
    const disable = !p.disabled_by_operator;
    const button = h("button", {
      type: "button", class: "write" + (disable ? " danger" : ""),
      "data-action": disable ? "disable" : "enable", "data-provider": p.name,
      onclick: () => switchProvider(p.name, disable),
    }, disable ? "Disable" : "Enable");
    setWritable(button);
    return button;
  }

  function providerRow(p) {
    const st = stateOf(p);
    return h("tr", { "data-provider": p.name },
      h("td", { text: p.name }), h("td", { text: p.type }),
      h("td", { class: "state-" + st, "data-state": st, text: st }),
      h("td", { class: "circuit-" + (p.circuit || "").replace("_", "-"), text: circuitOf(p) }),
      h("td", { class: "n", text: num(p.in_flight) }), h("td", { class: "n", text: num(p.requests) }),
      h("td", { class: "n", text: num(p.errors) }),
      h("td", { class: "n", text: ms(p.request_latency_ms && p.request_latency_ms.p50) }),
      h("td", { class: "n", text: ms(p.request_latency_ms && p.request_latency_ms.p99) }),
      h("td", { class: "n", text: ms(p.request_ttfb_ms && p.request_ttfb_ms.p50) }),
      h("td", { class: "n", text: ms(p.request_ttfb_ms && p.request_ttfb_ms.p99) }),
      h("td", {}, switchButton(p)));
  }

  function left(limit) {
    if (!limit || limit.limit === null || limit.limit === undefined) return "unlimited";
    const reset = limit.resets_in_secs ? ` (full in ${secs(limit.resets_in_secs)})` : "";
    return `${num(limit.remaining)} / ${num(limit.limit)}${reset}`;
  }

  function keyRow(provider, key) {
    let status = "available";
    if (key.disabled_reason) status = "disabled: " + key.disabled_reason;
    else if (key.cooling_down_for_secs > 0) status = "cooling down " + secs(key.cooling_down_for_secs);
    else if (key.requests && key.requests.remaining === 0) status = "out of requests";
    const learned = [["rpm", key.requests], ["itpm", key.input_tokens], ["otpm", key.output_tokens]]
      .filter(([, l]) => l && l.learned !== null && l.learned !== undefined)
      .map(([n, l]) => `${n} ${num(l.learned)}`).join(" · ") || "–";
    return h("tr", { "data-key": key.id },
      h("td", { text: provider.name }), h("td", {}, h("code", { text: key.id })),
      h("td", { text: status }), h("td", { class: "n", text: num(key.in_flight) }),
      h("td", { text: left(key.requests) }), h("td", { text: left(key.input_tokens) }),
      h("td", { text: left(key.output_tokens) }), h("td", { text: learned }));
  }

  function renderActions() {
    fill($("#actions tbody"), state.stats.providers.map(p => {
      const st = stateOf(p);
      return h("tr", { "data-provider": p.name },
        h("td", { text: p.name }), h("td", { class: "state-" + st, "data-state": st, text: st }),
        h("td", {}, switchButton(p)));
    }));
  }

  // ---- writes, each confirmed ----------------------------------------------

  function confirmAction(text) {
    const dialog = $("#confirm");
    $("#confirm-text").textContent = text;
    return new Promise(resolve => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
      $("#confirm-ok").focus();
    });
  }

  async function switchProvider(name, disable) {
    if (state.readOnly) return;
    const verb = disable ? "Disable" : "Enable";
    if (!await confirmAction(`${verb} provider “${name}”? ${disable ? "No new request will be routed to it until it is enabled again." : ""}`)) return;
    try {
      const result = await api("POST", `/admin/providers/${encodeURIComponent(name)}/${disable ? "disable" : "enable"}`);
      notice(`Provider ${result.provider} ${result.disabled_by_operator ? "disabled" : "enabled"}${result.changed ? "" : " (no change)"}.`);
      await refresh();
    } catch (e) {
      notice(`${verb} ${name} failed: ${e.message}`, true);
    }
  }

  async function reloadConfig() {
    if (state.readOnly) return;
    if (!await confirmAction("Reload the configuration file now?")) return;
    try {
      const r = await api("POST", "/admin/reload");
      const extra = r.restart_required.length ? ` Needs a restart: ${r.restart_required.join(", ")}.` : "";
      notice(`Configuration reloaded: generation ${r.generation}, providers ${r.providers.join(", ") || "none"}.${extra}`);
    } catch (e) {
      notice("Reload failed: " + e.message, true);
    }
    await refresh();
    if (!$("#page-config").hidden) loadConfig();
  }

  // ---- configuration -------------------------------------------------------

  async function loadConfig() {
    try {
      const c = await api("GET", "/admin/config");
      $("#config-meta").textContent = `Generation ${c.generation}` + (c.path ? ` · loaded from ${c.path}` : " · no configuration file") + " · every secret is shown as [redacted]";
      const last = c.last_reload;
      const section = $("#last-reload");
      if (!last) {
        section.replaceChildren(h("p", { class: "muted", text: "No reload since the relay started." }));
      } else {
        const problems = last.problems.length ? h("ul", {}, ...last.problems.map(p => h("li", { class: "error", text: p }))) : null;
        section.replaceChildren(
          h("p", { class: last.ok ? "" : "error", text: `Last reload: ${last.ok ? "applied" : "rejected"} at ${last.time} (${last.trigger}), serving generation ${last.generation}.` }),
          problems);
      }
      $("#config-text").textContent = c.effective;
    } catch (e) {
      notice("Cannot read the configuration: " + e.message, true);
    }
  }

  // ---- the live event stream -----------------------------------------------

  async function follow() {
    if (state.stream) state.stream.abort();
    const controller = new AbortController();
    state.stream = controller;
    let delay = 1000;
    while (state.token && !controller.signal.aborted) {
      try {
        const response = await fetch("/admin/events", {
          headers: { authorization: "Bearer " + state.token, accept: "text/event-stream" },
          cache: "no-store", signal: controller.signal,
        });
        if (!response.ok) throw new ApiError(response.status, response.statusText);
        $("#live-state").textContent = "connected";
        delay = 1000;
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            onSse(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
          }
        }
      } catch (e) {
        if (controller.signal.aborted) return;
        if (e.status === 401 || e.status === 403) { signOut("The relay no longer accepts this token."); return; }
      }
      $("#live-state").textContent = `disconnected; retrying in ${delay / 1000}s`;
      await new Promise(r => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }

  function onSse(block) {
    let name = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trim();
    }
    if (name !== "request" || !data) return;
    let event;
    try { event = JSON.parse(data); } catch (_) { return; }
    state.events.unshift({ event, at: Date.now() });
    if (state.events.length > MAX_EVENTS) state.events.length = MAX_EVENTS;
    if (state.paused) { state.unseen++; $("#live-state").textContent = `paused · ${state.unseen} new`; }
    else renderEvents();
    scheduleCharts();
  }

  function togglePause() {
    state.paused = !state.paused;
    const b = $("#pause");
    b.textContent = state.paused ? "Resume" : "Pause";
    b.setAttribute("aria-pressed", String(state.paused));
    if (!state.paused) { state.unseen = 0; $("#live-state").textContent = "connected"; renderEvents(); }
  }

  function eventRow({ event: e }) {
    const clock = typeof e.time === "string" ? (e.time.split("T")[1] || e.time).slice(0, 12) : String(e.time);
    const notes = [];
    if (e.stream) notes.push("stream");
    if (e.failovers && e.failovers.length) notes.push(`failover: ${e.failovers.join(", ")}`);
    if (e.relay_error) notes.push(e.relay_error);
    if (e.outcome && e.outcome !== "complete") notes.push(e.outcome);
    return h("tr", { "data-id": e.id },
      h("td", { text: clock }), h("td", { text: e.provider || "(relay)" }),
      h("td", {}, e.key_id ? h("code", { text: e.key_id }) : "–"), h("td", { text: e.model || "–" }),
      h("td", { class: "n" + (e.status >= 400 ? " status-bad" : ""), text: String(e.status) }),
      h("td", { class: "n", text: ms(e.latency_ms) }), h("td", { class: "n", text: ms(e.ttfb_ms) }),
      h("td", { class: "n", text: num(e.input_tokens) }), h("td", { class: "n", text: num(e.output_tokens) }),
      h("td", { text: notes.join(" · ") }));
  }

  function renderEvents() {
    if (state.paused) return;
    const filter = $("#filter").value.trim().toLowerCase();
    const rows = state.events.filter(({ event: e }) => !filter ||
      [e.provider, e.model, String(e.status), e.key_id, e.path, e.outcome, e.id]
        .some(v => v && String(v).toLowerCase().includes(filter)));
    fill($("#events tbody"), rows.length ? rows.slice(0, 200).map(eventRow)
      : [h("tr", {}, h("td", { colspan: 10, class: "muted", text: state.events.length ? "no request matches the filter" : "waiting for requests…" }))]);
  }

  // ---- charts --------------------------------------------------------------

  let chartsQueued = false;
  function scheduleCharts() {
    if (chartsQueued) return;
    chartsQueued = true;
    requestAnimationFrame(() => { chartsQueued = false; renderCharts(); });
  }

  function renderCharts() {
    if (!state.token || $("#page-overview").hidden) return;
    const now = Date.now();
    const t0 = now - CHART_SECS * 1000;
    const recent = state.events.filter(x => x.at >= t0);
    const perSecond = new Map();
    for (const x of recent) {
      const s = Math.floor(x.at / 1000);
      perSecond.set(s, (perSecond.get(s) || 0) + 1);
    }
    const rate = [];
    if (recent.length) {
      for (let s = Math.floor(t0 / 1000); s <= Math.floor(now / 1000); s++) rate.push([s * 1000, perSecond.get(s) || 0]);
    }
    Charts.line($("#chart-rate"), [{ points: rate, area: true }], t0, now, { from: `-${CHART_SECS}s`, empty: "no requests in the last two minutes" });
    const latency = recent.map(x => [x.at, x.event.latency_ms || 0]).reverse();
    Charts.line($("#chart-latency"), [{ points: latency, dots: true, bad: p => false }], t0, now, { from: `-${CHART_SECS}s`, empty: "no requests in the last two minutes" });
    const bad = new Set(recent.filter(x => x.event.status >= 400).map(x => x.at));
    $("#chart-latency").querySelectorAll("circle").forEach((c, i) => {
      if (bad.has(latency[i] && latency[i][0])) c.classList.add("bad");
    });
  }

  // ---- usage and client keys (when the relay has a usage ledger) -----------

  async function loadUsage() {
    if (!state.features.usage) return;
    const group = $("#usage-group").value;
    try {
      state.usage = await api("GET", "/admin/usage?group_by=" + encodeURIComponent(group));
      renderUsage();
    } catch (e) {
      notice("Cannot read usage: " + e.message, true);
    }
  }

  function usageRows() {
    const u = state.usage;
    return (u && (u.rows || u.groups || u.items)) || [];
  }

  function renderUsage() {
    const rows = usageRows();
    const columns = rows.length ? Object.keys(rows[0]) : ["key", "requests"];
    $("#usage thead").replaceChildren(h("tr", {}, ...columns.map(c => h("th", { text: c.replace(/_/g, " ") }))));
    fill($("#usage tbody"), rows.map(r => h("tr", {}, ...columns.map(c => h("td", { text: typeof r[c] === "number" ? num(r[c]) : String(r[c] ?? "–") })))));
    const label = columns[0];
    const metric = ["cost_usd", "spend_usd", "cost", "requests"].find(c => columns.includes(c)) || columns[1];
    Charts.bars($("#chart-usage"), rows.map(r => ({ label: r[label], value: Number(r[metric]) || 0 })));
  }

  function exportCsv() {
    const rows = usageRows();
    if (!rows.length) return;
    const columns = Object.keys(rows[0]);
    const quote = v => `"${String(v ?? "").replace(/"/g, '""')}"`;
    const text = [columns.map(quote).join(","), ...rows.map(r => columns.map(c => quote(r[c])).join(","))].join("\r\n");
    const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `cc-relay-usage-${$("#usage-group").value}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
  }

  async function loadKeys() {
    if (!state.features.keys) return;
    try {
      const k = await api("GET", "/admin/keys");
      state.clientKeys = (k && (k.keys || k)) || [];
      renderKeys();
    } catch (e) {
      notice("Cannot read client keys: " + e.message, true);
    }
  }

  function renderKeys() {
    const keys = Array.isArray(state.clientKeys) ? state.clientKeys : [];
    const columns = keys.length ? Object.keys(keys[0]).filter(c => c !== "secret") : ["id", "name"];
    $("#client-keys thead").replaceChildren(h("tr", {}, ...columns.map(c => h("th", { text: c.replace(/_/g, " ") })), h("th", { text: "Action" })));
    fill($("#client-keys tbody"), keys.map(k => {
      const revoke = h("button", { type: "button", class: "write danger", onclick: () => revokeKey(k.id, k.name) }, "Revoke");
      setWritable(revoke);
      return h("tr", { "data-client-key": k.id }, ...columns.map(c => h("td", { text: typeof k[c] === "object" && k[c] !== null ? JSON.stringify(k[c]) : String(k[c] ?? "–") })), h("td", {}, revoke));
    }));
  }

  async function createKey(ev) {
    ev.preventDefault();
    if (state.readOnly) return;
    const name = $("#key-name").value.trim();
    const budget = $("#key-budget").value.trim();
    if (!await confirmAction(`Create the client key “${name}”?`)) return;
    try {
      const body = { name };
      if (budget) body.budget_usd = Number(budget);
      const created = await api("POST", "/admin/keys", body);
      const secret = $("#key-secret");
      secret.textContent = `Key created. Its secret is shown this once: ${created.secret || created.key || ""}`;
      secret.hidden = false;
      $("#key-name").value = "";
      $("#key-budget").value = "";
      loadKeys();
    } catch (e) {
      notice("Creating the key failed: " + e.message, true);
    }
  }

  async function revokeKey(id, name) {
    if (!await confirmAction(`Revoke the client key “${name || id}”? Clients using it are refused at once.`)) return;
    try {
      await api("DELETE", "/admin/keys/" + encodeURIComponent(id));
      notice(`Client key ${name || id} revoked.`);
      loadKeys();
    } catch (e) {
      notice("Revoking the key failed: " + e.message, true);
    }
  }

  start();
})();
