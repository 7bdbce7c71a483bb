/* shieldlab web map. Plain JavaScript, no build step; talks only to this server (/api, /data, /static).
 *
 * document.body.dataset.state: "loading" -> "running" -> "ready" | "error"; dataset.run counts finished runs.
 */
"use strict";

const COLORS = {
  powered: "#e8590c", free: "#6741d9", window: "#2b8a3e", detect: "#1971c2", radar: "#1864ab",
  radarFill: "#4dabf7", battery: "#2b8a3e", launch: "#c92a2a", land: "#f3efe4", border: "#b7ae9a",
  coast: "#9c9482", none: "#adb5bd", several: "#087f5b", error: "#f1f3f5",
};
const BATTERY_COLORS = ["#f59f00", "#1c7ed6", "#d6336c", "#0ca678", "#7048e8", "#e8590c", "#74b816", "#495057"];
const REASON_TEXT = {};  // reason -> explanation, from the server's answers ("reason_text": shieldlab's Reason)
const RADAR_DASH = [null, "6 5", "2 5", "10 4 2 4"];

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
};
const fmtT = (t) => (t == null ? "—" : t.toFixed(1));
const fmtLL = (lat, lon) => {
  const w = ((lon + 540) % 360) - 180;
  return `${Math.abs(lat).toFixed(2)}°${lat >= 0 ? "N" : "S"} ${Math.abs(w).toFixed(2)}°${w >= 0 ? "E" : "W"}`;
};
const { marginText, marginKind, NO_MARGIN } = window.shieldlabFormat;  // static/format.js: the text table's words
const MARGIN_COLORS = { late: "#b2182b", spare: "#2166ac", zero: "#f7f7f7" };
// closing speed and crossing angle at an intercept (0° head-on, 180° a tail chase)
const fmtGeom = (i) => (i && i.closing_speed_km_s != null
  ? `closing speed ${i.closing_speed_km_s.toFixed(2)} km/s, crossing angle ${i.crossing_angle_deg.toFixed(0)}°` : "");
const marginLine = (e) => `margin ${marginText(e.margin_s)}` +
  (e.latest_launch_s != null ? ` (latest launch ${fmtT(e.latest_launch_s)} s)` : "");
// a margin's colour: white at 0 s, full red at -late, full blue at +spare; grey when there is none
function marginColor(m, late, spare) {
  if (marginKind(m) === "none") return COLORS.none;
  const f = Math.min(1, Math.abs(m) / Math.max(m < 0 ? late : spare, 1e-9));
  const a = MARGIN_COLORS.zero, b = m < 0 ? MARGIN_COLORS.late : MARGIN_COLORS.spare;
  const ch = (c, k) => parseInt(c.slice(1 + 2 * k, 3 + 2 * k), 16);
  return "#" + [0, 1, 2].map((k) => Math.round(ch(a, k) + f * (ch(b, k) - ch(a, k))).toString(16).padStart(2, "0")).join("");
}
// the probability of an intercept (an [uncertainty] run): a sequential scale, 0 .. 1 (viridis' stops)
const PROB_STOPS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];
function probColor(p) {
  if (p == null) return COLORS.none;
  const x = Math.max(0, Math.min(1, p)) * (PROB_STOPS.length - 1), k = Math.min(PROB_STOPS.length - 2, Math.floor(x)), f = x - k;
  const ch = (c, i) => parseInt(c.slice(1 + 2 * i, 3 + 2 * i), 16);
  return "#" + [0, 1, 2].map((i) => Math.round(ch(PROB_STOPS[k], i) + f * (ch(PROB_STOPS[k + 1], i) - ch(PROB_STOPS[k], i)))
    .toString(16).padStart(2, "0")).join("");
}
/** "P(intercept) 0.62 [0.58, 0.66], deciding: key" of one battery's record in the uncertainty document. */
function probText(b) {
  if (!b) return "";
  if (b.probability == null) return "P(intercept) — (not computed in any sample)";
  const ci = b.probability_interval;
  return `P(intercept) ${b.probability.toFixed(2)}` + (ci ? ` [${ci[0].toFixed(2)}, ${ci[1].toFixed(2)}]` : "") +
    (b.deciding ? `, deciding: ${b.deciding}` : b.samples_with_margin === 0 ? ", no sample has a margin" : "");
}
/** The uncertainty record of a threat (by name) or of coverage pair (launch li, aim a); null when there is none. */
function uncRecord(threat, li, a) {
  const u = S.uncertainty;
  if (!u) return null;
  if (threat != null) return (u.threats || []).find((t) => t.name === threat) || null;
  if (!u.pairs || !u.layout) return null;
  return u.pairs[li * u.layout.n_aim + a] || null;
}
const uncBattery = (rec, battery) => (rec ? rec.batteries.find((b) => b.battery === battery) : null);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

/* ------------------------------------------------------------------------------------------ state */
const S = {
  examples: [], name: null, summary: null, tomlDirty: true, fitNext: true, refLon: 0,
  runSeq: 0, trackLines: {}, engage: null, geometry: null, coverage: null, uncertainty: null, batteryColor: {},
};

function setState(state, text) {
  document.body.dataset.state = state;
  if (text !== undefined) $("status-text").textContent = text;
  $("run").disabled = state === "running" || state === "loading";
}
function setProgress(frac) {
  const p = $("progress");
  if (frac == null) { p.hidden = true; return; }
  p.hidden = false; p.value = frac;
}
function showErrors(messages) {
  const box = $("errors");
  box.replaceChildren();
  if (!messages || !messages.length) { box.hidden = true; return; }
  box.append(el("strong", { text: messages.length > 1 ? "Errors:" : "Error:" }));
  const ul = el("ul");
  for (const m of messages) ul.append(el("li", { text: m }));
  box.append(ul);
  box.hidden = false;
}

class ApiError extends Error {
  constructor(status, messages) { super(messages.join("; ")); this.status = status; this.messages = messages; }
}
async function api(method, url, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) { opt.headers["Content-Type"] = "application/json"; opt.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(url, opt); } catch (e) { throw new ApiError(0, [`cannot reach the server (${e.message})`]); }
  const type = r.headers.get("content-type") || "";
  const data = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok) {
    const msgs = data && data.errors ? data.errors : [`${r.status} ${r.statusText}`];
    throw new ApiError(r.status, msgs);
  }
  return data;
}

