// The supervisor page: plain JavaScript, no framework, nothing fetched from outside the box.
// Views are chosen by the address's hash (#/overview, #/station/ID, #/alarms, …) so the browser's
// back button works and a view can be bookmarked on the panel PC. Every request goes through
// api(): it sends the CSRF token on changes and turns a lost session into the sign-in form.
// Actions are offered by role (the server checks again): an action the signed-in role may not do
// is shown disabled, with the reason as its title.
'use strict';

const SHAPE = { pass: '✔ PASS', reject: '✖ REJECT', inconclusive: '? INCONCLUSIVE', not_inspected: '⊘ NOT INSPECTED' };
const HMARK = { ok: '✔', starting: '…', degraded: '▲', down: '✖' };
const SEVERITY = { critical: '✖ critical', warning: '▲ warning', info: 'ℹ info' };
const ALARM_BITS = ['camera lost', 'model unhealthy', 'PPE violation', 'cleaning failed', 'storage', 'PLC heartbeat lost', 'inspection errors', 'missed triggers', 'unknown recipe'];
const ROLES = ['viewer', 'operator', 'supervisor', 'qa', 'admin'];
const VIEWS = [
  ['overview', 'Overview'],
  ['alarms', 'Alarms'],
  ['history', 'History'],
  ['review', 'Review'],
  ['cleaning', 'Cleaning'],
  ['audit', 'Audit trail', 'viewAudit'],
  ['users', 'Users', 'manageUsers'],
  ['models', 'Models & recipes'],
  ['system', 'System'],
];

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
const cls = (st) => (st === 'ok' ? 'h-ok' : st === 'down' ? 'h-bad' : 'h-warn');
const time = (t) => (t ? new Date(t).toLocaleString() : '—');
const clock = (t) => (t ? new Date(t).toLocaleTimeString() : '—');
const total = (c) => c.pass + c.reject + c.inconclusive + c.notInspected;
const rate = (c) => (total(c) ? ((100 * c.reject) / total(c)).toFixed(1) + ' %' : '—');

const state = { session: null, may: new Set(), csrf: '', stations: [], health: null, alarms: [], pending: [], stream: [], events: null };

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** One request to the appliance's API: JSON in and out, the CSRF token on every change. */
async function api(method, url, body) {
  const headers = {};
  if (method !== 'GET') headers['x-csrf-token'] = state.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (res.status === 401 && url !== '/api/login' && url !== '/api/password' && !url.endsWith('/review') && !url.endsWith('/sign') && !url.endsWith('/approve')) {
    signedOut('Your session has ended. Sign in again.');
  }
  if (!res.ok) throw new ApiError(res.status, (data && data.message) || res.statusText);
  return data;
}

/** An action control: disabled with the reason when the signed-in role may not do it. */
function allowed(permission) {
  return state.may.has(permission);
}
function guard(permission) {
  return allowed(permission) ? '' : ' disabled title="' + esc('your role (' + (state.session ? state.session.role : '?') + ') may not do this') + '"';
}
function actionButton(permission, label, attrs) {
  return '<button type="submit" class="action" data-need="' + permission + '"' + (attrs || '') + guard(permission) + '>' + esc(label) + '</button>';
}

// ---- sign-in -------------------------------------------------------------------------------

function signedOut(message) {
  state.session = null;
  state.may = new Set();
  if (state.events) state.events.close();
  state.events = null;
  $('#app').hidden = true;
  $('#who').innerHTML = '';
  const box = $('#login');
  box.hidden = false;
  box.innerHTML =
    '<div class="card"><h2>Sign in</h2>' +
    (message ? '<p class="notice" role="alert">' + esc(message) + '</p>' : '') +
    '<form id="login-form" class="stack"><label>User name<input name="username" autocomplete="username" required></label>' +
    '<label>Password<input name="password" type="password" autocomplete="current-password" required></label>' +
    '<button type="submit">Sign in</button><div class="error" id="login-error" role="alert"></div></form></div>';
  $('#login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const r = await api('POST', '/api/login', { username: f.get('username'), password: f.get('password') });
      signedIn(r);
    } catch (err) {
      $('#login-error').textContent = err.message;
    }
  });
  $('#login input[name=username]').focus();
}

function changePassword(why) {
  $('#app').hidden = true;
  const box = $('#login');
  box.hidden = false;
  box.innerHTML =
    '<div class="card"><h2>Choose a new password</h2><p class="notice">' +
    esc(why === 'oneTime' ? 'This is a one-time password: choose your own before you go on.' : 'Your password has expired: choose a new one.') +
    '</p><form id="password-form" class="stack"><label>Current password<input name="current" type="password" autocomplete="current-password" required></label>' +
    '<label>New password<input name="next" type="password" autocomplete="new-password" required></label>' +
    '<button type="submit">Change password</button><div class="error" role="alert"></div></form></div>';
  $('#password-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      await api('POST', '/api/password', { current: f.get('current'), next: f.get('next') });
      signedIn(await api('GET', '/api/session'));
    } catch (err) {
      $('#password-form .error').textContent = err.message;
    }
  });
}

function signedIn(r) {
  state.session = r.session;
  state.csrf = r.csrfToken;
  state.may = new Set(r.may || []);
  if (r.session.mustChangePassword) return changePassword(r.session.mustChangePassword);
  $('#login').hidden = true;
  $('#app').hidden = false;
  $('#who').innerHTML =
    '<span data-testid="user">' + esc(r.session.fullName) + ' · ' + esc(r.session.role) + '</span><button type="button" class="secondary" id="logout">Sign out</button>';
  $('#logout').addEventListener('click', async () => {
    try {
      await api('POST', '/api/logout', {});
    } finally {
      signedOut('Signed out.');
    }
  });
  renderNav();
  connectEvents();
  refreshAll().then(route);
}

// ---- navigation ----------------------------------------------------------------------------

