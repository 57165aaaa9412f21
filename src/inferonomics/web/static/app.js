// inferonomics single page: pickers -> JSON API -> Plotly figures built by the server (report/charts.py).
// The view's state lives in the URL query string, so a link reproduces it.
"use strict";

const $ = (id) => document.getElementById(id);

// URL key -> control id; defaults used when the URL says nothing.
const STATE = {
  model: ["model", "Llama-3.1-70B"],
  hardware: ["hardware", "h100_sxm"],
  precision: ["precision", ""],
  tp: ["tp", ""],
  c: ["concurrency", "16"],
  isl: ["isl", "1024"],
  osl: ["osl", "1024"],
  sheet: ["sheet", ""],
  usd: ["usd", ""],
  util: ["util", ""],
  mode: ["mode", "agg"],
  p_n: ["p-n", "1"],
  p_tp: ["p-tp", "8"],
  p_ep: ["p-ep", "1"],
  d_n: ["d-n", "1"],
  d_tp: ["d-tp", "8"],
  d_ep: ["d-ep", "1"],
  sim_wl: ["sim-workload", "poisson"],
  sim_rate: ["sim-rate", "4"],
  sim_n: ["sim-n", "1000"],
  sim_sched: ["sim-scheduler", "vllm"],
  s_hw: ["search-hw", "h100_sxm"],
  s_rate: ["search-rate", "2"],
  s_ttft: ["search-ttft", ""],
  s_tpot: ["search-tpot", ""],
};
const MAIN_KEYS = ["model", "hardware", "precision", "tp", "c", "isl", "osl", "sheet"];
// Disaggregated serving's pools: in the URL only when changed, but they change the prediction.
const POOL_KEYS = ["mode", "p_n", "p_tp", "p_ep", "d_n", "d_tp", "d_ep"];
// The price of a chip-hour and its utilisation: in the URL only when set, they change the cost views.
const PRICE_KEYS = ["usd", "util"];
const PLOT_CONFIG = { responsive: true, displaylogo: false };

let catalog = null;
let generation = 0; // increases on every refresh; stale answers are dropped
let simJob = null;

function readControls() {
  const s = {};
  for (const [key, [id]] of Object.entries(STATE)) s[key] = $(id).value.trim();
  return s;
}

function writeUrl() {
  const s = readControls();
  const q = new URLSearchParams();
  // the main pickers always (a shared link must not depend on today's defaults), the rest when changed
  for (const [key, [, def]] of Object.entries(STATE)) {
    if (MAIN_KEYS.includes(key) ? s[key] !== "" : s[key] !== def) q.set(key, s[key]);
  }
  const url = q.toString() ? `?${q}` : location.pathname;
  history.replaceState(null, "", url);
}

function restoreFromUrl() {
  const q = new URLSearchParams(location.search);
  for (const [key, [id, def]] of Object.entries(STATE)) {
    const el = $(id);
    const v = q.has(key) ? q.get(key) : def;
    if (el.tagName === "SELECT" && v && ![...el.options].some((o) => o.value === v)) {
      el.add(new Option(v, v));
    }
    el.value = v;
  }
}

function showError(message) {
  const box = $("error");
  if (!message) { box.hidden = true; box.textContent = ""; return; }
  box.hidden = false;
  box.textContent = message;
}

function setStatus(text) { $("status").textContent = text; }

async function api(method, path, body, signal) {
  const res = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal,
  });
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    if (data && data.error) msg = data.error.message;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return data;
}

function wrapWords(text, perLine) {
  // Break a title at spaces into lines of at most perLine characters (never inside a word).
  const lines = [];
  for (const part of String(text).split("<br>")) {
    let line = "";
    for (const word of part.split(" ")) {
      if (line && (line + " " + word).length > perLine) { lines.push(line); line = word; }
      else line = line ? line + " " + word : word;
    }
    lines.push(line);
  }
  return lines;
}

function fitLayout(el, layout) {
  // The server's layout fitted to this chart's width: the title wrapped (a phone is 390 px wide),
  // smaller type and legend on narrow charts, and the top margin grown for the title's lines.
  const width = el.clientWidth || 600;
  const narrow = width < 600;
  const out = { ...layout, margin: { ...(layout.margin || {}) } };
  const title = layout.title && layout.title.text;
  if (title) {
    const size = narrow ? 12 : 15;
    const lines = wrapWords(title, Math.max(16, Math.floor((width - 24) / (size * 0.6))));
    out.title = { ...layout.title, text: lines.join("<br>"), font: { ...(layout.title.font || {}), size } };
    out.margin.t = Math.max(out.margin.t || 0, 16 + lines.length * (size + 6));
  }
  if (narrow) {
    out.font = { ...(layout.font || {}), size: 10 };
    out.legend = { ...(layout.legend || {}), font: { size: 10 } };
    out.margin.l = Math.min(out.margin.l || 70, 56);
    out.margin.r = Math.min(out.margin.r || 20, 10);
  }
  return out;
}

