// The fleet page: clusters on a map (country outlines from the packaged Natural Earth TopoJSON, no tiles),
// a filterable table, and the rollout of the fleet's head revision wave by wave. Everything comes from the
// collector's own API, so what the page counts is what GET /v1/clusters returns.
'use strict';

const STATES = ['ok', 'waiting', 'failed', 'stale', 'silent'];
const COLOURS = { ok: '#2e7d32', waiting: '#f9a825', failed: '#c62828', stale: '#757575', silent: '#b0bec5' };
const TABLE_LIMIT = 500;
const W = 1000, H = 500;

function stateOf(row) {
  if (row.silent) return 'silent';
  if (row.stale) return 'stale';
  const outcome = row.report.outcome;
  if (outcome === 'Failed' || outcome === 'RolledBack' || outcome === 'Invalid' || outcome === 'Refused') return 'failed';
  if (outcome === 'Waiting') return 'waiting';
  return row.report.healthy ? 'ok' : 'failed';
}

const project = (lon, lat) => [((lon + 180) / 360) * W, ((90 - lat) / 180) * H];
const short = (revision) => (revision ? revision.slice(0, 12) : '–');

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

// TopoJSON: arcs are quantized and delta-encoded; a negative index ~i means arc i reversed.
function decodeArcs(topology) {
  const [sx, sy] = topology.transform.scale, [tx, ty] = topology.transform.translate;
  return topology.arcs.map((arc) => {
    let x = 0, y = 0;
    return arc.map(([dx, dy]) => { x += dx; y += dy; return [x * sx + tx, y * sy + ty]; });
  });
}