function currentView() {
  const parts = (location.hash || '#/overview').replace(/^#\/?/, '').split('/');
  return { name: parts[0] || 'overview', arg: parts[1] ? decodeURIComponent(parts[1]) : null };
}

function renderNav() {
  const v = currentView().name;
  const active = state.alarms.filter((a) => !a.acknowledged).length;
  $('#nav').innerHTML = VIEWS.filter(([, , need]) => !need || allowed(need))
    .map(([id, label]) => {
      const count = id === 'alarms' && active ? '<span class="count" data-testid="alarm-count">' + active + '</span>' : id === 'review' && state.pending.length ? '<span class="count">' + state.pending.length + '</span>' : '';
      return '<a href="#/' + id + '"' + (v === id || (v === 'station' && id === 'overview') || (v === 'record' && id === 'history') ? ' aria-current="page"' : '') + '>' + esc(label) + count + '</a>';
    })
    .join('');
}

const RENDER = {};
let liveTimer = null;
async function route() {
  if (!state.session) return;
  clearInterval(liveTimer);
  liveTimer = null;
  renderNav();
  const { name, arg } = currentView();
  const view = RENDER[name] || RENDER.overview;
  const main = $('#view');
  try {
    await view(main, arg);
  } catch (err) {
    main.innerHTML = '<div class="card error" role="alert">' + esc(err.message) + '</div>';
  }
}
window.addEventListener('hashchange', route);

// ---- live updates --------------------------------------------------------------------------

async function refreshAll() {
  try {
    const [stations, health, alarms, pending] = await Promise.all([
      api('GET', '/api/stations'),
      fetch('/healthz').then((r) => r.json()),
      api('GET', '/api/alarms'),
      api('GET', '/api/reviews/pending'),
    ]);
    Object.assign(state, { stations, health, alarms, pending });
    renderHeader();
    renderNav();
  } catch (err) {
    if (err.status !== 401) $('#overall').textContent = '✖ appliance not reachable';
  }
}

function pill(el, label, h) {
  el.textContent = label + ' ' + HMARK[h.state] + ' ' + h.state;
  el.className = 'pill ' + (h.state === 'ok' ? 'ok' : 'bad');
  el.title = h.detail || '';
}
function renderHeader() {
  const h = state.health;
  if (!h) return;
  const overall = $('#overall');
  overall.textContent = h.status === 'ok' ? '✔ all healthy' : '✖ attention needed';
  overall.className = 'pill ' + (h.status === 'ok' ? 'ok' : 'bad');
  if (h.components.plc) pill($('#plc'), 'PLC', h.components.plc);
  if (h.components.storage) pill($('#storage'), 'storage', h.components.storage);
}

/** Someone is typing in a form of this view: a redraw now would throw their input away. */
function busy() {
  const view = $('#view');
  if (view.contains(document.activeElement) && document.activeElement.matches('input, textarea, select')) return true;
  return [...view.querySelectorAll('input, textarea')].some((el) => el.type !== 'radio' && el.value !== '');
}

let pendingRefresh = null;
/** An event arrived: refresh the header and counts, and redraw the views that show live state. */
function soon() {
  if (pendingRefresh) return;
  pendingRefresh = setTimeout(async () => {
    pendingRefresh = null;
    await refreshAll();
    const v = currentView().name;
    if (v === 'overview') route();
    else if ((v === 'alarms' || v === 'review' || v === 'cleaning') && !currentView().arg && !busy()) redraw(v);
  }, 250);
}

/**
 * Redraws a view with live state aside, and puts it in place only if the view is still showing and
 * nobody began typing in it while the appliance answered: a password typed meanwhile is not wiped.
 */
async function redraw(name) {
  const next = document.createElement('div');
  try {
    await RENDER[name](next);
  } catch {
    return; // the next event redraws; an error on the page would hide the form in use
  }
  if (currentView().name !== name || currentView().arg || busy()) return;
  $('#view').replaceChildren(...next.childNodes);
}

function connectEvents() {
  if (state.events) state.events.close();
  const live = $('#live');
  const events = new EventSource('/api/events');
  state.events = events;
  events.onopen = () => {
    live.textContent = '● live';
    live.className = 'pill ok';
    soon();
  };
  events.onerror = () => {
    live.textContent = '○ reconnecting…';
    live.className = 'pill bad';
    // A lost session also ends the stream: find out which, so the sign-in form appears.
    api('GET', '/api/session').catch(() => undefined);
  };
  events.addEventListener('inspection', (e) => {
    const i = JSON.parse(e.data);
    state.stream.unshift(i);
    state.stream.length = Math.min(state.stream.length, 30);
    const list = $('#stream');
    if (list) list.innerHTML = streamItems();
    soon();
  });
  for (const type of ['alarm', 'health', 'reset']) events.addEventListener(type, soon);
}

// ---- overview ------------------------------------------------------------------------------

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
  return (
    '<div class="meta" data-testid="camera">' + esc(cam.description) + ' · ' + size + ' · ' + st.fps.toFixed(1) + ' fps · ' + st.framesReceived + ' frames' +
    (st.framesDropped ? ' · ' + st.framesDropped + ' not inspected' : '') + (st.restarts ? ' · ' + st.restarts + ' reconnects' : '') + '</div>'
  );
}
function counterTable(c) {
  return (
    '<table class="counters"><tr><th>pass</th><th>reject</th><th>inconclusive</th><th>not inspected</th><th>reject rate</th></tr><tr>' +
    '<td data-counter="pass">' + c.pass + '</td><td data-counter="reject">' + c.reject + '</td><td data-counter="inconclusive">' + c.inconclusive +
    '</td><td data-counter="notInspected">' + c.notInspected + '</td><td>' + rate(c) + '</td></tr></table>'
  );
}
function lastLine(last) {
  if (!last) return '';
  return (
    '<div class="meta">#' + last.id + (last.partId ? ' · part ' + esc(last.partId) : '') + (last.batchId ? ' · batch ' + esc(last.batchId) : '') +
    (last.recipeIndex !== null && last.recipeIndex !== undefined ? ' · recipe ' + last.recipeIndex + (last.recipeName ? ' ' + esc(last.recipeName) : '') : '') +
    ' · ' + clock(last.startedAt) + (last.timings.totalMs !== undefined ? ' · ' + last.timings.totalMs.toFixed(1) + ' ms' : '') + (last.reason ? '<br>' + esc(last.reason) : '') + '</div>'
  );
}
function streamItems() {
  if (!state.stream.length) return '<li class="meta">Waiting for the next inspection…</li>';
  return state.stream
    .map((i) => '<li data-testid="stream-item"><a href="#/record/' + i.id + '"><span class="v-' + i.verdict + '">' + SHAPE[i.verdict] + '</span></a> · ' + esc(i.stationId) + (i.partId ? ' · ' + esc(i.partId) : '') + ' · ' + clock(i.startedAt) + '</li>')
    .join('');
}