async function clearLegend(el) {
  // A legend below the plot sits at a fixed fraction of the plot's height, so on a short plot it can
  // run into the x-axis title: move it down by the overlap, measured, until nothing overlaps.
  for (let i = 0; i < 4; i++) {
    const title = el.querySelector(".g-xtitle");
    const ticks = [...el.querySelectorAll(".xtick text")];
    const legend = el.querySelector(".legend");
    const size = el._fullLayout && el._fullLayout._size;
    if (!legend || !size || !(el.layout.legend && el.layout.legend.y < 0)) return;
    const above = [title, ...ticks].filter(Boolean).map((e) => e.getBoundingClientRect().bottom);
    const gap = Math.max(0, ...above) + 4 - legend.getBoundingClientRect().top;
    if (gap <= 0) return;
    await Plotly.relayout(el, { "legend.y": el.layout.legend.y - gap / size.h });
  }
}

async function draw(id, fig) {
  const el = $(id);
  await Plotly.react(el, fig.data, fitLayout(el, fig.layout), PLOT_CONFIG);
  await clearLegend(el);
  el.dataset.version = String(Number(el.dataset.version || 0) + 1);
}

function num(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "-";
  if (typeof v !== "number") return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toPrecision(digits);
  return v.toLocaleString(undefined, { maximumSignificantDigits: digits + 1 });
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function fillTable(table, rows) {
  table.replaceChildren(...rows.map(([k, v]) => {
    const tr = el("tr");
    tr.append(el("td", k), el("td", v));
    return tr;
  }));
}

// ------------------------------------------------------------------------------------------------
// The main views: prediction, roofline, frontier, price sheet, reading of a provider's sheet
// ------------------------------------------------------------------------------------------------

// The user's chip-hour price and utilisation for the cost views (the API's defaults when empty).
function pricingBody(s) {
  const body = {};
  if (s.usd) body.usd_per_chip_hour = Number(s.usd);
  if (s.util) body.utilisation = Number(s.util);
  return body;
}

function deploymentBody(s) {
  const body = {
    model: s.model, hardware: s.hardware, isl: Number(s.isl), osl: Number(s.osl),
  };
  if (s.precision) body.precision = s.precision;
  if (s.tp) body.tp = Number(s.tp);
  return body;
}

async function refresh() {
  const gen = ++generation;
  const s = readControls();
  writeUrl();
  showError("");
  setStatus("computing…");
  const dep = deploymentBody(s);
  const conc = Number(s.c);
  const disagg = s.mode === "disagg";
  $("pools").hidden = !disagg;
  const pool = (n, tp, ep) => ({ instances: Number(n), tp: Number(tp), ep: Number(ep) });
  const predictBody = disagg
    ? { ...dep, concurrency: conc, mode: "disagg", prefill: pool(s.p_n, s.p_tp, s.p_ep), decode: pool(s.d_n, s.d_tp, s.d_ep) }
    : { ...dep, concurrency: conc };
  // the roofline places the decode step: of the decode pool's instance when disaggregated
  const rooflineDep = disagg ? { ...dep, tp: Number(s.d_tp), ep: Number(s.d_ep) } : dep;
  const tasks = [
    api("POST", "/api/predict", predictBody).then((p) => {
      if (gen !== generation) return;
      draw("chart-breakdown", p.charts.breakdown);
      draw("chart-memory", p.charts.memory);
      const poolRows = p.disagg ? [
        ["prefill pool memory per GPU", `${num(p.disagg.prefill_memory_gb_per_gpu)} GB`],
        ["KV transfer per request", `${num(p.breakdown.kv_transfer_ms)} ms`],
      ] : [];
      fillTable($("predict-table"), [
        ["deployment", p.deployment],
        ["time to first token", `${num(p.ttft_ms)} ms`],
        ["TTFT range: clients spread .. synchronised", `${num(p.ttft_range_ms[0])} .. ${num(p.ttft_range_ms[1])} ms`],
        ["time per output token", `${num(p.tpot_ms)} ms`],
        ["tokens/s per user", num(p.tokens_per_s_per_user)],
        ["output tokens/s per GPU", num(p.output_tokens_per_s_per_gpu)],
        ["output tokens/s, all chips", num(p.output_tokens_per_s)],
        ["chips", num(p.chips)],
        ["memory per GPU", `${num(p.memory_gb_per_gpu)} of ${num(p.memory.capacity_gb)} GB`],
        ...poolRows,
      ]);
      return api("POST", "/api/roofline", { ...rooflineDep, batch_size: Math.max(1, p.batch_size || conc) });
    }).then((r) => { if (r && gen === generation) draw("chart-roofline", r.charts.roofline); }),
    api("POST", "/api/frontier", {
      model: s.model, hardware: s.hardware, isl: dep.isl, osl: dep.osl, ...(s.precision ? { precision: s.precision } : {}),
      ...pricingBody(s),
    }).then((f) => {
      if (gen !== generation) return;
      draw("chart-frontier", f.charts.frontier);
      const lb = f.lower_bounds || {};
      const notes = [
        `Batched serving (cost floor) is ${num(f.single_user_to_batched_cost_ratio)}x cheaper per token than one user alone.`,
      ];
      if (lb.latency_floor) {
        notes.push(`Analytic floors: ${num(lb.latency_floor.tokens_per_s)} tok/s per user at most, ` +
          `${num(lb.cost_floor.usd_per_mtok)} USD per M output tokens at least (${lb.cost_floor.bound}).`);
      }
      notes.push(`${f.n_points_swept} deployments x batch sizes swept at ${num(f.usd_per_chip_hour)} USD per chip-hour.`);
      const dg = f.disaggregated;
      if (dg) {
        notes.push(`Disaggregated (triangles): cheapest with TTFT <= ${num(f.realistic_ttft_s)} s is ` +
          `${num(dg.usd_per_mtok_output)} USD/M at ${num(dg.tokens_per_s_per_user)} tok/s per user ` +
          `(${dg.prefill_instances}P${dg.decode_instances}D).`);
      }
      $("frontier-notes").textContent = notes.join(" ");
    }),
    api("POST", "/api/price-sheet", { ...dep, ...pricingBody(s), ...(s.sheet ? { provider_sheet: s.sheet } : {}) }).then((ps) => {
      if (gen !== generation) return;
      draw("chart-prices", ps.charts.price_sheet);
      $("price-headline").textContent = ps.comparison ? ps.comparison.headline : (ps.derived.notes || []).join(" ");
    }),
  ];
  if (s.sheet) {
    tasks.push(api("POST", "/api/read-prices", { sheet: s.sheet }).then((r) => {
      if (gen !== generation) return;
      const box = $("findings");
      box.replaceChildren(el("h3", `What ${r.sheet.key}'s prices imply`));
      for (const f of r.findings) {
        const d = el("div", undefined, "finding");
        d.append(el("b", f.topic), el("span", f.statement));
        box.append(d);
      }
    }));
  } else {
    $("findings").replaceChildren();
  }
  const results = await Promise.allSettled(tasks);
  if (gen !== generation) return;
  const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  showError([...new Set(failed)].join("\n"));
  setStatus(failed.length ? "" : "up to date");
}

let timer = null;
function scheduleRefresh() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 200);
}