/* ------------------------------------------------------------------------------------------ map */
const map = L.map("map", { minZoom: 1, maxZoom: 9, zoomSnap: 0.25, worldCopyJump: false, preferCanvas: false });
map.attributionControl.setPrefix("Leaflet");
map.attributionControl.addAttribution("Natural Earth (public domain)");
L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
for (const [name, z] of [["basemap", 200], ["radarcov", 300], ["coveragegrid", 350], ["windows", 390]]) {
  map.createPane(name).style.zIndex = z;
}
map.getPane("basemap").style.pointerEvents = "none";
map.getPane("radarcov").style.pointerEvents = "none";
map.setView([45, 0], 2);

const layers = {
  radar: L.layerGroup().addTo(map),
  coverage: L.layerGroup().addTo(map),
  tracks: L.layerGroup().addTo(map),
  intercepts: L.layerGroup().addTo(map),
  sites: L.layerGroup().addTo(map),
};
L.control.layers(null, {
  "Radar coverage": layers.radar, "Coverage grid": layers.coverage, "Threat tracks": layers.tracks,
  "Intercepts & detections": layers.intercepts, "Sites": layers.sites,
}, { collapsed: true, position: "topright" }).addTo(map);

/** The longitude lon + 360 k nearest to ref. */
function near(lon, ref) { return lon + 360 * Math.round((ref - lon) / 360); }

async function loadBasemap() {
  const data = await api("GET", "/data/ne_110m_countries.geojson");
  // country polygons cut at +-180 and closed along the South Pole: fill without edges, then draw
  // the borders/coasts leaving those artificial edges out
  const art = (a, b) => (Math.abs(a[0]) >= 179.999 && a[0] === b[0]) || (a[1] <= -89.99 && b[1] <= -89.99);
  const lines = [];
  for (const f of data.features) {
    const g = f.geometry;
    const polys = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
    for (const poly of polys) for (const ring of poly) {
      let cur = [];
      for (let i = 1; i < ring.length; i++) {
        if (art(ring[i - 1], ring[i])) { if (cur.length > 1) lines.push(cur); cur = []; continue; }
        if (!cur.length) cur.push(ring[i - 1]);
        cur.push(ring[i]);
      }
      if (cur.length > 1) lines.push(cur);
    }
  }
  for (const shift of [-360, 0, 360]) {
    L.geoJSON(data, {
      pane: "basemap", interactive: false,
      style: { stroke: false, fillColor: COLORS.land, fillOpacity: 1 },
      coordsToLatLng: (c) => L.latLng(c[1], c[0] + shift),
    }).addTo(map);
    L.polyline(lines.map((l) => l.map((c) => [c[1], c[0] + shift])), {
      pane: "basemap", interactive: false, color: COLORS.border, weight: 0.7, opacity: 1,
    }).addTo(map);
  }
}

function divMarker(lat, lon, cls, size, title) {
  const m = L.marker([lat, lon], {
    icon: L.divIcon({ className: cls, html: '<span class="sym"></span>', iconSize: size, iconAnchor: [size[0] / 2, size[1] / 2] }),
    keyboard: false, title: title || "",
  });
  return m;
}

/* ------------------------------------------------------------------------------------------ legend */
const legend = L.control({ position: "bottomright" });
legend.onAdd = () => {
  const d = el("details", { class: "legend", open: true });
  d.append(el("summary", { text: "Legend" }), el("div", { id: "legend" }));
  L.DomEvent.disableClickPropagation(d);
  L.DomEvent.disableScrollPropagation(d);
  return d;
};
legend.addTo(map);
function legendItem(sw, text) {
  return el("div", { class: "item" }, sw, el("span", { text }));
}
function swLine(color, cls = "") { const s = el("span", { class: "sw" }); const l = el("span", { class: "line " + cls }); l.style.borderTopColor = color; s.append(l); return s; }
function swBox(color, opacity = 1, border) {
  const s = el("span", { class: "sw" }); const b = el("span", { class: "box" });
  b.style.background = color; b.style.opacity = opacity; if (border) b.style.borderColor = border; s.append(b); return s;
}
function swSym(cls) { const s = el("span", { class: "sw " + cls }); s.append(el("span", { class: "sym" })); return s; }
function drawLegend() {
  const lg = $("legend");
  if (!lg) return;
  lg.replaceChildren();
  if (S.engage && S.engage.threats.length) lg.append(
    legendItem(swLine(COLORS.powered), "powered flight (boost)"),
    legendItem(swLine(COLORS.free, "thin"), "free flight (ballistic)"),
    legendItem(swBox(COLORS.window, 0.5), "intercept window (first → last)"),
    legendItem(swSym("sw-intercept"), "first intercept (◇ small: last)"),
    legendItem(swLine(COLORS.window, "thin dash"), "interceptor flyout"),
    legendItem(swSym("sw-detection"), "first detection by a radar"),
    legendItem(swSym("sw-impact"), "impact / aim point"),
  );
  lg.append(
    legendItem(swSym("sw-launch"), "threat launch point"),
    legendItem(swSym("sw-battery"), "interceptor battery"),
    legendItem(swSym("sw-radar"), "radar"),
  );
  const alts = S.geometry ? S.geometry.ref_altitudes_km : [];
  alts.forEach((h, i) => lg.append(legendItem(swLine(COLORS.radar, RADAR_DASH[i] ? "thin dash" : "thin"),
    `radar sees targets at ${h} km`)));
  if (S.coverage && S.probBattery) {
    lg.append(el("h4", { text: `Aim points: P(intercept) by ${S.probBattery}` }));
    for (const p of [0, 0.25, 0.5, 0.75, 1]) lg.append(legendItem(swBox(probColor(p), 0.75), p.toFixed(2)));
    lg.append(legendItem(swBox(COLORS.error, 0.8, "#868e96"), "out of the missile's reach"));
  } else if (S.coverage && S.marginScale) {
    const { battery, late, spare } = S.marginScale;
    lg.append(el("h4", { text: `Aim points: margin of ${battery}` }));
    if (late) lg.append(legendItem(swBox(MARGIN_COLORS.late, 0.75), marginText(-late)));
    lg.append(legendItem(swBox(MARGIN_COLORS.zero, 0.75), `${marginText(0)} (just in time)`));
    if (spare) lg.append(legendItem(swBox(MARGIN_COLORS.spare, 0.75), marginText(spare)));
    lg.append(legendItem(swBox(COLORS.none, 0.5), `${NO_MARGIN}: no margin`));
    lg.append(legendItem(swBox(COLORS.error, 0.8, "#868e96"), "out of the missile's reach"));
  } else if (S.coverage) {
    lg.append(el("h4", { text: "Aim points engageable by" }));
    for (const b of S.coverage.batteries) lg.append(legendItem(swBox(S.batteryColor[b], 0.75), `${b} only`));
    if (S.coverage.batteries.length > 1) lg.append(legendItem(swBox(COLORS.several, 0.75), "two or more batteries"));
    lg.append(legendItem(swBox(COLORS.none, 0.5), "no battery"));
    lg.append(legendItem(swBox(COLORS.error, 0.8, "#868e96"), "out of the missile's reach"));
  }
}
drawLegend();