RENDER.overview = async (main) => {
  const batches = await api('GET', '/api/batches').catch(() => []);
  main.innerHTML =
    '<div class="grid" id="stations" aria-live="polite">' +
    state.stations
      .map((s) => {
        const last = s.lastInspection;
        const ev = s.lastEvidence;
        const alarms = ALARM_BITS.filter((_, i) => s.alarmWord & (1 << i));
        return (
          '<section class="station" data-station="' + esc(s.id) + '">' +
          '<h2><a href="#/station/' + encodeURIComponent(s.id) + '">' + esc(s.name) + '</a><span class="kind">' + esc(s.kind) + '</span></h2>' +
          '<div class="verdict ' + (last ? 'v-' + last.verdict : '') + '" data-testid="verdict">' + (last ? SHAPE[last.verdict] : 'no inspection yet') + '</div>' +
          lastLine(last) + counterTable(s.counters) +
          '<ul class="health">' + healthItem('camera', s.health.camera) + healthItem('model', s.health.model) + imageItems(s.camera) + '</ul>' +
          cameraLine(s.camera) +
          (alarms.length ? '<div class="alarms" role="alert">▲ ' + alarms.map(esc).join(', ') + '</div>' : '') +
          (s.kind === 'cleaning' ? '<p><a class="button" href="#/cleaning">Cleaning verification…</a></p>' : '') +
          (ev ? '<figure><img alt="evidence of inspection ' + ev.id + '" src="' + ev.evidenceUrl + '"><figcaption>evidence · <a href="#/record/' + ev.id + '">#' + ev.id + '</a> · ' + SHAPE[ev.verdict] + '</figcaption></figure>' : '') +
          '</section>'
        );
      })
      .join('') +
    '</div><div class="grid"><section class="card"><h2>Live verdicts</h2><ol class="stream" id="stream" aria-live="polite">' + streamItems() + '</ol></section>' +
    '<section class="card" id="batches"><h2>Batch reports</h2><div id="batch-list" class="meta">' + batchList(batches) + '</div></section></div>';
};

function batchList(batches) {
  if (!batches.length) return 'No batch recorded yet.';
  return (
    '<table><tr><th>batch</th><th>from</th><th>to</th><th>inspections</th><th>report</th></tr>' +
    batches
      .map((b) =>
        '<tr data-batch="' + esc(b.batchId) + '"><td>' + esc(b.batchId) + '</td><td>' + time(b.from) + '</td><td>' + time(b.to) + '</td><td>' + b.inspections + '</td><td>' +
        (allowed('exportRecords') ? Object.entries(b.reports).map(([f, url]) => '<a class="download" href="' + esc(url) + '">' + f.toUpperCase() + '</a>').join(' · ') : '<span class="readonly">export: supervisor, QA, admin</span>') +
        '</td></tr>',
      )
      .join('') +
    '</table>'
  );
}

// ---- station -------------------------------------------------------------------------------

/** Start of the current shift: shifts begin at 06:00, 14:00 and 22:00 local time. */
function shiftStart(now = new Date()) {
  const d = new Date(now);
  const h = d.getHours();
  const start = h >= 22 ? 22 : h >= 14 ? 14 : h >= 6 ? 6 : -2;
  d.setHours(start, 0, 0, 0);
  return d;
}

function boxesSvg(findings, width, height) {
  const boxes = (findings || []).filter((f) => f.box);
  if (!width || !height || !boxes.length) return '';
  return (
    '<svg viewBox="0 0 ' + width + ' ' + height + '" preserveAspectRatio="none" aria-hidden="true">' +
    boxes
      .map((f) => {
        const colour = f.effect === 'reject' ? '#e0102a' : f.effect === 'inconclusive' ? '#f0a000' : '#20a040';
        return '<rect x="' + f.box.x + '" y="' + f.box.y + '" width="' + f.box.w + '" height="' + f.box.h + '" fill="none" stroke="' + colour + '" stroke-width="' + Math.max(2, width / 320) + '"/>' +
          '<text x="' + f.box.x + '" y="' + Math.max(12, f.box.y - 4) + '" fill="' + colour + '" font-size="' + Math.max(12, width / 50) + '">' + esc(f.label) + ' ' + f.score.toFixed(2) + '</text>';
      })
      .join('') +
    '</svg>'
  );
}