function ringPath(arcs, indexes) {
  const points = [];
  for (const index of indexes) {
    const arc = index < 0 ? arcs[~index].slice().reverse() : arcs[index];
    points.push(...(points.length ? arc.slice(1) : arc));
  }
  // A ring that crosses the antimeridian jumps across the map: lift the pen there instead of drawing the jump.
  return points.map(([lon, lat], i) => {
    const [x, y] = project(lon, lat);
    const jump = i > 0 && Math.abs(lon - points[i - 1][0]) > 180;
    return `${i && !jump ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
  }).join('') + 'Z';
}

function drawCountries(svg, topology) {
  const arcs = decodeArcs(topology);
  const ns = 'http://www.w3.org/2000/svg';
  for (const geometry of topology.objects.countries.geometries) {
    const polygons = geometry.type === 'Polygon' ? [geometry.arcs] : geometry.type === 'MultiPolygon' ? geometry.arcs : [];
    const d = polygons.map((rings) => rings.map((ring) => ringPath(arcs, ring)).join('')).join('');
    if (!d) continue;
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('class', 'country');
    path.setAttribute('d', d);
    const title = document.createElementNS(ns, 'title');
    title.textContent = geometry.properties?.name ?? '';
    path.appendChild(title);
    svg.appendChild(path);
  }
}

// Cluster dots go into one SVG path per state: cheap for 50,000 clusters, and countable.
function drawClusters(svg, rows) {
  const ns = 'http://www.w3.org/2000/svg';
  let placed = 0;
  for (const state of STATES) {
    const dots = rows.filter((r) => r.state === state && r.lat !== undefined && r.lon !== undefined);
    if (!dots.length) continue;
    const d = dots.map((r) => { const [x, y] = project(r.lon, r.lat); return `M${x.toFixed(1)},${y.toFixed(1)}h0`; }).join('');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('class', `clusters state-${state}`);
    path.setAttribute('data-count', String(dots.length));
    path.setAttribute('d', d);
    path.setAttribute('stroke', COLOURS[state]);
    path.setAttribute('stroke-width', '5');
    path.setAttribute('stroke-linecap', 'round');
    svg.appendChild(path);
    placed += dots.length;
  }
  svg.setAttribute('data-placed', String(placed));
}

function renderCounts(rows) {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const row of rows) counts[row.state]++;
  document.getElementById('count-total').textContent = String(rows.length);
  const target = document.getElementById('state-counts');
  target.replaceChildren(...STATES.map((s) => {
    const span = document.createElement('span');
    span.id = `count-${s}`;
    span.dataset.count = String(counts[s]);
    span.innerHTML = `<i class="dot" style="background:${COLOURS[s]}"></i>${s} <strong>${counts[s]}</strong>`;
    return span;
  }));
  const select = document.getElementById('filter-state');
  for (const s of STATES) select.add(new Option(`${s} (${counts[s]})`, s));
}

function renderTable(rows) {
  const text = document.getElementById('filter-text').value.trim();
  const state = document.getElementById('filter-state').value;
  const [key, value] = text.includes('=') ? text.split('=', 2) : [null, null];
  const shown = rows.filter((r) => (!state || r.state === state)
    && (!text || (key !== null ? r.labels?.[key.trim()] === value.trim() : r.cluster.includes(text))));
  const body = document.getElementById('clusters');
  body.replaceChildren(...shown.slice(0, TABLE_LIMIT).map((r) => {
    const tr = document.createElement('tr');
    tr.className = `cluster-row state-${r.state}`;
    tr.dataset.cluster = r.cluster;
    const cells = [r.cluster, r.state, r.wave, short(r.report?.applied), r.receivedAt ? new Date(r.receivedAt).toISOString().replace('.000', '') : 'never', r.report?.message ?? ''];
    cells.forEach((text, i) => { const td = document.createElement('td'); td.textContent = text; if (i === 5) td.className = 'message'; tr.appendChild(td); });
    return tr;
  }));
  document.getElementById('count-shown').textContent = shown.length > TABLE_LIMIT ? `${TABLE_LIMIT} of ${shown.length}` : String(shown.length);
}

function renderRollout(rollout) {
  document.getElementById('rollout-revision').textContent = short(rollout.revision);
  document.getElementById('rollout-halted').textContent = rollout.halted ? `halted: ${rollout.haltReason ?? ''}` : '';
  const waves = document.getElementById('waves');
  waves.replaceChildren(...(rollout.waves ?? []).map((w) => {
    const div = document.createElement('div');
    div.className = `wave gate-${w.gate}`;
    div.dataset.wave = w.name;
    const total = w.total || 0, part = (n) => (total ? (100 * (n || 0)) / total : 0);
    // The wave's name is the fleet repo's text: set as text, never parsed as markup. The rest is numbers.
    const title = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = w.name;
    const gate = document.createElement('span');
    gate.className = 'gate';
    gate.textContent = w.gate;
    title.append(name, ' ', gate);
    div.innerHTML = `<div class="bar"><i style="width:${part(w.healthy)}%;background:${COLOURS.ok}"></i><i style="width:${part(w.waiting)}%;background:${COLOURS.waiting}"></i><i style="width:${part(w.failed)}%;background:${COLOURS.failed}"></i></div>
      <div>${w.healthy || 0}/${total} healthy · ${w.applied || 0} applied · ${w.failed || 0} failed · ${w.waiting || 0} waiting</div>`;
    div.prepend(title);
    return div;
  }));
}

async function main() {
  try {
    const [fleet, rows, topology] = await Promise.all([getJson('v1/fleet'), getJson('v1/clusters'), getJson('countries-110m.json')]);
    document.getElementById('fleet-name').textContent = fleet.name;
    document.getElementById('fleet-revision').textContent = short(fleet.revision);
    for (const row of rows) row.state = stateOf(row);
    const svg = document.getElementById('map');
    drawCountries(svg, topology);
    drawClusters(svg, rows);
    renderCounts(rows);
    renderTable(rows);
    document.getElementById('filter-text').addEventListener('input', () => renderTable(rows));
    document.getElementById('filter-state').addEventListener('change', () => renderTable(rows));
    renderRollout(await getJson(`v1/rollouts/${encodeURIComponent(fleet.revision)}`));
    document.body.dataset.loaded = 'true';
  } catch (error) {
    const p = document.getElementById('load-error');
    p.hidden = false;
    p.textContent = `could not load the fleet: ${error.message}`;
    document.body.dataset.loaded = 'error';
  }
}

main();
