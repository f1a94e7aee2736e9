// graphrec's web page: plain JavaScript over the JSON API (no build step, nothing fetched from elsewhere).
"use strict";
const $ = (id) => document.getElementById(id);
let runs = [];

function currentRun() { return runs.find((r) => r.name === $("run-select").value) || runs[0]; }

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function showError(body, pick) {
  const box = $("error");
  box.replaceChildren(el("div", {}, body.error || "error"));
  if (body.candidates && body.candidates.length && pick) {
    const row = el("div", {}, "candidates: ");
    for (const m of body.candidates) row.append(el("button", { type: "button", onclick: () => pick(m) }, label(m)));
    box.append(row);
  }
  box.hidden = false;
}

async function api(path, options = {}, pick = null) {
  $("error").hidden = true;
  const res = await fetch(path, options);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) { showError(body, pick); throw new Error(body.error); }
  return body;
}

function withRun(path, need) {
  const r = currentRun();
  if (!r || (need && !r.can[need])) return path;
  return path + (path.includes("?") ? "&" : "?") + "run=" + encodeURIComponent(r.name);
}

const label = (m) => `${m.title}` + (m.year && !m.title.includes(`(${m.year})`) ? ` (${m.year})` : "");

function bar(name, value, scale, cls, text) {
  const w = Math.max(2, Math.min(100, (100 * Math.abs(value)) / (scale || 1)));
  return el("div", { class: "bar-row" }, el("span", {}, name),
    el("div", { class: "bar-track" }, el("div", { class: `bar ${cls}`, style: `width:${w}%` })),
    el("span", {}, text ?? value.toFixed(2)));
}

function renderList(target, recs) {
  const scale = Math.max(1e-9, ...recs.flatMap((r) => (r.why || []).map((g) => Math.abs(g.contribution))));
  target.replaceChildren(...recs.map((r) => {
    const why = el("div", { class: "why" });
    for (const g of r.why || []) why.append(bar(g.value, g.contribution, scale, "", (g.contribution >= 0 ? "+" : "") + g.contribution.toFixed(2)));
    if (r.because_you_liked) {
      const b = r.because_you_liked;
      why.append(el("div", { class: "meta" }, "because you liked ", el("em", {}, b.title)),
        bar("similarity", b.similarity, 1, "liked", b.similarity.toFixed(2)));
    }
    return el("li", { class: "rec" }, el("span", { class: "title" }, label(r)), " ",
      el("span", { class: "meta" }, `${r.genres.join(", ")} · score ${r.score.toFixed(3)}`), why);
  }));
}

async function loadRuns(select) {
  runs = (await api("runs")).runs;
  const sel = $("run-select");
  sel.replaceChildren(...runs.map((r) => el("option", { value: r.name }, `${r.name} (${r.model})`)));
  if (select && runs.some((r) => r.name === select)) sel.value = select;
  runChanged();
}

function runChanged() {
  const r = currentRun();
  $("run-info").textContent = r ? `${r.id} · ${r.users} users · ${r.movies} movies` : "";
  if (r && r.user_ids.length) { $("user-input").min = r.user_ids[0]; $("user-input").max = r.user_ids[1]; }
  const sage = runs.find((x) => x.can.new_user);
  $("new-user-note").textContent = sage ? `answered by ${r && r.can.new_user ? r.id : sage.id}`
    : "no hetero-sage run is loaded: start graphrec serve with --run DIR of one";
  const occ = (r && r.occupations) || (sage && sage.occupations);
  if (occ) {
    const cur = $("occupation").value;
    $("occupation").replaceChildren(...occ.map((o) => el("option", {}, o)));
    if (occ.includes(cur)) $("occupation").value = cur;
  }
  mapData = null;
}

async function recommend(ev) {
  if (ev) ev.preventDefault();
  const user = $("user-input").value, k = $("user-k").value, explain = $("user-explain").checked;
  const body = await api(withRun(`users/${encodeURIComponent(user)}/recommendations?k=${k}&explain=${explain}`));
  $("recs-note").textContent = `user ${body.user}: ${body.recommendations.length} movies from ${body.run}` + (body.note ? ` (${body.note})` : "");
  renderList($("recs"), body.recommendations);
}