/* ------------------------------------------------------------------------------------------ panel */
function paramRow(labelText, input, unit, title) {
  const id = input.id;
  return el("div", { class: "row", title: title || "" }, el("label", { htmlFor: id, text: labelText }), input,
    unit != null ? el("span", { class: "unit", text: unit }) : null);
}
function numInput(id, value, step, min, max) {
  const i = el("input", { type: "number", id, step: String(step), value: String(+value.toFixed(6)) });
  if (min != null) i.min = String(min);
  if (max != null) i.max = String(max);
  i.dataset.default = String(value);
  i.addEventListener("input", markChanged);
  return i;
}
function selInput(id, options, value) {
  const s = el("select", { id });
  for (const [v, t] of options) s.append(el("option", { value: v, text: t }));
  s.value = value;
  s.dataset.default = value;
  s.addEventListener("change", markChanged);
  return s;
}
function isChanged(input) {
  if (input.type === "number") {
    const v = parseFloat(input.value), d = parseFloat(input.dataset.default);
    return !(Number.isFinite(v) && Math.abs(v - d) <= 1e-9 * Math.max(1, Math.abs(d)));
  }
  return input.value !== input.dataset.default;
}
function markChanged(ev) {
  const i = ev.target;
  i.classList.toggle("changed", isChanged(i));
  if (i.id === "ovr-trajectory") $("ovr-gamma-row").hidden = i.value !== "gamma";
}

function buildPanel(sm, keep) {
  $("scenario-title").textContent = sm.name;
  const box = (id, title, rows) => {
    const d = $(id);
    d.replaceChildren();
    if (rows.length) d.append(el("h3", { text: title }), ...rows);
  };
  box("params-interceptors", "Interceptor types", sm.interceptors.map((it) =>
    paramRow(`${it.name} burnout speed`, numInput(`ovr-interceptor-speed-${it.name}`, it.burnout_speed_km_s, 0.1, 0.1, 11), "km/s")));
  box("params-batteries", "Batteries: launch delay, cue", sm.batteries.map((b) => {
    const row = paramRow(`${b.name}`, numInput(`ovr-battery-delay-${b.name}`, b.launch_delay_s, 10, 0, 86400), "s",
      `${b.name} (${b.interceptor}): launch delay after the cue, and the cue (first radar track, or the threat's launch)`);
    const cue = selInput(`ovr-battery-cue-${b.name}`, [["track", "track"], ["launch", "launch"]], b.cue);
    cue.style.width = "78px";
    cue.title = "cue: the first radar track, or the threat's launch";
    row.insertBefore(cue, row.lastChild);
    return row;
  }));
  box("params-sensors", "Radars", sm.sensors.map((s) =>
    paramRow(`${s.name} max range`, numInput(`ovr-sensor-range-${s.name}`, s.max_range_km, 100, 1, 40000), "km")));
  const aimed = sm.threats.some((t) => t.aimed) || sm.coverage;
  const trajRows = [];
  if (aimed) {
    trajRows.push(paramRow("trajectory (all threats)", selInput("ovr-trajectory", [["", "as in file"], ["min-energy", "min-energy"],
      ["lofted", "lofted"], ["depressed", "depressed"], ["gamma", "γ at burnout…"]], ""), "",
      "Trajectory of every aimed threat (and of the [coverage] pairs)"));
    const g = paramRow("burnout flight-path angle γ", numInput("ovr-gamma", 25, 1, 1, 89), "deg");
    g.id = "ovr-gamma-row";
    g.hidden = true;
    trajRows.push(g);
  }
  box("params-threats", "Threats", trajRows);
  if (keep) {  // the user's edits survive a reload of the same scenario's panel
    for (const [id, v] of Object.entries(keep)) {
      const i = $(id);
      if (i) { i.value = v; i.classList.toggle("changed", isChanged(i)); }
    }
    if ($("ovr-trajectory")) $("ovr-gamma-row").hidden = $("ovr-trajectory").value !== "gamma";
  }
}
function panelValues() {
  const out = {};
  for (const i of document.querySelectorAll("#params input, #params select")) if (i.id.startsWith("ovr-")) out[i.id] = i.value;
  return out;
}
function numOrRaw(v) { const x = Number(v); return v.trim() !== "" && Number.isFinite(x) ? x : v; }

function overrides() {
  const sm = S.summary, o = {};
  const put = (sec, name, key, val) => { ((o[sec] = o[sec] || {})[name] = o[sec][name] || {})[key] = val; };
  for (const it of sm.interceptors) {
    const i = $(`ovr-interceptor-speed-${it.name}`);
    if (i && isChanged(i)) put("interceptors", it.name, "burnout_speed_km_s", numOrRaw(i.value));
  }
  for (const b of sm.batteries) {
    const d = $(`ovr-battery-delay-${b.name}`), c = $(`ovr-battery-cue-${b.name}`);
    if (d && isChanged(d)) put("batteries", b.name, "launch_delay_s", numOrRaw(d.value));
    if (c && isChanged(c)) put("batteries", b.name, "cue", c.value);
  }
  for (const s of sm.sensors) {
    const i = $(`ovr-sensor-range-${s.name}`);
    if (i && isChanged(i)) put("sensors", s.name, "max_range_km", numOrRaw(i.value));
  }
  const tr = $("ovr-trajectory");
  if (tr && tr.value) o.trajectory = tr.value === "gamma" ? { gamma_deg: numOrRaw($("ovr-gamma").value) } : tr.value;
  return o;
}
function refAltitudes() {
  const parts = $("ref-alts").value.split(/[,\s]+/).filter(Boolean);
  return parts.map((p) => numOrRaw(p));
}

/* ------------------------------------------------------------------------------------------ run */
function currentFile() {
  const ex = S.examples.find((e) => e.name === S.name);
  return ex ? ex.file : "scenario.toml";
}