// ------------------------------------------------------------------------------------------------
// Simulation (background job with progress and cancel) and search
// ------------------------------------------------------------------------------------------------

async function runSimulation() {
  const s = readControls();
  writeUrl();
  const body = {
    ...deploymentBody(s),
    workload: s.sim_wl,
    num_requests: Number(s.sim_n),
    scheduler: s.sim_sched,
  };
  if (s.sim_wl === "poisson") body.rate_per_s = Number(s.sim_rate);
  else body.concurrency = Number(s.c);
  $("sim-run").disabled = true;
  $("sim-progress").value = 0;
  $("sim-summary").textContent = "starting…";
  try {
    simJob = await api("POST", "/api/simulate", body);
    $("sim-cancel").disabled = false;
    for (;;) {
      await new Promise((r) => setTimeout(r, 400));
      const job = await api("GET", `/api/simulate/${simJob.id}`);
      $("sim-progress").value = job.progress;
      $("sim-summary").textContent = `${job.status}, ${Math.round(job.progress * 100)}%`;
      if (job.status === "running" || job.status === "queued") continue;
      if (job.status === "done") {
        const r = job.result;
        $("sim-charts").hidden = false; // collapsed until the first run
        draw("chart-cdf", r.charts.latency_cdf);
        draw("chart-kv", r.charts.kv_occupancy);
        const m = r.summary;
        $("sim-summary").textContent = `${m.deployment}; ${m.workload}. ${num(m.completed)} completed, ` +
          `${num(m.throughput_output_tokens_per_s)} output tok/s; TTFT p50 ${num(m.ttft_ms.p50)} ms, ` +
          `p99 ${num(m.ttft_ms.p99)} ms; TPOT p99 ${num(m.tpot_ms.p99)} ms; ` +
          `${num(m.usd_per_million_output_tokens)} USD per M output tokens` +
          (m.partial ? ` (partial: ${m.stop_reason})` : "") + ` — simulated in ${num(job.elapsed_s)} s.`;
      } else if (job.status === "failed") {
        $("sim-summary").textContent = `failed: ${job.error ? job.error.message : "unknown error"}`;
      } else {
        $("sim-summary").textContent = "cancelled";
      }
      break;
    }
  } catch (e) {
    $("sim-summary").textContent = `error: ${e.message}`;
  } finally {
    simJob = null;
    $("sim-run").disabled = false;
    $("sim-cancel").disabled = true;
  }
}