RENDER.station = async (main, id) => {
  const s = state.stations.find((x) => x.id === id);
  if (!s) throw new Error('no station "' + id + '"');
  const [summary, recent] = await Promise.all([
    api('GET', '/api/stations/' + encodeURIComponent(id) + '/summary?from=' + encodeURIComponent(shiftStart().toISOString())),
    api('GET', '/api/inspections?station=' + encodeURIComponent(id) + '&limit=12'),
  ]);
  const w = s.camera && s.camera.stats.width;
  const h = s.camera && s.camera.stats.height;
  const maxTrend = Math.max(1, ...summary.trend.map((t) => t.total));
  const maxPareto = Math.max(1, ...summary.pareto.map((p) => p.inspections));
  main.innerHTML =
    '<h2>' + esc(s.name) + ' <span class="kind">' + esc(s.kind) + ' station</span></h2><div class="grid">' +
    '<section class="card"><h3>Live view</h3><div class="evidence" id="live-view"><img id="live-img" alt="live view of ' + esc(s.name) + '"><span id="live-boxes"></span></div>' +
    '<div class="meta" id="live-meta">a few frames per second while this page is open</div>' + cameraLine(s.camera) +
    (s.kind !== 'cleaning' ? '<form class="inline" data-form="reference">' + actionButton('setReference', 'Take this view as the camera reference') + '<span class="error" role="alert"></span></form>' : '') +
    '</section>' +
    '<section class="card"><h3>Counters</h3>' +
    (summary.batch ? '<div class="meta">batch ' + esc(summary.batch.batchId) + '</div>' + counterTable(summary.batch.counters) : '<div class="meta">no batch yet</div>') +
    '<div class="meta">this shift, since ' + clock(summary.since.from) + '</div>' + counterTable(summary.since.counters) +
    '<h3>Reject rate, last hour (5-minute steps)</h3><table>' +
    (summary.trend.length
      ? summary.trend.map((t) => '<tr><td>' + clock(t.at) + '</td><td>' + t.rejects + ' / ' + t.total + '</td><td style="width:50%"><span class="bar" style="width:' + ((100 * t.rejects) / maxTrend).toFixed(0) + '%"></span></td></tr>').join('')
      : '<tr><td class="meta">no inspection in the last hour</td></tr>') +
    '</table></section>' +
    '<section class="card"><h3>Defect Pareto (this shift)</h3><table data-testid="pareto">' +
    (summary.pareto.length
      ? summary.pareto.map((p) => '<tr><td>' + esc(p.label) + '</td><td>' + p.inspections + '</td><td style="width:50%"><span class="bar" style="width:' + ((100 * p.inspections) / maxPareto).toFixed(0) + '%"></span></td></tr>').join('')
      : '<tr><td class="meta">no defect found this shift</td></tr>') +
    '</table><h3>Latency per stage (median of ' + summary.latencySample + ')</h3><table>' +
    Object.entries(summary.latencyMs).map(([k, v]) => '<tr><td>' + esc(k.replace(/Ms$/, '')) + '</td><td>' + v.toFixed(1) + ' ms</td></tr>').join('') +
    '</table></section></div>' +
    '<section class="card"><h3>Recent inspections</h3>' + inspectionTable(recent) + '</section>';

  const form = $('form[data-form="reference"]', main);
  if (form) form.addEventListener('submit', (e) => act(e, () => api('POST', '/api/stations/' + encodeURIComponent(id) + '/reference', {}), 'Reference view replaced.'));

  const img = $('#live-img');
  const draw = async () => {
    const res = await fetch('/api/stations/' + encodeURIComponent(id) + '/live.jpg', { cache: 'no-store' });
    if (!res.ok) {
      $('#live-meta').textContent = 'no frame yet';
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    img.onload = () => URL.revokeObjectURL(url);
    img.src = url;
    const last = (state.stations.find((x) => x.id === id) || s).lastInspection;
    $('#live-boxes').innerHTML = boxesSvg(last && last.findings, w, h);
    $('#live-meta').textContent = 'frame of ' + clock(res.headers.get('x-captured-at')) + (last ? ' · boxes of inspection #' + last.id : '');
  };
  await draw().catch(() => undefined);
  liveTimer = setInterval(() => draw().catch(() => undefined), 500);
};

function inspectionTable(rows) {
  if (!rows.length) return '<p class="meta">No inspection matches.</p>';
  return (
    '<table data-testid="inspections"><tr><th>evidence</th><th>#</th><th>time</th><th>station</th><th>part</th><th>batch</th><th>verdict</th><th>reason</th></tr>' +
    rows
      .map((i) =>
        '<tr class="clickable" data-record="' + i.id + '"><td>' + (i.evidenceUrl ? '<img class="thumb" loading="lazy" alt="" src="' + i.evidenceUrl + '">' : '') + '</td><td><a href="#/record/' + i.id + '">' + i.id + '</a></td><td>' + time(i.startedAt) + '</td><td>' + esc(i.stationId) +
        '</td><td>' + esc(i.partId || '') + '</td><td>' + esc(i.batchId || '') + '</td><td class="v-' + i.verdict + '">' + SHAPE[i.verdict] + '</td><td>' + esc(i.reason || '') + '</td></tr>',
      )
      .join('') +
    '</table>'
  );
}
document.addEventListener('click', (e) => {
  const row = e.target.closest && e.target.closest('tr[data-record]');
  if (row && !e.target.closest('a')) location.hash = '#/record/' + row.dataset.record;
});

// ---- acting ---------------------------------------------------------------------------------

/** Submit an action form: disable it while it runs, show the server's refusal in the form. */
async function act(e, run, done) {
  e.preventDefault();
  const form = e.target;
  const out = $('.error', form);
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((b) => (b.disabled = true));
  if (out) out.textContent = '';
  try {
    await run(new FormData(form));
    if (done) flash(done);
    await refreshAll();
    await route();
  } catch (err) {
    if (out) out.textContent = err.message;
    buttons.forEach((b) => (b.disabled = b.dataset.need ? !allowed(b.dataset.need) : false));
  }
}
function flash(text) {
  const el = $('#flash');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(flash.t);
  flash.t = setTimeout(() => (el.hidden = true), 5000);
}

// ---- alarms ---------------------------------------------------------------------------------

RENDER.alarms = async (main) => {
  const [active, history] = await Promise.all([api('GET', '/api/alarms?shelved=1'), api('GET', '/api/alarms/history')]);
  main.innerHTML =
    '<section class="card"><h2>Active alarms</h2>' +
    (active.length
      ? active
          .map(
            (a) =>
              '<div class="card" data-alarm="' + a.id + '"><strong>' + SEVERITY[a.severity] + '</strong> · ' + esc(a.source) + ' · ' + esc(a.category) + '<br>' + esc(a.message) +
              '<div class="meta">raised ' + time(a.raisedAt) + ' · ' + (a.condition === 'active' ? 'condition present' : 'condition cleared ' + time(a.clearedAt)) +
              (a.acknowledged ? ' · acknowledged by ' + esc(a.acknowledged.by) + ' at ' + time(a.acknowledged.at) + ': ' + esc(a.acknowledged.comment) : ' · not acknowledged') +
              (a.shelved ? ' · shelved by ' + esc(a.shelved.by) + ' until ' + time(a.shelved.until) + ': ' + esc(a.shelved.reason) : '') + '</div>' +
              (a.acknowledged ? '' : '<form class="inline" data-ack="' + a.id + '"><label style="flex:1">Comment (required)<input name="comment" required' + guard('acknowledgeAlarm') + '></label>' + actionButton('acknowledgeAlarm', 'Acknowledge') + '<span class="error" role="alert"></span></form>') +
              (a.shelved
                ? '<form class="inline" data-unshelve="' + a.id + '"><label style="flex:1">Reason<input name="reason" required' + guard('shelveAlarm') + '></label>' + actionButton('shelveAlarm', 'Unshelve') + '<span class="error" role="alert"></span></form>'
                : '<form class="inline" data-shelve="' + a.id + '"><label style="flex:1">Shelve: reason<input name="reason" required' + guard('shelveAlarm') + '></label><label>for<select name="minutes"' + guard('shelveAlarm') + '><option value="15">15 min</option><option value="60">1 h</option><option value="240">4 h</option><option value="480">8 h</option></select></label>' + actionButton('shelveAlarm', 'Shelve') + '<span class="error" role="alert"></span></form>') +
              '</div>',
          )
          .join('')
      : '<p class="meta">No active alarm.</p>') +
    '</section><section class="card"><h2>History (24 h)</h2><table><tr><th>raised</th><th>source</th><th>alarm</th><th>severity</th><th>history</th></tr>' +
    history
      .map((a) => '<tr><td>' + time(a.raisedAt) + '</td><td>' + esc(a.source) + '</td><td>' + esc(a.category) + ': ' + esc(a.message) + '</td><td>' + SEVERITY[a.severity] + '</td><td>' +
        a.events.map((ev) => esc(ev.kind) + ' ' + clock(ev.at) + (ev.by ? ' by ' + esc(ev.by) : '') + (ev.comment ? ' — ' + esc(ev.comment) : '')).join('<br>') + '</td></tr>')
      .join('') +
    '</table></section>';
  main.querySelectorAll('form[data-ack]').forEach((f) => f.addEventListener('submit', (e) => act(e, (d) => api('POST', '/api/alarms/' + f.dataset.ack + '/acknowledge', { comment: d.get('comment') }), 'Alarm acknowledged.')));
  main.querySelectorAll('form[data-shelve]').forEach((f) => f.addEventListener('submit', (e) => act(e, (d) => api('POST', '/api/alarms/' + f.dataset.shelve + '/shelve', { reason: d.get('reason'), minutes: Number(d.get('minutes')) }), 'Alarm shelved.')));
  main.querySelectorAll('form[data-unshelve]').forEach((f) => f.addEventListener('submit', (e) => act(e, (d) => api('POST', '/api/alarms/' + f.dataset.unshelve + '/unshelve', { reason: d.get('reason') }), 'Alarm unshelved.')));
};

// ---- history and the full record ------------------------------------------------------------

RENDER.history = async (main) => {
  const q = new URLSearchParams(sessionStorage.getItem('history') || '');
  const opt = (v, label) => '<option value="' + v + '"' + (q.get('verdict') === v ? ' selected' : '') + '>' + label + '</option>';
  main.innerHTML =
    '<section class="card"><h2>History</h2><form class="inline" id="history-form">' +
    '<label>From<input type="datetime-local" name="from" value="' + esc(q.get('from') || '') + '"></label>' +
    '<label>To<input type="datetime-local" name="to" value="' + esc(q.get('to') || '') + '"></label>' +
    '<label>Station<select name="station"><option value="">any</option>' + state.stations.map((s) => '<option' + (q.get('station') === s.id ? ' selected' : '') + '>' + esc(s.id) + '</option>').join('') + '</select></label>' +
    '<label>Batch<input name="batch" value="' + esc(q.get('batch') || '') + '"></label>' +
    '<label>Verdict<select name="verdict">' + opt('', 'any') + opt('pass', 'pass') + opt('reject', 'reject') + opt('inconclusive', 'inconclusive') + opt('not_inspected', 'not inspected') + '</select></label>' +
    '<label>Defect class<input name="defect" value="' + esc(q.get('defect') || '') + '"></label>' +
    '<button type="submit">Search</button></form><div id="results"></div></section>';
  const search = async () => {
    const f = new FormData($('#history-form'));
    const params = new URLSearchParams();
    for (const [k, v] of f) if (v) params.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v);
    const raw = new URLSearchParams();
    for (const [k, v] of f) if (v) raw.set(k, v);
    sessionStorage.setItem('history', raw.toString());
    params.set('limit', '100');
    $('#results').innerHTML = inspectionTable(await api('GET', '/api/inspections?' + params.toString()));
  };
  $('#history-form').addEventListener('submit', (e) => {
    e.preventDefault();
    search().catch((err) => ($('#results').innerHTML = '<p class="error">' + esc(err.message) + '</p>'));
  });
  await search();
};