async function run() {
  const seq = ++S.runSeq;
  const stale = () => seq !== S.runSeq;
  setState("running", "checking the scenario…");
  setProgress(null);
  showErrors(null);
  const t0 = performance.now();
  try {
    const toml = $("toml").value;
    if (S.tomlDirty || !S.summary) {
      const keep = S.summary ? panelValues() : null;
      const sm = await api("POST", "/api/scenario", { scenario_toml: toml, filename: currentFile() });
      if (stale()) return;
      S.summary = sm;
      S.tomlDirty = false;
      buildPanel(sm, keep);
    }
    const body = { scenario_toml: toml, filename: currentFile(), overrides: overrides() };
    const sm = S.summary;
    const nThreats = sm.threats.length;
    setState("running", nThreats ? `engaging ${nThreats} threat${nThreats > 1 ? "s" : ""}…` : "computing geometry…");
    const geoP = api("POST", "/api/geometry", { ...body, ref_altitudes_km: refAltitudes() });
    const engP = nThreats ? api("POST", "/api/engage", body) : Promise.resolve(null);
    const [geo, eng] = await Promise.all([geoP, engP]);
    if (stale()) return;
    S.geometry = geo;
    S.engage = eng;
    if (eng && eng.reason_text) Object.assign(REASON_TEXT, eng.reason_text);
    let cov = null;
    if (sm.coverage) cov = await runCoverage(body, sm.coverage.n_pairs, stale);
    if (stale()) return;
    S.coverage = cov;
    let unc = null;
    if (sm.uncertainty) {  // computed on the server with its sample caps; the answer says how many
      setState("running", `uncertainty: sampling ${sm.uncertainty.varied.length} varied value` +
        `${sm.uncertainty.varied.length > 1 ? "s" : ""}…`);
      setProgress(null);
      unc = await api("POST", "/api/uncertainty", body);
      if (stale()) return;
    }
    S.uncertainty = unc;
    draw();
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    setProgress(null);
    setState("ready", `done in ${secs} s`);
  } catch (e) {
    if (stale()) return;
    setProgress(null);
    showErrors(e instanceof ApiError ? e.messages : [String(e && e.stack || e)]);
    setState("error", e instanceof ApiError ? `failed (${e.status || "no answer"})` : "failed");
    if (!(e instanceof ApiError)) console.error(e);
  } finally {
    if (!stale()) document.body.dataset.run = String(seq);
  }
}

async function runCoverage(body, nPairs, stale) {
  setState("running", `coverage: ${nPairs} pairs queued…`);
  setProgress(0);
  let job = await api("POST", "/api/coverage/jobs", body);
  while (job.state === "queued" || job.state === "running") {
    await new Promise((r) => setTimeout(r, 400));
    if (stale()) return null;
    job = await api("GET", `/api/coverage/jobs/${job.job}`);
    const frac = job.total_pairs ? job.done_pairs / job.total_pairs : 0;
    setProgress(frac);
    setState("running", job.done_pairs
      ? `coverage: ${job.done_pairs}/${job.total_pairs} pairs (${job.elapsed_s.toFixed(0)} s)`
      : `coverage: preparing ${job.total_pairs} pairs (${job.elapsed_s.toFixed(0)} s)…`);
  }
  if (job.state === "error") throw new ApiError(500, job.errors);
  if (job.result && job.result.reason_text) Object.assign(REASON_TEXT, job.result.reason_text);
  return job.result;
}

/* ------------------------------------------------------------------------------------------ drawing */
function circularMeanLon(lons) {
  if (!lons.length) return 0;
  let x = 0, y = 0;
  for (const l of lons) { x += Math.cos(l * Math.PI / 180); y += Math.sin(l * Math.PI / 180); }
  return Math.atan2(y, x) * 180 / Math.PI;
}

function draw() {
  for (const g of Object.values(layers)) g.clearLayers();
  const geo = S.geometry, eng = S.engage, cov = S.coverage;
  const anchors = [];
  for (const f of geo.features) if (f.geometry.type === "Point") anchors.push(f.geometry.coordinates[0]);
  if (eng) for (const t of eng.threats) if (t.launch) anchors.push(t.launch.lon_deg);
  if (cov) for (const l of cov.launch) anchors.push(l.lon_deg);
  if (S.fitNext) S.refLon = circularMeanLon(anchors);
  const ref = S.refLon;
  const bounds = L.latLngBounds([]);

  S.batteryColor = {};
  (S.summary.batteries || []).forEach((b, i) => { S.batteryColor[b.name] = BATTERY_COLORS[i % BATTERY_COLORS.length]; });

  // radar coverage outlines, at three world copies (a ring around a pole spans 360 deg of longitude)
  const alts = geo.ref_altitudes_km;
  for (const f of geo.features) {
    if (f.properties.kind !== "radar-coverage") continue;
    const ring = f.geometry.coordinates[0];
    const k = Math.max(0, alts.indexOf(f.properties.ref_altitude_km));
    const base = near(ring[0][0], ref) - ring[0][0];
    const style = { color: COLORS.radar, weight: k ? 1.2 : 1.6, opacity: k ? 0.75 : 0.9, dashArray: RADAR_DASH[k % RADAR_DASH.length] };
    // the outline leaves out the edges that close a ring along a pole (they are not coverage limits)
    const outline = [];
    let cur = [];
    for (let i = 1; i < ring.length; i++) {
      if (Math.abs(ring[i - 1][1]) >= 89.999 || Math.abs(ring[i][1]) >= 89.999) { if (cur.length > 1) outline.push(cur); cur = []; continue; }
      if (!cur.length) cur.push(ring[i - 1]);
      cur.push(ring[i]);
    }
    if (cur.length > 1) outline.push(cur);
    for (const copy of [-360, 0, 360]) {
      const sh = base + copy;
      L.polygon(ring.map((c) => [c[1], c[0] + sh]), {
        pane: "radarcov", interactive: false, stroke: false, fillColor: COLORS.radarFill, fillOpacity: k ? 0.04 : 0.09,
        className: "radar-coverage",
      }).addTo(layers.radar);
      L.polyline(outline.map((l) => l.map((c) => [c[1], c[0] + sh])), { pane: "radarcov", interactive: false, ...style })
        .addTo(layers.radar);
    }
  }

  // sites: radars, batteries (grouped by site), coverage launch points
  const bySite = new Map();
  for (const f of geo.features) {
    const p = f.properties, [lon, lat] = f.geometry.coordinates;
    if (p.kind === "radar") {
      const m = divMarker(lat, near(lon, ref), "radar-marker", [14, 14], p.name);
      m.bindTooltip(esc(p.name), { permanent: true, direction: "left", offset: [-7, 0], className: "site-label" });
      m.bindPopup(`<b>radar ${esc(p.name)}</b><br>max range ${p.max_range_km} km, min elevation ${p.min_elevation_deg}°` +
        (p.sector ? `<br>sector ${p.sector.center_deg}° ± ${p.sector.half_width_deg}°` : "<br>all round"));
      m.addTo(layers.sites);
      bounds.extend([lat, near(lon, ref)]);
    } else if (p.kind === "battery") {
      const key = `${lat.toFixed(4)},${lon.toFixed(4)}`;
      if (!bySite.has(key)) bySite.set(key, { lat, lon, items: [] });
      bySite.get(key).items.push(p);
    } else if (p.kind === "launch") {
      const m = divMarker(lat, near(lon, ref), "launch-marker", [14, 12], p.name);
      m.bindTooltip(`launch point ${esc(p.name)}`, { permanent: true, direction: "right", offset: [7, 0], className: "site-label" });
      m.addTo(layers.sites);
      bounds.extend([lat, near(lon, ref)]);
    }
  }
  for (const s of bySite.values()) {
    const names = s.items.map((p) => p.name).join(", ");
    const m = divMarker(s.lat, near(s.lon, ref), "battery-marker", [16, 16], names);
    m.bindTooltip(esc(names), { permanent: true, direction: "bottom", offset: [0, 6], className: "site-label" });
    m.bindPopup(s.items.map((p) => `<b>${esc(p.name)}</b>: ${esc(p.interceptor)}, ${p.burnout_speed_km_s} km/s, ` +
      `band ${p.min_altitude_km}–${p.max_altitude_km ?? "∞"} km, delay ${p.launch_delay_s} s after ${p.cue === "track" ? "first track" : "launch"}`).join("<br>"));
    m.addTo(layers.sites);
    bounds.extend([s.lat, near(s.lon, ref)]);
  }

  if (eng) drawEngagement(eng, ref, bounds);
  drawCoverage();
  if (cov) for (let i = 0; i < cov.aim.lat_deg.length; i++) bounds.extend([cov.aim.lat_deg[i], near(cov.aim.lon_deg[i], ref)]);
  renderResults();
  drawLegend();
  if (S.fitNext && bounds.isValid()) { map.fitBounds(bounds, { paddingTopLeft: [30, 30], paddingBottomRight: [240, 30], animate: false }); S.fitNext = false; }
}