let mapData = null;
async function drawMap(movie, neighbours) {
  try { mapData = mapData || await api(withRun("movies/map", "similar")); } catch (e) { return; }
  const near = new Set(neighbours.map((n) => n.movie_id));
  const svg = $("map"), ns = "http://www.w3.org/2000/svg", dots = [];
  mapData.movie_ids.forEach((id, i) => {
    const c = document.createElementNS(ns, "circle");
    c.setAttribute("cx", 2 + 96 * mapData.xy[i][0]); c.setAttribute("cy", 2 + 96 * (1 - mapData.xy[i][1]));
    c.setAttribute("r", id === movie.movie_id || near.has(id) ? 1.6 : 0.6);
    if (id === movie.movie_id) c.setAttribute("class", "query"); else if (near.has(id)) c.setAttribute("class", "near");
    dots.push(c);
  });
  dots.sort((a, b) => (a.getAttribute("class") ? 1 : 0) - (b.getAttribute("class") ? 1 : 0));
  svg.replaceChildren(...dots);
  svg.hidden = false; $("map-note").hidden = false;
}

async function showSimilar(movie) {
  const metric = $("metric").value;
  const body = await api(withRun(`movies/${movie.movie_id}/similar?k=10&metric=${metric}`, "similar"));
  $("matches").replaceChildren(el("p", { class: "muted" }, `nearest ${label(body.movie)} (${metric}, ${body.run})`));
  const key = metric === "cosine" ? "similarity" : "distance";
  const scale = Math.max(...body.neighbours.map((n) => Math.abs(n[key])), 1e-9);
  $("neighbours").replaceChildren(...body.neighbours.map((n) => el("li", { class: "neighbour" },
    el("span", { class: "title" }, label(n)), " ", el("span", { class: "meta" }, n.genres.join(", ")),
    bar(key, n[key], scale, "liked"))));
  drawMap(body.movie, body.neighbours);
}

async function search(ev) {
  if (ev) ev.preventDefault();
  const q = $("search-input").value;
  const body = await api(withRun(`movies/search?q=${encodeURIComponent(q)}`));
  if (body.matches.length === 1) return showSimilar(body.matches[0]);
  $("neighbours").replaceChildren();
  const shown = body.matches.length ? body.matches : body.did_you_mean;
  $("matches").replaceChildren(el("p", { class: "muted" }, body.matches.length ? "several titles match: pick one" : "no title matches; did you mean"),
    ...shown.map((m) => el("button", { type: "button", onclick: () => showSimilar(m) }, label(m))));
}

const liked = [];
function renderLiked() {
  $("liked").replaceChildren(...liked.map((m, i) => el("li", {}, label(m),
    el("button", { type: "button", title: "remove", onclick: () => { liked.splice(i, 1); renderLiked(); newUser(); } }, "×"))));
}

function addLiked(m) {
  if (!liked.some((x) => x.movie_id === m.movie_id)) liked.push(m);
  $("liked-input").value = ""; renderLiked(); newUser();
}

async function addLikedTitle() {
  const q = $("liked-input").value.trim();
  if (!q) return;
  const body = await api(withRun(`movies/search?q=${encodeURIComponent(q)}`));
  if (body.matches.length === 1) return addLiked(body.matches[0]);
  showError({ error: body.matches.length ? `${body.matches.length} titles match "${q}": pick one` : `no title matches "${q}"`,
    candidates: body.matches.length ? body.matches : body.did_you_mean }, addLiked);
}

async function newUser(ev) {
  if (ev) ev.preventDefault();
  const req = { gender: $("gender").value, age: Number($("age").value), occupation: $("occupation").value,
    liked_ids: liked.map((m) => m.movie_id), k: 10, explain: $("new-explain").checked };
  const body = await api(withRun("new-user", "new_user"), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(req) });
  renderList($("new-recs"), body.recommendations);
}

function swallow(f) { return (ev) => f(ev).catch(() => {}); }
$("run-select").addEventListener("change", runChanged);
$("user-form").addEventListener("submit", swallow(recommend));
$("random-user").addEventListener("click", swallow(async () => {
  const r = currentRun(); $("user-input").value = r.user_ids[0] + Math.floor(Math.random() * (r.user_ids[1] - r.user_ids[0] + 1));
  return recommend();
}));
$("search-form").addEventListener("submit", swallow(search));
$("liked-add").addEventListener("click", swallow(addLikedTitle));
$("liked-input").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); addLikedTitle().catch(() => {}); } });
$("new-user-form").addEventListener("submit", swallow(newUser));
loadRuns().catch(() => {});