function signatureLine(s) {
  return (
    '<div class="sig' + (s.valid ? '' : ' invalid') + '" data-testid="signature">✍ <strong>' + esc(s.printedName) + '</strong> (' + esc(s.role) + ') · ' + esc(s.meaning) + ' · ' + time(s.signedAt) +
    '<br><span class="meta">record hash ' + esc(s.contentSha256.slice(0, 16)) + '…' + (s.valid ? '' : ' · ✖ ' + esc(s.invalidReason || 'record changed since signing')) + '</span></div>'
  );
}

function recordDetail(r) {
  const st = state.stations.find((s) => s.id === r.stationId);
  return (
    '<div class="grid"><section class="card">' +
    (r.evidenceUrl
      ? '<div class="evidence" id="evidence" title="click to zoom"><img alt="evidence of inspection ' + r.id + '" src="' + r.evidenceUrl + '"></div><div class="meta">click the image to zoom; boxes are drawn into the evidence image</div>'
      : '<p class="meta">No evidence image (passes are sampled, or retention removed it).</p>') +
    '</section><section class="card"><h3 class="v-' + r.verdict + '" data-testid="record-verdict">' + SHAPE[r.verdict] + (r.decision ? ' → reviewed: ' + esc(r.decision).toUpperCase() : '') + '</h3><table>' +
    '<tr><th>inspection</th><td>#' + r.id + '</td></tr><tr><th>station</th><td>' + esc(st ? st.name : r.stationId) + '</td></tr>' +
    '<tr><th>' + (st && st.kind === 'cleaning' ? 'equipment' : 'part') + '</th><td>' + esc(r.partId || '—') + '</td></tr><tr><th>batch</th><td>' + esc(r.batchId || '—') + '</td></tr>' +
    (r.requestedBy || (st && st.kind === 'cleaning') ? '<tr><th>requested by</th><td data-testid="record-requested-by">' + esc(r.requestedBy || 'not recorded') + '</td></tr>' : '') +
    '<tr><th>recipe</th><td>' + (r.recipeIndex ?? '—') + (r.recipeName ? ' ' + esc(r.recipeName) : '') + '</td></tr><tr><th>time</th><td>' + time(r.startedAt) + '</td></tr>' +
    '<tr><th>score</th><td>' + r.score.toFixed(3) + '</td></tr><tr><th>rule that decided</th><td>' + esc(r.reason || 'no rule fired') + '</td></tr>' +
    '<tr><th>models</th><td>' + Object.entries(r.modelVersions).map(([k, v]) => esc(k) + ': <code>' + esc(v) + '</code>').join('<br>') + '</td></tr>' +
    '<tr><th>timings</th><td>' + Object.entries(r.timings).map(([k, v]) => esc(k) + ' ' + Number(v).toFixed(1)).join(' · ') + '</td></tr></table>' +
    '<h3>Findings</h3>' +
    (r.findings.length
      ? '<table><tr><th>class</th><th>score</th><th>rule</th><th>effect</th><th>box</th></tr>' + r.findings.map((f) => '<tr><td>' + esc(f.label) + '</td><td>' + f.score.toFixed(3) + '</td><td>' + esc(f.rule) + '</td><td>' + esc(f.effect) + '</td><td>' + (f.box ? [f.box.x, f.box.y, f.box.w, f.box.h].map((n) => Math.round(n)).join(', ') : '') + '</td></tr>').join('') + '</table>'
      : '<p class="meta">none</p>') +
    '<h3>Signatures</h3>' + (r.signatures.length ? r.signatures.map(signatureLine).join('') : '<p class="meta">none</p>') +
    '<h3>Reviews</h3>' +
    (r.reviews.length ? r.reviews.map((v) => '<div data-testid="review"><strong>' + esc(v.decision).toUpperCase() + '</strong> by ' + esc(v.reviewer) + ' at ' + time(v.reviewedAt) + ': ' + esc(v.reason) + v.signatures.map(signatureLine).join('') + '</div>').join('') : '<p class="meta">none — the original record is never changed; a review is a new record linked to it</p>') +
    '</section></div>'
  );
}
function wireZoom(main) {
  const ev = $('#evidence', main);
  if (ev) ev.addEventListener('click', () => ev.classList.toggle('zoomed'));
}