function siteOf(battery) {
  const f = S.geometry.features.find((x) => x.properties.kind === "battery" && x.properties.name === battery);
  return f ? f.geometry.coordinates : null;
}

function drawEngagement(eng, ref, bounds) {
  S.trackLines = {};
  eng.threats.forEach((t, ti) => {
    const tr = eng.tracks[ti];
    if (!tr || !tr.points.length) return;
    const shift = near(tr.points[0].lon_deg, ref) - tr.points[0].lon_deg;
    const P = tr.points.map((p) => ({ ...p, lon: p.lon_deg + shift }));
    const ll = (p) => [p.lat_deg, p.lon];
    const lonAt = (lon) => near(lon, P[0].lon + (P[P.length - 1].lon - P[0].lon) / 2);
    // intercept windows under the track
    t.engagements.forEach((e) => {
      if (!e.feasible || !e.first_intercept) return;
      const a = e.first_intercept, b = e.last_intercept;
      const seg = [[a.lat_deg, lonAt(a.lon_deg)]];
      for (const p of P) if (p.time_s > a.time_s && p.time_s < b.time_s) seg.push(ll(p));
      seg.push([b.lat_deg, lonAt(b.lon_deg)]);
      L.polyline(seg, { pane: "windows", color: COLORS.window, weight: 11, opacity: 0.42, lineCap: "butt",
        className: "intercept-window" })
        .bindTooltip(`${esc(t.name)} × ${esc(e.battery)}: intercept window ${fmtT(a.time_s)}–${fmtT(b.time_s)} s<br>${esc(marginLine(e))}`, { sticky: true })
        .addTo(layers.intercepts);
      const site = siteOf(e.battery);
      if (site) {
        L.polyline([[site[1], near(site[0], ref)], [a.lat_deg, lonAt(a.lon_deg)]], {
          color: COLORS.window, weight: 1.5, dashArray: "5 5", opacity: 0.9, interactive: false, className: "flyout-line",
        }).addTo(layers.intercepts);
      }
      const first = divMarker(a.lat_deg, lonAt(a.lon_deg), "intercept-marker", [16, 16], `${t.name} × ${e.battery}`);
      first.bindPopup(`<b>first intercept</b> of ${esc(t.name)} by ${esc(e.battery)}<br>t = ${fmtT(a.time_s)} s, ` +
        `altitude ${a.altitude_km.toFixed(0)} km<br>interceptor launch ${fmtT(a.interceptor_launch_s)} s, flyout ${fmtT(a.flyout_time_s)} s` +
        `<br>${esc(fmtGeom(a))}<br>${esc(marginLine(e))}` +
        (uncRecord(t.name) ? `<br>${esc(probText(uncBattery(uncRecord(t.name), e.battery)))}` : ""));
      first.setZIndexOffset(1000).addTo(layers.intercepts);
      const last = divMarker(b.lat_deg, lonAt(b.lon_deg), "intercept-marker last", [12, 12], `${t.name} × ${e.battery} (last)`);
      last.bindPopup(`<b>last intercept</b> of ${esc(t.name)} by ${esc(e.battery)}<br>t = ${fmtT(b.time_s)} s, altitude ${b.altitude_km.toFixed(0)} km` +
        `<br>${esc(fmtGeom(b))}<br>interceptor launch ${fmtT(b.interceptor_launch_s)} s (the latest that still intercepts)`);
      last.addTo(layers.intercepts);
    });
    // the track, coloured by phase (the burnout point belongs to both)
    const powered = P.filter((p) => p.phase === "powered");
    const free = P.filter((p) => p.phase === "free");
    if (powered.length) free.unshift(powered[powered.length - 1]);
    const tip = (ev, line) => {
      let best = null, bd = Infinity;
      for (const p of P) {
        const d = (p.lat_deg - ev.latlng.lat) ** 2 + (p.lon - ev.latlng.lng) ** 2;
        if (d < bd) { bd = d; best = p; }
      }
      line.setTooltipContent(`<b>${esc(t.name)}</b><br>t = ${fmtT(best.time_s)} s, ${best.phase === "powered" ? "powered" : "free flight"}, ` +
        `altitude ${best.altitude_km.toFixed(0)} km`);
    };
    for (const [pts, color, w, cls] of [[free, COLORS.free, 2.6, "track-free"], [powered, COLORS.powered, 4.5, "track-powered"]]) {
      if (pts.length < 2) continue;
      const line = L.polyline(pts.map(ll), { color, weight: w, opacity: 0.95, className: `threat-track ${cls}` });
      line.bindTooltip(esc(t.name), { sticky: true });
      line.on("mousemove", (ev) => tip(ev, line));
      line.addTo(layers.tracks);
      (S.trackLines[t.name] = S.trackLines[t.name] || []).push([line, w]);
    }
    for (const p of P) bounds.extend(ll(p));
    // launch, impact, detections
    const L0 = P[0], L1 = P[P.length - 1];
    divMarker(L0.lat_deg, L0.lon, "launch-marker", [14, 12], `${t.name}: launch`)
      .bindTooltip(`${esc(t.name)}: launch ${fmtLL(t.launch.lat_deg, t.launch.lon_deg)}`).addTo(layers.tracks);
    divMarker(L1.lat_deg, L1.lon, "impact-marker", [14, 14], `${t.name}: impact`)
      .bindTooltip(`${esc(t.name)}: impact at ${fmtT(t.impact.time_s)} s, ${fmtLL(t.impact.lat_deg, t.impact.lon_deg)}`).addTo(layers.tracks);
    for (const d of tr.detections) {
      divMarker(d.lat_deg, lonAt(d.lon_deg), "detection-marker", [14, 14], `${t.name}: detected by ${d.sensor}`)
        .bindTooltip(`${esc(t.name)}: first seen by ${esc(d.sensor)} at ${fmtT(d.time_s)} s, altitude ${d.altitude_km.toFixed(0)} km`)
        .addTo(layers.intercepts);
    }
  });
}