async function cancelSimulation() {
  if (simJob) await api("DELETE", `/api/simulate/${simJob.id}`).catch(() => {});
}

async function runSearch() {
  const s = readControls();
  writeUrl();
  const body = {
    model: s.model,
    hardware: s.s_hw.split(",").map((x) => x.trim()).filter(Boolean),
    isl: Number(s.isl),
    osl: Number(s.osl),
    rate_per_s: Number(s.s_rate),
  };
  if (s.precision) body.precision = s.precision; // the Weights picker applies to the search too
  if (s.s_ttft) body.ttft_ms = Number(s.s_ttft);
  if (s.s_tpot) body.tpot_ms = Number(s.s_tpot);
  $("search-run").disabled = true;
  $("search-best").textContent = "searching…";
  try {
    const r = await api("POST", "/api/search", body);
    $("chart-pareto").hidden = false; // collapsed until the first search
    draw("chart-pareto", r.charts.pareto);
    const b = r.best;
    $("search-best").textContent = b
      ? `Recommended: ${b.description}: ${num(b.usd_per_mtok)} USD per M output tokens, TTFT ${num(b.ttft_ms)} ms, ` +
        `TPOT ${num(b.tpot_ms)} ms (${num(r.evaluated)} configurations screened in ${num(r.elapsed_s)} s).`
      : `Nothing meets the targets. ${(r.infeasible && r.infeasible.message) || ""}`;
  } catch (e) {
    $("search-best").textContent = `error: ${e.message}`;
  } finally {
    $("search-run").disabled = false;
  }
}

// ------------------------------------------------------------------------------------------------
// Start
// ------------------------------------------------------------------------------------------------

function fillPickers(cat) {
  $("model-list").replaceChildren(...cat.models.map((m) => {
    const o = new Option(`${m.family || ""} · ${num(m.total_params / 1e9)}B params`, m.name);
    o.value = m.name;
    return o;
  }));
  $("hardware-list").replaceChildren(...cat.hardware.map((h) => {
    const o = new Option(`${h.vendor} ${h.chip}, ${h.hbm_gb} GB`, h.system);
    o.value = h.system;
    return o;
  }));
  for (const p of cat.precisions) $("precision").add(new Option(p, p));
  for (const p of cat.price_sheets) $("sheet").add(new Option(p.key, p.key));
}

async function start() {
  try {
    catalog = await api("GET", "/api/catalog");
    fillPickers(catalog);
  } catch (e) {
    showError(`could not load the catalog: ${e.message}`);
  }
  restoreFromUrl();
  for (const key of [...MAIN_KEYS, ...POOL_KEYS, ...PRICE_KEYS]) {
    const id = STATE[key][0];
    $(id).addEventListener("change", scheduleRefresh);
  }
  const refreshing = [...MAIN_KEYS, ...POOL_KEYS, ...PRICE_KEYS];
  for (const key of Object.keys(STATE).filter((k) => !refreshing.includes(k))) {
    $(STATE[key][0]).addEventListener("change", writeUrl);
  }
  $("sim-run").addEventListener("click", runSimulation);
  $("sim-cancel").addEventListener("click", cancelSimulation);
  $("search-run").addEventListener("click", runSearch);
  refresh();
}

document.addEventListener("DOMContentLoaded", start);
