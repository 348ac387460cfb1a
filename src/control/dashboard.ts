// The dashboard: one page of plain HTML, CSS and vanilla JS served by the control server.
// Kept as strings so the package needs no asset copying and no build step; it polls the API.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portcullis</title>
<link rel="stylesheet" href="/dashboard.css">
</head>
<body>
<header><h1>Portcullis</h1><span id="status">connecting…</span></header>
<main>
<section class="cards">
  <div class="card"><div class="label">queries/s</div><div class="big" id="qps">–</div><svg id="spark" viewBox="0 0 120 30" preserveAspectRatio="none"><polyline id="sparkline" points=""/></svg></div>
  <div class="card"><div class="label">queries</div><div class="big" id="queries">–</div></div>
  <div class="card"><div class="label">cache hit ratio</div><div class="big" id="hit-ratio">–</div><div class="small" id="cache-detail"></div></div>
  <div class="card"><div class="label">rate-limited</div><div class="big" id="rate-limited">–</div><div class="small" id="drop-detail"></div></div>
  <div class="card"><div class="label">alerts</div><div class="big" id="alert-count">–</div></div>
</section>
<section class="grid">
  <div class="panel"><h2>Response codes</h2><table id="rcodes"><tbody></tbody></table></div>
  <div class="panel"><h2>Top clients</h2><table id="top-clients"><tbody></tbody></table></div>
  <div class="panel"><h2>Top names</h2><table id="top-domains"><tbody></tbody></table></div>
  <div class="panel"><h2>Zones</h2><table id="zones"><thead><tr><th>zone</th><th>serial</th><th>kind</th></tr></thead><tbody></tbody></table></div>