function drawCoverage() {
  layers.coverage.clearLayers();
  const cov = S.coverage, box = $("coverage-box");
  if (!cov) { box.hidden = true; S.marginScale = null; return; }
  box.hidden = false;
  const sel = $("coverage-launch");
  const names = cov.launch.map((l) => l.name);
  if ([...sel.options].map((o) => o.value).join("|") !== names.map((_, i) => String(i)).join("|")) {
    sel.replaceChildren(...names.map((n, i) => el("option", { value: String(i), text: n })));
  }
  const li = Math.min(+sel.value || 0, cov.launch.length - 1);
  const csel = $("coverage-color");
  const withP = !!(S.uncertainty && S.uncertainty.pairs && S.uncertainty.layout);
  const copts = ["", ...cov.batteries.map((_, j) => String(j)), ...(withP ? cov.batteries.map((_, j) => `p${j}`) : [])];
  if ([...csel.options].map((o) => o.value).join("|") !== copts.join("|")) {
    const keep = csel.value;
    csel.replaceChildren(el("option", { value: "", text: "batteries that engage" }),
      ...cov.batteries.map((b, j) => el("option", { value: String(j), text: `margin of ${b}` })),
      ...(withP ? cov.batteries.map((b, j) => el("option", { value: `p${j}`, text: `P(intercept) of ${b}` })) : []));
    csel.value = copts.includes(keep) ? keep : "";
  }
  const pj = csel.value.startsWith("p") ? +csel.value.slice(1) : null;  // colour by this battery's probability
  S.probBattery = pj == null ? null : cov.batteries[pj];
  const mj = csel.value === "" || pj != null ? null : +csel.value;  // colour by this battery's margin
  let late = 0, spare = 0;
  if (mj != null) for (const row of cov.margin_s[li]) {
    const m = row[mj];
    if (m != null) { if (m < 0) late = Math.max(late, -m); else spare = Math.max(spare, m); }
  }
  S.marginScale = mj == null ? null : { battery: cov.batteries[mj], late, spare };
  const ref = S.refLon, nb = cov.batteries.length;
  const counts = new Array(nb).fill(0);
  let any = 0, reach = 0;
  const step = cov.grid ? cov.grid.step_deg : null;
  for (let a = 0; a < cov.aim.lat_deg.length; a++) {
    const lat = cov.aim.lat_deg[a], lon = near(cov.aim.lon_deg[a], ref);
    const feas = cov.feasible[li][a], err = cov.error[li][a];
    const who = cov.batteries.filter((_, j) => feas[j]);
    who.forEach((b) => counts[cov.batteries.indexOf(b)]++);
    if (!err) reach++;
    if (who.length) any++;
    const urec = uncRecord(null, li, a);
    const pOf = (j) => { const b = uncBattery(urec, cov.batteries[j]); return b ? b.probability : null; };
    const color = err ? COLORS.error : pj != null ? probColor(pOf(pj)) : mj != null ? marginColor(cov.margin_s[li][a][mj], late, spare)
      : who.length === 0 ? COLORS.none : who.length === 1 ? S.batteryColor[who[0]] : COLORS.several;
    const shown = pj != null ? pOf(pj) != null : mj != null ? cov.margin_s[li][a][mj] != null : who.length;
    const opt = { pane: "coveragegrid", color: "#495057", weight: 0.3, fillColor: color, fillOpacity: err ? 0.6 : shown ? 0.62 : 0.35,
                  className: "coverage-cell" };
    const shape = step
      ? L.rectangle([[lat - step / 2, lon - step / 2], [lat + step / 2, lon + step / 2]], opt)
      : L.circleMarker([lat, lon], { ...opt, radius: 7, weight: 1 });
    const lines = cov.batteries.map((b, j) => {
      const m = `margin ${marginText(cov.margin_s[li][a][j])}`;
      const pl = urec ? `<br>&nbsp;&nbsp;${esc(probText(uncBattery(urec, b)))}` : "";
      if (!feas[j]) return `✗ ${esc(b)}: ${esc(REASON_TEXT[cov.reason[li][a][j]] || cov.reason[li][a][j] || "—")}; ${esc(m)}${pl}`;
      const c = cov.first_closing_speed_km_s[li][a][j], x = cov.first_crossing_angle_deg[li][a][j];
      return `✓ ${esc(b)}: first intercept ${fmtT(cov.first_intercept_s[li][a][j])} s, ${esc(m)}, latest launch ` +
        `${fmtT(cov.latest_launch_s[li][a][j])} s` + (c != null ? `; closing ${c.toFixed(2)} km/s at ${x.toFixed(0)}°` : "") + pl;
    });
    shape.bindTooltip(`<b>${esc(names[li])} → ${fmtLL(lat, cov.aim.lon_deg[a])}</b><br>` + (err ? esc(err) : lines.join("<br>")), { sticky: true });
    shape.addTo(layers.coverage);
  }
  const na = cov.aim.lat_deg.length, pct = (k) => `${k}/${na} (${Math.round(100 * k / Math.max(na, 1))}%)`;
  const sm = $("coverage-summary");
  sm.replaceChildren(el("div", { text: `${cov.n_pairs} pairs; from ${names[li]}, aim points engageable by:` }));
  cov.batteries.forEach((b, j) => {
    const d = el("div", { class: "row" }, el("span", { class: "dot" }), el("span", { text: `${b}: ${pct(counts[j])}` }));
    d.firstChild.style.background = S.batteryColor[b];
    d.style.justifyContent = "flex-start";
    sm.append(d);
  });
  sm.append(el("div", { text: `any battery: ${pct(any)}; in the missile's reach: ${pct(reach)}` }));
  if (pj != null) {
    const bar = el("div", { class: "margin-scale" });
    bar.style.background = `linear-gradient(to right, ${PROB_STOPS.join(", ")})`;
    sm.append(el("div", { class: "small", text: `colour: probability that ${cov.batteries[pj]} intercepts (${uncSamples()})` }), bar,
      el("div", { class: "row small" }, el("span", { text: "0" }), el("span", { text: "0.5" }), el("span", { text: "1" })));
  }
  if (mj != null) {
    const bar = el("div", { class: "margin-scale" });
    bar.style.background = `linear-gradient(to right, ${MARGIN_COLORS.late}, ${MARGIN_COLORS.zero}, ${MARGIN_COLORS.spare})`;
    sm.append(el("div", { class: "small", text: `colour: margin of ${cov.batteries[mj]} (latest launch − earliest launch)` }), bar,
      el("div", { class: "row small" }, el("span", { text: late ? marginText(-late) : "" }), el("span", { text: marginText(0) }),
        el("span", { text: spare ? marginText(spare) : "" })),
      el("div", { class: "small", text: "grey: no margin (never in the band, nothing reachable, or no cue)" }));
  }
  drawLegend();
}