RENDER.record = async (main, id) => {
  const r = await api('GET', '/api/inspections/' + encodeURIComponent(id) + '/record');
  main.innerHTML = '<p><a href="#/history">← history</a></p>' + recordDetail(r);
  wireZoom(main);
};

// ---- review ---------------------------------------------------------------------------------

function reviewForm(id) {
  return (
    '<form class="stack" data-review="' + id + '"><h3>Decision</h3><div class="row">' +
    '<label><span><input type="radio" name="decision" value="pass" required' + guard('review') + '> pass</span></label>' +
    '<label><span><input type="radio" name="decision" value="reject"' + guard('review') + '> reject</span></label></div>' +
    '<label>Reason (required)<textarea name="reason" required' + guard('review') + '></textarea></label>' +
    '<label>Your password, to sign as reviewer<input name="password" type="password" autocomplete="current-password" required' + guard('review') + '></label>' +
    actionButton('review', 'Sign decision') + '<div class="error" role="alert"></div>' +
    (allowed('review') ? '<p class="meta">Signing means: reviewed. Your printed name, the time and this meaning are linked to the record.</p>' : '<p class="readonly">Reviews are for supervisors and QA.</p>') +
    '</form>'
  );
}

RENDER.review = async (main, id) => {
  const pending = state.pending;
  if (id) {
    const r = await api('GET', '/api/inspections/' + encodeURIComponent(id) + '/record');
    main.innerHTML = '<p><a href="#/review">← review queue</a></p>' + recordDetail(r) + (r.decision ? '' : '<section class="card">' + reviewForm(r.id) + '</section>');
    wireZoom(main);
    const form = $('form[data-review]', main);
    if (form)
      form.addEventListener('submit', (e) =>
        act(e, async (d) => {
          await api('POST', '/api/inspections/' + r.id + '/review', { decision: d.get('decision'), reason: d.get('reason'), password: d.get('password') });
          location.hash = '#/record/' + r.id;
        }, 'Decision signed.'),
      );
    return;
  }
  main.innerHTML =
    '<section class="card"><h2>Review queue: inconclusive parts</h2>' +
    (pending.length
      ? '<table data-testid="review-queue"><tr><th>evidence</th><th>#</th><th>time</th><th>station</th><th>part</th><th>reason</th><th></th></tr>' +
        pending.map((i) => '<tr data-pending="' + i.id + '"><td>' + (i.evidenceUrl ? '<img class="thumb" alt="" src="' + i.evidenceUrl + '">' : '') + '</td><td>' + i.id + '</td><td>' + time(i.startedAt) + '</td><td>' + esc(i.stationId) + '</td><td>' + esc(i.partId || '') + '</td><td>' + esc(i.reason || '') + '</td><td><a class="button" href="#/review/' + i.id + '">Review</a></td></tr>').join('') +
        '</table>'
      : '<p class="meta">Nothing to review.</p>') +
    '</section>';
};

// ---- cleaning verification ------------------------------------------------------------------