</section>
<section class="panel wide"><h2>Detector alerts</h2>
<table id="alerts"><thead><tr><th>type</th><th>domain</th><th>client</th><th>score</th><th>action</th><th>first</th><th>last</th><th>evidence</th></tr></thead><tbody></tbody></table>
<p class="empty" id="no-alerts">No alerts.</p>
</section>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
`;

export const DASHBOARD_CSS = `:root { --bg: #f6f7f9; --fg: #1d2430; --muted: #6b7280; --card: #fff; --line: #e3e6eb; --accent: #2563eb; --warn: #b45309; --bad: #b91c1c; }
@media (prefers-color-scheme: dark) { :root { --bg: #12151b; --fg: #e6e8ec; --muted: #9aa3af; --card: #1b2029; --line: #2b313c; --accent: #60a5fa; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: baseline; gap: 1em; padding: 12px 20px; border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; } h2 { font-size: 14px; margin: 0 0 8px; color: var(--muted); font-weight: 600; }
#status { color: var(--muted); } #status.error { color: var(--bad); }
main { padding: 16px 20px; display: grid; gap: 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; }
.card, .panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.label { color: var(--muted); font-size: 12px; } .big { font-size: 26px; font-variant-numeric: tabular-nums; } .small { color: var(--muted); font-size: 12px; }
#spark { width: 100%; height: 30px; } #sparkline { fill: none; stroke: var(--accent); stroke-width: 1.5; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
#alerts td:not(.evidence), #alerts th, #zones td, #zones th { white-space: nowrap; }
td.n { text-align: right; white-space: nowrap; } th { color: var(--muted); font-weight: 600; font-size: 12px; }
tr.alert td:first-child { color: var(--bad); font-weight: 600; }
.evidence { font-family: ui-monospace, monospace; font-size: 12px; color: var(--muted); }
.empty { color: var(--muted); }
`;

export const DASHBOARD_JS = `'use strict';
(function () {
  var token = (location.hash.match(/token=([^&]+)/) || [])[1];
  var headers = token ? { Authorization: 'Bearer ' + decodeURIComponent(token) } : {};
  function $(id) { return document.getElementById(id); }
  function get(path) {
    return fetch(path, { headers: headers, cache: 'no-store' }).then(function (r) {
      if (!r.ok) return r.json().then(function (e) { throw new Error(e.message || r.statusText); });
      return r.json();
    });
  }
  function fmt(n) { return typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: 1 }) : String(n); }
  function time(ms) { return new Date(ms).toLocaleTimeString(); }
  function cell(text, cls) { var td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; }
  function rows(tbody, list) {
    tbody.replaceChildren.apply(tbody, list.map(function (cells) {
      var tr = document.createElement('tr'); cells.forEach(function (c) { tr.appendChild(c); }); return tr;
    }));
  }
  function status(text, bad) { var s = $('status'); s.textContent = text; s.className = bad ? 'error' : ''; }

  function stats() {
    return get('/api/stats').then(function (s) {
      $('qps').textContent = fmt(s.qps);
      $('queries').textContent = fmt(s.queries);
      var c = s.cache || {};
      $('hit-ratio').textContent = c.hits + c.misses > 0 ? (100 * c.hitRatio).toFixed(1) + '%' : '–';
      $('cache-detail').textContent = fmt(c.hits || 0) + ' hits, ' + fmt(c.misses || 0) + ' misses' + (c.entries !== undefined ? ', ' + fmt(c.entries) + ' entries' : '');
      $('rate-limited').textContent = fmt(s.rateLimited || 0);
      $('drop-detail').textContent = fmt(s.dropped || 0) + ' dropped, ' + fmt(s.truncated || 0) + ' truncated';
      var series = s.qpsSeries || [];
      var max = Math.max.apply(null, series.concat([1]));
      $('sparkline').setAttribute('points', series.map(function (v, i) {
        return (i * 120 / Math.max(1, series.length - 1)).toFixed(1) + ',' + (29 - 28 * v / max).toFixed(1);
      }).join(' '));
      var rc = Object.keys(s.rcodes || {}).sort(function (a, b) { return s.rcodes[b] - s.rcodes[a]; });
      rows($('rcodes').tBodies[0], rc.map(function (k) { return [cell(k), cell(fmt(s.rcodes[k]), 'n')]; }));
      rows($('top-clients').tBodies[0], (s.topClients || []).map(function (t) { return [cell(t.client), cell(fmt(t.queries), 'n')]; }));
      rows($('top-domains').tBodies[0], (s.topDomains || []).map(function (t) { return [cell(t.domain), cell(fmt(t.queries), 'n')]; }));
      status('up ' + fmt(s.uptimeSeconds) + ' s · updated ' + time(s.time));
    });
  }
  function alerts() {
    return get('/api/alerts').then(function (list) {
      $('alert-count').textContent = fmt(list.length);
      $('no-alerts').style.display = list.length ? 'none' : '';
      rows($('alerts').tBodies[0], list.map(function (a) {
        var ev = Object.keys(a.evidence || {}).map(function (k) { return k + '=' + a.evidence[k]; }).join(' ');
        return [cell(a.type), cell(a.domain), cell(a.client), cell(a.score.toFixed(2), 'n'), cell(a.action + (a.until ? ' until ' + time(a.until) : '')),
          cell(time(a.first)), cell(time(a.last)), cell(ev, 'evidence')];
      }));
      Array.prototype.forEach.call($('alerts').tBodies[0].rows, function (tr, i) { tr.className = 'alert'; tr.dataset.type = list[i].type; });
    });
  }
  function zones() {
    return get('/api/zones').then(function (list) {
      rows($('zones').tBodies[0], list.map(function (z) { return [cell(z.name), cell(String(z.serial), 'n'), cell(z.kind || '')]; }));
    });
  }
  function tick(fn, ms) {
    function run() { fn().catch(function (e) { status('error: ' + e.message, true); }).then(function () { setTimeout(run, ms); }); }
    run();
  }
  tick(stats, 1000);
  tick(alerts, 2000);
  tick(zones, 10000);
})();
`;
