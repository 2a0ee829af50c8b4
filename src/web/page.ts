/**
 * The status page: one self-contained HTML document (no CDN, fonts or scripts from elsewhere).
 * Events from the appliance arrive as Server-Sent Events (`/api/events`) and the tiles refresh from
 * the JSON API on each, at most 4 times a second; the browser's EventSource reconnects by itself
 * and resumes from the last event it saw. Status is shown by text and shape as well as colour.
 */
export function renderPage(line: string, version: string, nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lineside · ${escapeHtml(line)}</title>
<style>
  :root { --ok:#137a3f; --bad:#c0152a; --warn:#a86400; --muted:#5b6573; --bg:#f3f5f8; --card:#fff; }
  * { box-sizing: border-box; }
  body { margin:0; font: 16px/1.4 system-ui, "DejaVu Sans", sans-serif; background: var(--bg); color:#15191f; }
  header { display:flex; gap:1rem; align-items:center; padding:.75rem 1.25rem; background:#18202b; color:#fff; flex-wrap:wrap; }
  header h1 { font-size:1.2rem; margin:0; }
  .pill { padding:.25rem .7rem; border-radius:1rem; font-weight:600; background:#333; }
  .pill.ok { background:var(--ok); } .pill.bad { background:var(--bad); }
  main { display:grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap:1rem; padding:1rem; }
  section.station { background:var(--card); border-radius:.5rem; padding:1rem; box-shadow:0 1px 3px #0002; }
  section.station h2 { margin:0 0 .5rem; font-size:1.1rem; display:flex; justify-content:space-between; gap:.5rem; }
  .kind { color:var(--muted); font-weight:400; font-size:.9rem; }
  .verdict { font-size:1.4rem; font-weight:700; margin:.25rem 0; }
  .v-pass { color:var(--ok); } .v-reject { color:var(--bad); } .v-inconclusive { color:var(--warn); } .v-not_inspected { color:var(--bad); }
  table.counters { width:100%; border-collapse:collapse; margin:.5rem 0; }
  table.counters th, table.counters td { text-align:center; padding:.2rem; border:1px solid #dde2e8; }
  ul.health { list-style:none; padding:0; margin:.5rem 0; display:flex; flex-wrap:wrap; gap:.4rem; }
  ul.health li { padding:.2rem .5rem; border-radius:.3rem; border:2px solid; font-size:.9rem; }
  .h-ok { border-color:var(--ok); color:var(--ok); } .h-bad { border-color:var(--bad); color:var(--bad); } .h-warn { border-color:var(--warn); color:var(--warn); }
  figure { margin:.5rem 0 0; } figure img { width:100%; border-radius:.3rem; background:#ddd; min-height:3rem; }
  figcaption, .meta { color:var(--muted); font-size:.85rem; }
  button { font-size:1rem; min-height:48px; padding:.5rem 1rem; border-radius:.4rem; border:1px solid #0004; background:#1f5fbf; color:#fff; cursor:pointer; }
  button:disabled { opacity:.5; }
  .alarms { color:var(--bad); font-weight:600; }
  a.download { display:inline-block; min-height:48px; min-width:48px; padding:.75rem .5rem; }
</style>
</head>
<body>
<header>
  <h1>lineside · ${escapeHtml(line)}</h1>
  <span id="overall" class="pill" role="status">…</span>
  <span id="plc" class="pill">PLC …</span>
  <span id="storage" class="pill">storage …</span>
  <span id="live" class="pill" data-testid="live">○ connecting…</span>
  <span class="meta" style="color:#ccd">v${escapeHtml(version)} · <a href="/metrics" style="color:#ccd">metrics</a> · <a href="/healthz" style="color:#ccd">healthz</a></span>
</header>
<main id="stations" aria-live="polite"></main>
<section id="batches" class="station" style="margin:0 1rem 1rem"><h2>Batch reports</h2><div id="batch-list" class="meta">…</div></section>
<script nonce="${nonce}">
const SHAPE = { pass: '✔ PASS', reject: '✖ REJECT', inconclusive: '? INCONCLUSIVE', not_inspected: '⊘ NOT INSPECTED' };
const HMARK = { ok: '✔', starting: '…', degraded: '▲', down: '✖' };
const ALARM_BITS = ['camera lost','model unhealthy','PPE violation','cleaning failed','storage','PLC heartbeat lost','inspection errors','missed triggers'];
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
const cls = (st) => st === 'ok' ? 'h-ok' : st === 'down' ? 'h-bad' : 'h-warn';
function healthItem(name, h) {
  return '<li class="' + cls(h.state) + '" title="' + esc(h.detail || '') + '">' + HMARK[h.state] + ' ' + esc(name) + ' ' + esc(h.state) + (h.detail ? ': ' + esc(h.detail) : '') + '</li>';
}
function imageItems(cam) {
  const img = cam && cam.image;
  if (!img || img.warnings.length === 0) return '';
  return '<li class="h-warn" data-testid="image-warning" title="' + esc(img.detail || '') + '">▲ image ' + img.warnings.map(esc).join(', ') + (img.detail ? ': ' + esc(img.detail) : '') + '</li>';
}
function cameraLine(cam) {
  if (!cam) return '';
  const st = cam.stats;
  const size = st.width ? st.width + '×' + st.height : 'size unknown';
  return '<div class="meta" data-testid="camera">' + esc(cam.description) + ' · ' + size + ' · ' + st.fps.toFixed(1) + ' fps · ' + st.framesReceived + ' frames' +
    (st.framesDropped ? ' · ' + st.framesDropped + ' not inspected' : '') + (st.restarts ? ' · ' + st.restarts + ' reconnects' : '') + '</div>';
}
function pill(el, label, h) {
  el.textContent = label + ' ' + HMARK[h.state] + ' ' + h.state;
  el.className = 'pill ' + (h.state === 'ok' ? 'ok' : 'bad');
  el.title = h.detail || '';
}
function render(stations, health) {
  const root = document.getElementById('stations');
  const overall = document.getElementById('overall');
  overall.textContent = health.status === 'ok' ? '✔ all healthy' : '✖ attention needed';
  overall.className = 'pill ' + (health.status === 'ok' ? 'ok' : 'bad');
  if (health.components.plc) pill(document.getElementById('plc'), 'PLC', health.components.plc);
  pill(document.getElementById('storage'), 'storage', health.components.storage);
  root.innerHTML = stations.map((s) => {
    const last = s.lastInspection;
    const ev = s.lastEvidence;
    const c = s.counters;
    const alarms = ALARM_BITS.filter((_, i) => s.alarmWord & (1 << i));
    return '<section class="station" data-station="' + esc(s.id) + '">' +
      '<h2><span>' + esc(s.name) + '</span><span class="kind">' + esc(s.kind) + '</span></h2>' +
      '<div class="verdict ' + (last ? 'v-' + last.verdict : '') + '" data-testid="verdict">' + (last ? SHAPE[last.verdict] : 'no inspection yet') + '</div>' +
      (last ? '<div class="meta">#' + last.id + (last.partId ? ' · part ' + esc(last.partId) : '') + (last.batchId ? ' · batch ' + esc(last.batchId) : '') + ' · ' + new Date(last.startedAt).toLocaleTimeString() + (last.timings.totalMs !== undefined ? ' · ' + last.timings.totalMs.toFixed(1) + ' ms' : '') + (last.reason ? '<br>' + esc(last.reason) : '') + '</div>' : '') +
      '<table class="counters"><tr><th>pass</th><th>reject</th><th>inconclusive</th><th>not inspected</th></tr><tr>' +
      '<td data-counter="pass">' + c.pass + '</td><td data-counter="reject">' + c.reject + '</td><td data-counter="inconclusive">' + c.inconclusive + '</td><td data-counter="notInspected">' + c.notInspected + '</td></tr></table>' +
      '<ul class="health">' + healthItem('camera', s.health.camera) + healthItem('model', s.health.model) + imageItems(s.camera) + '</ul>' +
      cameraLine(s.camera) +
      (alarms.length ? '<div class="alarms" role="alert">▲ ' + alarms.map(esc).join(', ') + '</div>' : '') +
      (s.kind === 'cleaning' ? '<button data-check="' + esc(s.id) + '">Run cleaning verification</button>' : '') +
      (ev ? '<figure><img alt="evidence of inspection ' + ev.id + '" src="' + ev.evidenceUrl + '"><figcaption>evidence · #' + ev.id + ' · ' + SHAPE[ev.verdict] + '</figcaption></figure>' : '') +
      '</section>';
  }).join('');
}
async function refresh() {
  try {
    const [st, h] = await Promise.all([fetch('/api/stations').then((r) => r.json()), fetch('/healthz').then((r) => r.json())]);
    render(st, h);
  } catch (e) {
    document.getElementById('overall').textContent = '✖ appliance not reachable';
  }
}
document.addEventListener('click', async (e) => {
  const id = e.target && e.target.dataset && e.target.dataset.check;
  if (!id) return;
  e.target.disabled = true;
  e.target.textContent = 'Verifying…';
  await fetch('/api/stations/' + encodeURIComponent(id) + '/check', { method: 'POST' });
  refresh();
});
async function refreshBatches() {
  try {
    const batches = await fetch('/api/batches').then((r) => r.json());
    document.getElementById('batch-list').innerHTML = batches.length === 0 ? 'No batch recorded yet.' :
      '<table class="counters"><tr><th>batch</th><th>from</th><th>to</th><th>inspections</th><th>report</th></tr>' +
      batches.map((b) => '<tr data-batch="' + esc(b.batchId) + '"><td>' + esc(b.batchId) + '</td><td>' + new Date(b.from).toLocaleString() + '</td><td>' + new Date(b.to).toLocaleString() + '</td><td>' + b.inspections + '</td><td>' +
        Object.entries(b.reports).map(([f, url]) => '<a class="download" href="' + esc(url) + '">' + f.toUpperCase() + '</a>').join(' · ') + '</td></tr>').join('') + '</table>';
  } catch (e) { /* the station tiles already say the appliance is unreachable */ }
}
let refreshing = null;
function soon() {
  if (!refreshing) refreshing = setTimeout(() => { refreshing = null; refresh(); }, 250);
}
const live = document.getElementById('live');
const events = new EventSource('/api/events');
events.onopen = () => { live.textContent = '● live'; live.className = 'pill ok'; soon(); };
events.onerror = () => { live.textContent = '○ reconnecting…'; live.className = 'pill bad'; };
for (const type of ['inspection', 'alarm', 'health', 'reset']) events.addEventListener(type, soon);
refresh();
refreshBatches();
// Camera rates and health details change without events: a slow refresh keeps them current.
setInterval(refresh, 5000);
setInterval(refreshBatches, 10000);
</script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