RENDER.cleaning = async (main) => {
  const stations = state.stations.filter((s) => s.kind === 'cleaning');
  const recent = await Promise.all(stations.map((s) => api('GET', '/api/inspections?station=' + encodeURIComponent(s.id) + '&limit=5')));
  const last = recent.map((r) => r[0]);
  const records = await Promise.all(last.map((i) => (i ? api('GET', '/api/inspections/' + i.id + '/record') : null)));
  main.innerHTML = stations
    .map((s, k) => {
      const r = records[k];
      const mine = r && r.signatures.some((x) => x.meaning === 'verified' && x.username === state.session.username);
      return (
        '<section class="card" data-cleaning="' + esc(s.id) + '"><h2>' + esc(s.name) + '</h2>' +
        '<form class="inline" data-check="' + esc(s.id) + '"><label>Equipment ID<input name="equipmentId" required placeholder="e.g. HOP-204"' + guard('requestCheck') + '></label>' +
        actionButton('requestCheck', 'Run cleaning verification') + '<span class="error" role="alert"></span></form>' +
        (r
          ? '<h3>Latest: <span class="v-' + r.verdict + '" data-testid="cleaning-verdict">' + SHAPE[r.verdict] + '</span> · equipment ' + esc(r.partId || '—') + ' · ' + time(r.startedAt) + '</h3>' +
            '<div class="meta">requested by <strong data-testid="cleaning-requested-by">' + esc(r.requestedBy || 'not recorded') + '</strong></div>' +
            '<div class="meta">residue: ' + (r.findings.filter((f) => f.effect !== 'info').map((f) => esc(f.rule.split(':')[0]) + ' ' + esc(f.label) + ' ' + f.score.toFixed(2) + (f.box ? ' at ' + Math.round(f.box.x) + ',' + Math.round(f.box.y) + ' (' + Math.round(f.box.w * f.box.h) + ' px²)' : '')).join('; ') || 'none found') + '</div>' +
            (r.evidenceUrl ? '<figure class="evidence"><img data-testid="cleaning-views" alt="every view of the verification, residue drawn in" src="' + r.evidenceUrl + '"><figcaption>views 1…' + (r.frameOrigin || '').split(' ').length + ', left to right, residue drawn in</figcaption></figure>' : '') +
            '<h3>Second verifier</h3>' + (r.signatures.length ? r.signatures.map(signatureLine).join('') : '<p class="meta">not signed yet</p>') +
            (mine
              ? ''
              : '<form class="inline" data-sign="' + r.id + '"><label>Your password, to sign as verifier<input name="password" type="password" autocomplete="current-password" required' + guard('signCleaning') + '></label>' +
                actionButton('signCleaning', 'Sign as second verifier') + '<span class="error" role="alert"></span></form>') +
            '<p><a href="#/record/' + r.id + '">full record</a></p>'
          : '<p class="meta">No verification yet.</p>') +
        '</section>'
      );
    })
    .join('') || '<p class="meta">No cleaning station is configured.</p>';
  main.querySelectorAll('form[data-check]').forEach((f) =>
    f.addEventListener('submit', (e) => {
      const b = $('button', f);
      act(e, async (d) => {
        b.textContent = 'Verifying…';
        await api('POST', '/api/stations/' + encodeURIComponent(f.dataset.check) + '/check', { equipmentId: d.get('equipmentId') });
      }, 'Cleaning verification recorded.');
    }),
  );
  main.querySelectorAll('form[data-sign]').forEach((f) => f.addEventListener('submit', (e) => act(e, (d) => api('POST', '/api/inspections/' + f.dataset.sign + '/sign', { password: d.get('password') }), 'Signed as second verifier.')));
};

// ---- audit trail ----------------------------------------------------------------------------

RENDER.audit = async (main) => {
  main.innerHTML =
    '<section class="card"><h2>Audit trail</h2><form class="inline" id="audit-form">' +
    '<label>From<input type="datetime-local" name="from"></label><label>To<input type="datetime-local" name="to"></label>' +
    '<label>Action<input name="action" placeholder="e.g. alarmAcknowledged"></label><label>User<input name="user"></label>' +
    '<button type="submit">Filter</button><a class="button secondary" id="audit-export" href="/api/audit/export.csv">Export CSV</a></form><div id="audit-rows"></div></section>';
  const load = async () => {
    const f = new FormData($('#audit-form'));
    const params = new URLSearchParams();
    for (const [k, v] of f) if (v) params.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v);
    $('#audit-export').href = '/api/audit/export.csv?' + params.toString();
    if (!allowed('exportRecords')) $('#audit-export').hidden = true;
    const rows = await api('GET', '/api/audit?' + params.toString());
    $('#audit-rows').innerHTML =
      '<table data-testid="audit"><tr><th>#</th><th>time (UTC stored)</th><th>user</th><th>action</th><th>object</th><th>old → new</th><th>reason</th><th>from</th></tr>' +
      rows.map((a) => '<tr data-action="' + esc(a.action) + '"><td>' + a.seq + '</td><td>' + time(a.at) + '</td><td>' + esc(a.user) + ' (' + esc(a.role) + ')</td><td>' + esc(a.action) + '</td><td>' + esc(a.objectType) + ' ' + esc(a.objectId) +
        '</td><td><code>' + esc(a.oldValue === null ? '' : JSON.stringify(a.oldValue)) + '</code> → <code>' + esc(a.newValue === null ? '' : JSON.stringify(a.newValue)) + '</code></td><td>' + esc(a.reason || '') + '</td><td>' + esc(a.client || '') + '</td></tr>').join('') +
      '</table>';
  };
  $('#audit-form').addEventListener('submit', (e) => {
    e.preventDefault();
    load().catch((err) => ($('#audit-rows').innerHTML = '<p class="error">' + esc(err.message) + '</p>'));
  });
  await load();
};

// ---- users ----------------------------------------------------------------------------------

