// teamform board: live progress, drag-and-drop moves, locks and undo.
// Cards come back from the server already rendered (and escaped); this file
// never builds markup from learner data.
"use strict";
(function () {
  const root = document.getElementById("session");
  if (!root) return;
  const sid = root.dataset.sid;
  const api = (path) => `/api/sessions/${sid}/${path}`;
  const progress = document.getElementById("progress");
  const message = document.getElementById("message");
  const cancelBtn = document.getElementById("cancel");
  let selected = null;

  function say(text, bad) {
    const el = message || progress;
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("bad", !!bad);
  }

  async function post(path, body) {
    const res = await fetch(api(path), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await res.json(); } catch (e) { data = { error: res.statusText }; }
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }

  function fragment(html) {
    const t = document.createElement("template");
    t.innerHTML = html;
    return t.content.firstElementChild;
  }

  function apply(data) {
    for (const [team, html] of Object.entries(data.cards || {})) {
      const old = document.getElementById(`team-${team}`);
      if (old) old.replaceWith(fragment(html));
    }
    const totals = document.getElementById("totals");
    if (totals && data.totals) totals.replaceWith(fragment(data.totals));
    const undo = document.getElementById("undo");
    if (undo) undo.disabled = !data.undo;
    if (data.broken && data.broken.length) {
      say("This breaks a hard rule: " + data.broken.join("; ") + ". Undo to take it back.", true);
    } else if (data.moved && Object.keys(data.moved).length) {
      const parts = Object.entries(data.moved).map(([id, ft]) => `${id}: team ${ft[0]} → ${ft[1]}`);
      say(parts.join(", "), false);
    }
  }

  async function edit(path, body) {
    try { apply(await post(path, body)); } catch (e) { say(e.message, true); }
  }

  // -- drag and drop -------------------------------------------------
  const board = document.getElementById("board");
  if (board) {
    board.addEventListener("dragstart", (e) => {
      const li = e.target.closest(".member");
      if (!li) return;
      e.dataTransfer.setData("text/plain", li.dataset.id);
      e.dataTransfer.effectAllowed = "move";
      li.classList.add("dragging");
    });
    board.addEventListener("dragend", (e) => {
      const li = e.target.closest(".member");
      if (li) li.classList.remove("dragging");
    });
    board.addEventListener("dragover", (e) => {
      if (e.target.closest(".card")) { e.preventDefault(); e.dataTransfer.dropEffect = "move"; }
    });
    board.addEventListener("drop", (e) => {
      const card = e.target.closest(".card");
      if (!card) return;
      e.preventDefault();
      const id = e.dataTransfer.getData("text/plain");
      if (!id) return;
      const onto = e.target.closest(".member");
      if (onto && onto.dataset.id !== id) edit("swap", { a: id, b: onto.dataset.id });
      else if (!onto) edit("move", { learner: id, team: Number(card.dataset.team) });
    });
    board.addEventListener("click", (e) => {
      const lockL = e.target.closest(".lock-learner");
      if (lockL) {
        edit("lock", { learner: lockL.dataset.id, locked: lockL.dataset.locked !== "yes" });
        return;
      }
      const lockT = e.target.closest(".lock-team");
      if (lockT) {
        edit("lock", { team: Number(lockT.dataset.team), locked: lockT.dataset.locked !== "yes" });
        return;
      }
      const here = e.target.closest(".move-here");
      if (here) {
        if (selected) edit("move", { learner: selected, team: Number(here.dataset.team) });
        selected = null;
        return;
      }
      const li = e.target.closest(".member");
      if (!li) return;
      if (selected && selected !== li.dataset.id) {
        edit("swap", { a: selected, b: li.dataset.id });
        selected = null;
      } else {
        selected = selected === li.dataset.id ? null : li.dataset.id;
      }
      document.querySelectorAll(".member.selected").forEach((m) => m.classList.remove("selected"));
      if (selected) li.classList.add("selected");
    });
    board.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === " ") && e.target.classList.contains("member")) {
        e.preventDefault();
        e.target.click();
      }
    });
  }
  const undo = document.getElementById("undo");
  if (undo) undo.addEventListener("click", () => edit("undo"));

  // -- solving ---------------------------------------------------------
  function fmt(v) { return v === null || v === undefined ? "-" : Number(v).toFixed(2); }

  function follow() {
    if (cancelBtn) cancelBtn.disabled = false;
    const es = new EventSource(api("events"));
    es.addEventListener("progress", (e) => {
      const p = JSON.parse(e.data);
      progress.textContent = `searching: best ${fmt(p.objective)}, bound ${fmt(p.bound)}, ${Number(p.elapsed).toFixed(1)} s`;
      progress.dataset.objective = p.objective;
    });
    es.addEventListener("tick", (e) => {
      const p = JSON.parse(e.data);
      progress.dataset.elapsed = p.elapsed;
      if (!progress.dataset.objective) progress.textContent = `searching… ${Number(p.elapsed).toFixed(1)} s`;
    });
    es.addEventListener("done", (e) => {
      es.close();
      const d = JSON.parse(e.data);
      progress.textContent = d.outcome || "done";
      window.location.reload();
    });
    es.onerror = () => { es.close(); };
  }

  async function start(path) {
    const limit = Number(document.getElementById("time-limit").value);
    const seed = Number(document.getElementById("seed").value || 0);
    try {
      await post(path, { time_limit: limit, seed: seed });
      progress.classList.remove("bad");
      progress.textContent = "searching…";
      follow();
    } catch (e) {
      progress.textContent = e.message;
      progress.classList.add("bad");
    }
  }

  const solveForm = document.getElementById("solve-form");
  if (solveForm) {
    solveForm.addEventListener("submit", (e) => { e.preventDefault(); start("solve"); });
  }
  const reopt = document.getElementById("reoptimise");
  if (reopt) reopt.addEventListener("click", () => start("reoptimise"));
  if (cancelBtn) {
    cancelBtn.addEventListener("click", async () => {
      try { await post("cancel"); progress.textContent = "stopping: keeping the best plan…"; }
      catch (e) { progress.textContent = e.message; progress.classList.add("bad"); }
    });
  }
  const del = document.querySelector("form.delete");
  if (del) del.addEventListener("submit", (e) => { if (!window.confirm("Delete this session?")) e.preventDefault(); });
  if (root.dataset.running === "yes") follow();
})();