/* ------------------------------------------------------------------------------------------ results */
/** "200 samples (of 2000 in the file)": how many samples the page's uncertainty run drew. */
function uncSamples() {
  const u = S.uncertainty;
  if (!u) return "";
  return `${u.samples} samples` + (u.samples_in_file > u.samples ? ` of the file's ${u.samples_in_file}` : "") +
    (u.sensitivity_samples ? `, Sobol N = ${u.sensitivity_samples}` : "");
}
function timelineBar(t, events) {
  const T = t.impact.time_s, W = 340, x = (s) => 6 + (W - 12) * (s - t.launch.time_s) / (T - t.launch.time_s);
  const rows = t.engagements.length;
  const H = 18 + rows * 9;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "bar");
  const add = (tag, attrs, title) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (title) { const ti = document.createElementNS(ns, "title"); ti.textContent = title; e.append(ti); }
    svg.append(e); return e;
  };
  add("rect", { x: x(t.launch.time_s), y: 4, width: x(t.burnout.time_s) - x(t.launch.time_s), height: 7, fill: COLORS.powered }, "powered flight");
  add("rect", { x: x(t.burnout.time_s), y: 5, width: x(T) - x(t.burnout.time_s), height: 5, fill: COLORS.free }, "free flight");
  if (t.apogee) add("line", { x1: x(t.apogee.time_s), x2: x(t.apogee.time_s), y1: 2, y2: 13, stroke: COLORS.free, "stroke-width": 1 }, `apogee ${fmtT(t.apogee.time_s)} s`);
  for (const d of t.detections) if (d.time_s != null)
    add("line", { x1: x(d.time_s), x2: x(d.time_s), y1: 1, y2: 14, stroke: COLORS.detect, "stroke-width": 2 }, `detected by ${d.sensor} at ${fmtT(d.time_s)} s`);
  t.engagements.forEach((e, j) => {
    const y = 17 + j * 9;
    add("line", { x1: x(t.launch.time_s), x2: x(T), y1: y + 3, y2: y + 3, stroke: "#e9ecef", "stroke-width": 5 });
    const kind = marginKind(e.margin_s), xc = (s) => Math.max(1, Math.min(W - 1, x(s)));
    if (kind !== "none") {  // earliest launch t0 -> latest launch L: blue when there is time to spare, red when late
      add("line", { x1: xc(e.earliest_launch_s), x2: xc(e.latest_launch_s), y1: y + 1, y2: y + 1,
        stroke: MARGIN_COLORS[kind], "stroke-width": 2, class: `margin-${kind}` }, `${e.battery}: ${marginLine(e)}`);
      add("line", { x1: xc(e.earliest_launch_s), x2: xc(e.earliest_launch_s), y1: y - 1, y2: y + 7, stroke: "#212529", "stroke-width": 1.2 },
        `${e.battery}: earliest launch t0 ${fmtT(e.earliest_launch_s)} s`);
      add("line", { x1: xc(e.latest_launch_s), x2: xc(e.latest_launch_s), y1: y - 1, y2: y + 7, stroke: MARGIN_COLORS[kind], "stroke-width": 2 },
        `${e.battery}: latest launch L ${fmtT(e.latest_launch_s)} s`);
    }
    if (e.feasible) {
      const a = e.first_intercept, b = e.last_intercept;
      add("line", { x1: x(a.interceptor_launch_s), x2: x(a.time_s), y1: y + 3, y2: y + 3, stroke: "#8ce99a", "stroke-width": 2, "stroke-dasharray": "2 2" },
        `${e.battery}: interceptor launch ${fmtT(a.interceptor_launch_s)} s`);
      add("rect", { x: x(a.time_s), y: y, width: Math.max(2, x(b.time_s) - x(a.time_s)), height: 6, fill: COLORS.window, rx: 1 },
        `${e.battery}: intercept window ${fmtT(a.time_s)}–${fmtT(b.time_s)} s`);
    }
  });
  return svg;
}

function highlight(name, on) {
  for (const [line, w] of (S.trackLines || {})[name] || []) {
    line.setStyle({ weight: on ? w + 3 : w });
    if (on) line.bringToFront();
  }
}