RENDER.users = async (main) => {
  const users = await api('GET', '/api/users');
  const roleSelect = (name, current) => '<select name="' + name + '"' + guard('manageUsers') + '>' + ROLES.map((r) => '<option' + (r === current ? ' selected' : '') + '>' + r + '</option>').join('') + '</select>';
  main.innerHTML =
    '<section class="card"><h2>Users</h2><div id="one-time" role="status"></div><table><tr><th>user</th><th>name</th><th>role</th><th>state</th><th>change (reason required)</th></tr>' +
    users
      .map((u) =>
        '<tr data-user="' + esc(u.username) + '"><td>' + esc(u.username) + '</td><td>' + esc(u.fullName) + '</td><td>' + esc(u.role) + '</td><td>' + (u.disabled ? 'disabled' : u.locked ? 'locked' : 'active') + (u.mustChangePassword ? ' · must change password' : '') + '</td><td>' +
        '<form class="inline" data-manage="' + esc(u.username) + '"><label>Reason<input name="reason" required' + guard('manageUsers') + '></label>' + roleSelect('role', u.role) +
        '<button type="submit" class="action" name="op" value="role" data-need="manageUsers"' + guard('manageUsers') + '>Set role</button>' +
        '<button type="submit" class="action secondary" name="op" value="reset-password" data-need="manageUsers"' + guard('manageUsers') + '>New password</button>' +
        (u.disabled ? '' : '<button type="submit" class="action secondary" name="op" value="disable" data-need="manageUsers"' + guard('manageUsers') + '>Disable</button>') +
        '<span class="error" role="alert"></span></form></td></tr>',
      )
      .join('') +
    '</table><h3>New user</h3><form class="inline" id="new-user"><label>User name<input name="username" required' + guard('manageUsers') + '></label><label>Full name (printed on signatures)<input name="fullName" required' + guard('manageUsers') + '></label>' +
    '<label>Role' + roleSelect('role', 'viewer') + '</label><label>Reason<input name="reason"' + guard('manageUsers') + '></label>' + actionButton('manageUsers', 'Create user') + '<span class="error" role="alert"></span></form></section>';
  const showOneTime = (r) => {
    setTimeout(() => ($('#one-time').innerHTML = '<p class="notice">One-time password for <strong>' + esc(r.user.username) + '</strong>: <code data-testid="one-time-password">' + esc(r.oneTimePassword) + '</code> — shown once; the user must change it at first sign-in.</p>'), 0);
  };
  main.querySelectorAll('form[data-manage]').forEach((f) =>
    f.addEventListener('submit', (e) => {
      const op = e.submitter ? e.submitter.value : 'role';
      const user = encodeURIComponent(f.dataset.manage);
      act(e, async (d) => {
        const r = await api('POST', '/api/users/' + user + '/' + op, op === 'role' ? { role: d.get('role'), reason: d.get('reason') } : { reason: d.get('reason') });
        if (r.oneTimePassword) showOneTime(r);
      }, 'User changed.');
    }),
  );
  $('#new-user').addEventListener('submit', (e) =>
    act(e, async (d) => {
      const r = await api('POST', '/api/users', { username: d.get('username'), fullName: d.get('fullName'), role: d.get('role'), reason: d.get('reason') || undefined });
      showOneTime(r);
    }, 'User created.'),
  );
};

// ---- models and recipes ---------------------------------------------------------------------

RENDER.models = async (main) => {
  const [models, recipes] = await Promise.all([api('GET', '/api/models'), api('GET', '/api/recipes')]);
  main.innerHTML =
    '<section class="card"><h2>Models</h2><table><tr><th>model</th><th>version</th><th>SHA-256</th><th>task · health</th><th>used by</th><th>validation</th><th>approval</th></tr>' +
    models
      .map((m) =>
        '<tr data-model="' + esc(m.key) + '"><td>' + esc(m.name) + '<div class="meta">' + esc(m.path) + '</div></td><td>' + esc(m.version) + '</td><td><code>' + esc(m.sha256.slice(0, 16)) + '…</code></td><td>' + esc(m.task) + ' · ' + esc(m.health) +
        '</td><td>' + m.usedBy.map(esc).join('<br>') + '</td><td>' + (m.validation ? Object.entries(m.validation).map(([k, v]) => esc(k) + ': ' + esc(typeof v === 'number' ? +v.toFixed(4) : v)).join('<br>') : '<span class="meta">no validation report</span>') +
        '</td><td>' + (m.approvals.length ? m.approvals.map(signatureLine).join('') : '<span class="meta">not approved</span>') +
        (m.active ? '' : '<form class="stack" data-approve="' + esc(m.key) + '"><label>Your password, to approve this exact file<input name="password" type="password" autocomplete="current-password" required' + guard('activateModel') + '></label>' + actionButton('activateModel', 'Approve and activate') + '<span class="error" role="alert"></span></form>') +
        '</td></tr>',
      )
      .join('') +
    '</table></section><section class="card"><h2>Recipes</h2>' +
    recipes
      .map((s) => '<h3>' + esc(s.stationId) + ' · active: ' + (s.active ?? '—') + '</h3><table><tr><th>index</th><th>name</th><th>models</th></tr>' + s.recipes.map((r) => '<tr' + (r.index === s.active ? ' style="font-weight:700"' : '') + '><td>' + r.index + '</td><td>' + esc(r.name) + '</td><td>' + r.models.map(esc).join(', ') + '</td></tr>').join('') + '</table>')
      .join('') +
    '</section>';
  main.querySelectorAll('form[data-approve]').forEach((f) => f.addEventListener('submit', (e) => act(e, (d) => api('POST', '/api/models/' + encodeURIComponent(f.dataset.approve) + '/approve', { password: d.get('password') }), 'Model approved.')));
};

// ---- system ---------------------------------------------------------------------------------

function kv(obj) {
  if (obj === null || typeof obj !== 'object') return esc(obj);
  if (Array.isArray(obj)) return obj.map(kv).join('<hr>');
  return '<table>' + Object.entries(obj).map(([k, v]) => '<tr><th>' + esc(k) + '</th><td>' + kv(v) + '</td></tr>').join('') + '</table>';
}
RENDER.system = async (main) => {
  const info = await api('GET', '/api/system');
  main.innerHTML = '<section class="card"><h2>System</h2>' + kv(info) + '<p><a href="/docs">API description (OpenAPI)</a> · <a href="/metrics">metrics</a> · <a href="/healthz">health</a></p></section>';
};

// ---- start ----------------------------------------------------------------------------------

api('GET', '/api/session').then(signedIn, () => signedOut(''));
setInterval(() => state.session && refreshAll().then(() => currentView().name === 'overview' && route()), 5000);
