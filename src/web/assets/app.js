// The dashboard's one script (served as /assets/app.js): the live table fed by /events, actions
// without leaving the page, filter, sort, ticking uptimes, and the live log view. The pages work
// without it: every action is a POST form and the server renders the table and the logs.
"use strict";
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function setLive(on, text) {
    const el = $("#live");
    if (!el) return;
    el.hidden = false;
    el.classList.toggle("on", on);
    el.textContent = text;
  }

  function showMessage(text, error) {
    const msg = $("#msg");
    if (!msg) return;
    msg.className = "status_msg" + (error ? " error" : "");
    msg.textContent = text;
  }

  // ---- dashboard ----------------------------------------------------------------------------
  const groups = $("#groups");
  let offset = 0; // server clock minus ours, in seconds
  let sortKey = null;
  let sortDir = 1;

  function uptime(s) {
    s = Math.max(0, Math.floor(s));
    const days = Math.floor(s / 86400);
    const rest = s % 86400;
    const pad = (n) => String(n).padStart(2, "0");
    const clock = Math.floor(rest / 3600) + ":" + pad(Math.floor(rest % 3600 / 60)) + ":" + pad(rest % 60);
    return days === 0 ? clock : days === 1 ? "1 day, " + clock : days + " days, " + clock;
  }

  function learnClock(row) {
    const now = Number(row.dataset.now);
    if (now) offset = now - Date.now() / 1000;
  }

  function tick() {
    const now = Date.now() / 1000 + offset;
    for (const row of $$('tr[data-state="RUNNING"]', groups)) {
      const start = Number(row.dataset.start);
      const desc = $("td.desc", row);
      if (start && desc) desc.textContent = "pid " + row.dataset.pid + ", uptime " + uptime(now - start);
    }
  }

  function filterRows() {
    const q = ($("#q") || { value: "" }).value.trim().toLowerCase();
    for (const row of $$("tbody tr", groups)) {
      const text = (row.dataset.ns + " " + row.dataset.state).toLowerCase();
      row.hidden = q !== "" && !text.includes(q);
    }
  }

  const rank = { FATAL: 0, BACKOFF: 1, EXITED: 2, UNKNOWN: 3, STOPPING: 4, STARTING: 5, STOPPED: 6, RUNNING: 7 };
  function sortRows() {
    for (const th of $$("th", groups)) {
      const a = $("a[data-sort]", th);
      if (!a) continue;
      if (a.dataset.sort === sortKey) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
    if (!sortKey) return;
    const key = (row) => sortKey === "state" ? rank[row.dataset.state] : row.dataset.ns;
    for (const body of $$("tbody", groups)) {
      const rows = $$("tr", body);
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        const c = x < y ? -1 : x > y ? 1 : a.dataset.ns < b.dataset.ns ? -1 : 1;
        return c * sortDir;
      });
      for (const row of rows) body.appendChild(row);
    }
  }

  function summarize() {
    for (const group of $$("details.group", groups)) {
      const rows = $$("tbody tr", group);
      const running = rows.filter((r) => r.dataset.state === "RUNNING").length;
      const sum = $(".gsum", group);
      if (sum) sum.textContent = running + " of " + rows.length + " running";
    }
  }

  function refreshView() {
    filterRows();
    sortRows();
    summarize();
    tick();
  }

  function parseRow(html) {
    const t = document.createElement("template");
    t.innerHTML = "<table><tbody>" + html + "</tbody></table>";
    return t.content.querySelector("tr");
  }

  function onTable(html) {
    const closed = new Set($$("details.group:not([open])", groups).map((d) => d.id));
    groups.innerHTML = html;
    for (const id of closed) {
      const d = document.getElementById(id);
      if (d) d.open = false;
    }
    const first = $("tbody tr", groups);
    if (first) learnClock(first);
    refreshView();
  }

  function onRow(html) {
    const row = parseRow(html);
    if (!row) return;
    const old = document.getElementById(row.id);
    if (!old) return;
    // Keep the chosen signal and focus across the swap.
    const sel = $("select", old);
    const focused = old.contains(document.activeElement) ? document.activeElement : null;
    if (sel) $("select", row).value = sel.value;
    old.replaceWith(row);
    learnClock(row);
    row.classList.add("flash");
    row.addEventListener("animationend", () => row.classList.remove("flash"), { once: true });
    if (focused && focused.name === "action") {
      const again = $('button[value="' + focused.value + '"]', row);
      if (again && !again.disabled) again.focus();
    }
    refreshView();
  }

  function connect() {
    if (!window.EventSource) return;
    const es = new EventSource("events");
    es.addEventListener("table", (e) => onTable(e.data));
    es.addEventListener("row", (e) => onRow(e.data));
    es.onopen = () => setLive(true, "live");
    es.onerror = () => setLive(false, es.readyState === EventSource.CLOSED ? "offline" : "reconnecting");
  }

  async function act(form, submitter) {
    const data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    const question = submitter && submitter.dataset.confirm;
    if (question) {
      if (!window.confirm(question)) return;
      data.set("confirm", "yes");
    }
    data.set("js", "1");
    if (submitter) submitter.disabled = true;
    showMessage("Working\u2026", false);
    try {
      const res = await fetch(form.getAttribute("action") || "index.html", {
        method: "POST",
        body: new URLSearchParams(data),
        credentials: "same-origin",
      });
      const text = await res.text();
      if (!res.ok) showMessage("ERROR: HTTP " + res.status, true);
      else showMessage(text, /^(ERROR|unexpected rpc fault|No such)/.test(text));
    } catch (err) {
      showMessage("ERROR: " + err, true);
    } finally {
      // A row swapped in by the feed has its own buttons; this one may be gone.
      if (submitter && submitter.isConnected) submitter.disabled = false;
    }
  }

  if (groups) {
    document.addEventListener("submit", (e) => {
      const form = e.target;
      if (form.classList.contains("filter")) {
        e.preventDefault();
        filterRows();
        return;
      }
      if ((form.getAttribute("method") || "").toLowerCase() !== "post") return;
      e.preventDefault();
      act(form, e.submitter);
    });
    const q = $("#q");
    if (q) q.addEventListener("input", filterRows);
    groups.addEventListener("click", (e) => {
      const a = e.target.closest("a[data-sort]");
      if (!a) return;
      e.preventDefault();
      if (sortKey === a.dataset.sort) sortDir = -sortDir;
      else { sortKey = a.dataset.sort; sortDir = 1; }
      sortRows();
    });
    const first = $("tbody tr", groups);
    if (first) learnClock(first);
    tick();
    setInterval(() => { if (!document.hidden) tick(); }, 1000);
    connect();
  }

  // ---- log view -----------------------------------------------------------------------------
  const log = $("#log");
  if (log && log.dataset.src && window.fetch && window.TextDecoder) {
    const keep = Number(log.dataset.keep) || 65536;
    const src = log.dataset.src.replace(/\?offset=\d+$/, "");
    let base = Number((log.dataset.src.match(/\?offset=(\d+)$/) || [0, 0])[1]);
    let paused = false;
    let held = "";
    const pause = $("#pause");

    function append(text) {
      if (paused) { held = (held + text).slice(-keep); return; }
      const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      let all = log.textContent + text;
      if (all.length > keep) all = all.slice(all.length - keep);
      log.textContent = all;
      if (atBottom) log.scrollTop = log.scrollHeight;
    }

    if (pause) {
      pause.hidden = false;
      pause.addEventListener("click", () => {
        paused = !paused;
        pause.textContent = paused ? "Resume" : "Pause";
        pause.setAttribute("aria-pressed", String(paused));
        setLive(!paused, paused ? "paused" : "live");
        if (!paused && held) { const h = held; held = ""; append(h); }
      });
    }

    async function follow() {
      try {
        const res = await fetch(src + "?offset=" + base, { credentials: "same-origin" });
        if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
        setLive(true, "live");
        const reader = res.body.getReader();
        // Invalid UTF-8 shows as U+FFFD; a character split between chunks is kept whole.
        const decoder = new TextDecoder("utf-8");
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          base += value.length;
          append(decoder.decode(value, { stream: true }));
        }
      } catch (err) {
        // fall through to the retry
      }
      setLive(false, "reconnecting");
      setTimeout(follow, 2000);
    }
    log.scrollTop = log.scrollHeight;
    follow();
  }
})();