function renderResults() {
  const box = $("results");
  box.replaceChildren();
  const eng = S.engage;
  if (!eng) {
    if (!S.coverage) box.append(el("p", { class: "small", text: "This scenario has no [[threats]]." }));
    return;
  }
  box.append(el("h2", { text: "Results per threat" }));
  eng.threats.forEach((t) => {
    const card = el("div", { class: "threat", "data-threat": t.name });
    card.addEventListener("mouseenter", () => highlight(t.name, true));
    card.addEventListener("mouseleave", () => highlight(t.name, false));
    const feasible = t.engagements.filter((e) => e.feasible);
    const verdict = t.error ? el("span", { class: "verdict err", text: "not computed" })
      : feasible.length ? el("span", { class: "verdict ok", text: `${feasible.length}/${t.engagements.length} can intercept` })
        : el("span", { class: "verdict none", text: "no intercept" });
    card.append(el("h3", {}, el("span", { text: t.name }), verdict));
    if (t.error) {
      card.append(el("div", { class: "reason", text: t.error }));
      box.append(card);
      return;
    }
    card.append(el("div", { class: "meta", text:
      `${t.ground_range_km.toFixed(0)} km, apogee ${t.apogee.altitude_km.toFixed(0)} km, flight ${((t.impact.time_s - t.launch.time_s) / 60).toFixed(1)} min, ` +
      `γ ${t.burnout.gamma_deg.toFixed(1)}°, v ${t.burnout.speed_km_s.toFixed(2)} km/s` }));
    const ev = [];
    ev.push([t.launch.time_s, "launch", `launch ${fmtLL(t.launch.lat_deg, t.launch.lon_deg)}`]);
    ev.push([t.burnout.time_s, "burnout", `burnout, ${t.burnout.altitude_km.toFixed(0)} km, ${t.burnout.speed_km_s.toFixed(2)} km/s`]);
    const dets = t.detections.filter((d) => d.time_s != null).sort((a, b) => a.time_s - b.time_s);
    dets.forEach((d, i) => ev.push([d.time_s, "detect", `${i ? "detected" : "first detection"} by ${d.sensor}`]));
    for (const e of t.engagements) {
      if (!e.feasible) continue;
      const a = e.first_intercept, b = e.last_intercept;
      const wait = a.interceptor_launch_s - e.earliest_launch_s > 0.05 ? ` (could launch from ${fmtT(e.earliest_launch_s)} s)` : "";
      ev.push([a.interceptor_launch_s, "ilaunch", `${e.battery}: interceptor launch${wait}`]);
      ev.push([a.time_s, "intercept", `${e.battery}: first intercept, ${a.altitude_km.toFixed(0)} km altitude`]);
      ev.push([b.time_s, "last", `${e.battery}: last intercept, ${b.altitude_km.toFixed(0)} km`]);
    }
    ev.push([t.impact.time_s, "impact", `impact ${fmtLL(t.impact.lat_deg, t.impact.lon_deg)}`]);
    ev.sort((a, b) => a[0] - b[0]);
    card.append(timelineBar(t, ev));
    const ol = el("ol", { class: "timeline" });
    for (const [time, kind, text] of ev) ol.append(el("li", { class: `k-${kind}` }, el("span", { class: "t", text: `${fmtT(time)} s` }), el("span", { class: "ev", text })));
    card.append(ol);
    const bl = el("ul", { class: "margins" });
    for (const e of t.engagements) {
      const kind = marginKind(e.margin_s);
      const geo = e.feasible ? [fmtGeom(e.first_intercept) && `first intercept: ${fmtGeom(e.first_intercept)}`,
        fmtGeom(e.last_intercept) && `last: ${fmtGeom(e.last_intercept)}`].filter(Boolean).join("; ") : "";
      bl.append(el("li", { class: `margin-${kind}`, "data-battery": e.battery },
        el("span", { class: "b", text: `${e.battery}: ` }), el("span", { class: "m", text: marginText(e.margin_s) }),
        el("span", { class: "small", text: (e.latest_launch_s != null ? ` (latest launch ${fmtT(e.latest_launch_s)} s, ` +
          `earliest ${fmtT(e.earliest_launch_s)} s)` : "") + (geo ? ` — ${geo}` : "") })));
    }
    card.append(bl);
    const urec = uncRecord(t.name);
    if (urec) {
      const ul = el("ul", { class: "probabilities", title: `uncertainty: ${uncSamples()}` });
      for (const b of urec.batteries) ul.append(el("li", { "data-battery": b.battery },
        el("span", { class: "b", text: `${b.battery}: ` }), el("span", { class: "p", text: probText(b) })));
      card.append(el("div", { class: "small", text: `uncertainty (${uncSamples()}):` }), ul);
    }
    const tracked = t.detections.filter((d) => d.time_s != null);
    if (tracked.length) card.append(el("div", { class: "small", text: "tracks: " + tracked.map((d) =>
      `${d.sensor} ${d.track_s == null ? "none" : fmtT(d.track_s) + " s"}`).join(", ") }));
    const never = t.detections.filter((d) => d.time_s == null).map((d) => d.sensor);
    const notes = [];
    if (never.length) notes.push(el("li", { class: "small", text: `never detected by ${never.join(", ")}` }));
    for (const e of t.engagements) if (!e.feasible)
      notes.push(el("li", { class: "reason", text: `${e.battery}: no intercept — ${REASON_TEXT[e.reason] || e.reason}` +
        (e.earliest_launch_s != null ? ` (earliest interceptor launch ${fmtT(e.earliest_launch_s)} s)` : "") }));
    if (notes.length) card.append(el("ul", { class: "reasons" }, ...notes));
    box.append(card);
  });
}

/* ------------------------------------------------------------------------------------------ wiring */
async function loadExample(name) {
  S.name = name;
  setState("loading", `loading ${name}…`);
  showErrors(null);
  try {
    $("toml").value = await api("GET", `/api/examples/${encodeURIComponent(name)}`);
  } catch (e) {
    showErrors(e.messages || [String(e)]);
    setState("error", "failed");
    return;
  }
  S.tomlDirty = true;
  S.summary = null;
  S.fitNext = true;
  S.coverage = null;
  S.uncertainty = null;
  await run();
}

async function init() {
  setState("loading", "loading the base map…");
  try {
    await loadBasemap();
    S.examples = await api("GET", "/api/examples");
  } catch (e) {
    showErrors(e.messages || [String(e)]);
    setState("error", "failed");
    return;
  }
  const sel = $("example");
  for (const ex of S.examples) {
    const label = `${ex.source === "file" ? "▸ " : ""}${ex.name}${ex.has_coverage ? " (coverage)" : ""}` + (ex.error ? " — invalid" : "");
    sel.append(el("option", { value: ex.name, text: label, title: ex.title || ex.error || "" }));
  }
  sel.addEventListener("change", () => loadExample(sel.value));
  $("run").addEventListener("click", run);
  $("toml").addEventListener("input", () => { S.tomlDirty = true; });
  $("reset").addEventListener("click", () => {
    for (const i of document.querySelectorAll("#params [data-default]")) { i.value = i.dataset.default; i.classList.remove("changed"); }
    if ($("ovr-gamma-row")) $("ovr-gamma-row").hidden = true;
  });
  $("coverage-launch").addEventListener("change", () => { drawCoverage(); });
  $("coverage-color").addEventListener("change", () => { drawCoverage(); });
  if (!S.examples.length) { setState("ready", "no example scenarios; paste a scenario into the TOML box and Run"); $("toml-box").open = true; return; }
  const params = new URLSearchParams(location.search);
  const want = params.get("example");
  const first = S.examples.find((e) => e.name === want) || S.examples[0];
  sel.value = first.name;
  await loadExample(first.name);
}

init();
