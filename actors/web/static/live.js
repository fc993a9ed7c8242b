// option-alpha dashboard: live updates over Server-Sent Events (/events). No inline script, no
// innerHTML of event data: every event value is set with textContent; the runs table is
// refreshed from the server's own escaped HTML fragment.
"use strict";
(function () {
  const live = document.getElementById("live");
  const body = document.body;
  const page = body.dataset.page;
  const runId = body.dataset.runId || "";
  let refreshPending = false;
  const finished = new Set();  // runs whose end was seen: the live list shows running runs only

  function count(name) {
    live.dataset[name] = String(Number(live.dataset[name] || "0") + 1);
  }

  function progressText(d) {
    if (d.state === "running") {
      return d.total ? d.phase + " " + d.done + "/" + d.total : d.phase + " " + d.done;
    }
    return d.phase + " " + d.state + (typeof d.seconds === "number" ? " in " + d.seconds.toFixed(1) + " s" : "");
  }

  function progressItem(key, d) {
    const list = document.getElementById("live-progress");
    if (!list) return null;
    let item = list.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (!item) {
      item = document.createElement("li");
      item.dataset.key = key;
      item.dataset.run = d.run_id;
      const label = document.createElement("span");
      label.className = "label";
      const bar = document.createElement("progress");
      item.append(label, bar);
      list.append(item);
    }
    return item;
  }

  function onProgress(key, d) {
    if (page === "run" || page === "ticker") {
      if (d.run_id !== runId) return;
    } else if (page !== "runs") {
      return;
    }
    const item = finished.has(d.run_id) ? null : progressItem(key, d);
    if (item) {
      item.querySelector(".label").textContent = d.run_id + " " + progressText(d);
      const bar = item.querySelector("progress");
      if (d.state === "running" && d.total) { bar.max = d.total; bar.value = d.done; }
      else if (d.state !== "running") { bar.max = 1; bar.value = 1; }
      else { bar.removeAttribute("value"); }
      item.dataset.state = d.state;
      item.dataset.done = String(d.done === undefined ? "" : d.done);
    }
    const cell = document.querySelector('td.live-progress[data-run="' + CSS.escape(d.run_id) + '"]');
    if (cell) cell.textContent = progressText(d);
    const row = document.querySelector('#phases tr[data-key="' + CSS.escape(key) + '"] .state');
    if (row) row.textContent = d.state;
  }

  function refreshRuns() {
    if (page !== "runs" || refreshPending) return;
    refreshPending = true;
    fetch("/fragments/runs", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { document.getElementById("runs-rows").innerHTML = html; })
      .catch(function () {})
      .finally(function () { refreshPending = false; });
  }

  function onRun(d) {
    finished.add(d.run_id);
    document.querySelectorAll('#live-progress li[data-run="' + CSS.escape(d.run_id) + '"]')
      .forEach(function (li) { li.remove(); });
    if (page === "runs") refreshRuns();
    if (page === "run" && d.run_id === runId) {
      const status = document.getElementById("run-status");
      if (status && status.textContent !== d.status) window.location.reload();  // finished since served
    }
  }

  function apply(kind, key, d) {
    if (kind === "progress") onProgress(key, d);
    else if (kind === "run") onRun(d);
    else if (kind === "runs") refreshRuns();
  }

  function handle(kind) {
    return function (ev) {
      live.dataset.lastId = ev.lastEventId;
      count("events");
      const d = JSON.parse(ev.data);
      if (kind === "snapshot") {
        count("snapshots");
        d.events.forEach(function (e) { apply(e.kind, e.key, e.data); });
      } else {
        apply(kind, keyOf(kind, d), d);
      }
    };
  }

  function keyOf(kind, d) {
    if (kind === "progress") return "progress:" + d.run_id + ":" + d.phase;
    if (kind === "run") return "run:" + d.run_id;
    return kind;
  }

  if (!window.EventSource || !live) return;
  const source = new EventSource("/events");
  source.onopen = function () { live.dataset.state = "live"; live.textContent = "live"; count("opens"); };
  source.onerror = function () { live.dataset.state = "reconnecting"; live.textContent = "reconnecting…"; };
  ["snapshot", "progress", "run", "runs", "debate", "breaker", "health"].forEach(function (kind) {
    source.addEventListener(kind, handle(kind));
  });
})();
