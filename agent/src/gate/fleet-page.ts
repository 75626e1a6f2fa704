/**
 * The farm's page for people, like Skia's machine server: one table of every phone, sortable by
 * clicking a heading, filtered by words or `column:value` terms, one page of rows at a time
 * (the gate sorts, filters and cuts: 16,000 phones never reach the browser at once), stale
 * heartbeats (over 60 s) and uptimes over 25 h highlighted, a row's details on click, and a
 * refresh every 10 s. No external assets, relative URLs, every value set as text.
 */
import { PAGE_STYLE } from '../http/wake-page.js';

const SCRIPT = `
(function () {
  'use strict';
  var REFRESH_MS = 10000;
  var COLUMNS = [
    ['node', 'Node'], ['slot', 'Slot'], ['type', 'Type'], ['model', 'Model'], ['serial', 'Serial'],
    ['state', 'State'], ['battery', 'Battery'], ['temperatureC', 'Temp.'],
    ['uptimeSeconds', 'Uptime'], ['idleChecks', 'Idle checks'], ['heartbeatAge', 'Last seen']
  ];
  var query = { q: '', sort: 'node', dir: 'asc', offset: 0, limit: 100 };
  var open = {};
  var timer;
  var $ = function (id) { return document.getElementById(id); };

  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value === undefined || value === null ? '\\u2014' : String(value);
    if (className) el.className = className;
    return el;
  }
  function duration(s) {
    if (s === undefined || s === null) return null;
    if (s < 120) return s + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }
  function shown(row, key) {
    var v = row[key];
    if (key === 'battery') return v === undefined ? null : v + ' %';
    if (key === 'temperatureC') return v === undefined ? null : v.toFixed(1) + ' \\u00b0C';
    if (key === 'uptimeSeconds') return duration(v);
    if (key === 'heartbeatAge') return v === null ? 'never' : duration(v) + ' ago';
    if (key === 'state') return v + (row.asleep && v !== 'asleep' ? ' (asleep)' : '') + (row.taskRunning && v !== 'busy' ? ' \\u00b7 task running' : '') + (row.held ? ' \\u00b7 held' : '');
    return v;
  }
  function stateClass(s) {
    if (s === 'ready' || s === 'busy') return 'ok';
    if (s === 'asleep' || s === 'booting' || s === 'recovering' || s === 'waking') return 'wait';
    return 'bad';
  }

  function heading() {
    var tr = $('head');
    tr.replaceChildren();
    COLUMNS.forEach(function (c) {
      var th = text('th', c[1] + (query.sort === c[0] ? (query.dir === 'asc' ? ' \\u25b2' : ' \\u25bc') : ''));
      th.dataset.col = c[0];
      th.className = 'sortable';
      th.addEventListener('click', function () {
        query.dir = query.sort === c[0] && query.dir === 'asc' ? 'desc' : 'asc';
        query.sort = c[0];
        query.offset = 0;
        load();
      });
      tr.appendChild(th);
    });
  }

  function details(row) {
    var tr = document.createElement('tr');
    tr.className = 'details';
    var td = document.createElement('td');
    td.colSpan = COLUMNS.length;
    var dl = document.createElement('dl');
    var facts = [
      ['Bot', row.bot], ['Reason', row.reason], ['Diagnosis', row.diagnosis],
      ['Agent', row.address], ['Held awake', row.held ? 'yes (hot standby)' : 'no'],
      ['Node maintenance', row.nodeMaintenance]
    ];
    Object.keys(row.dimensions).sort().forEach(function (k) { facts.push([k, row.dimensions[k].join(', ')]); });
    facts.forEach(function (f) {
      if (f[1] === undefined || f[1] === null) return;
      dl.appendChild(text('dt', f[0]));
      dl.appendChild(text('dd', f[1]));
    });
    td.appendChild(dl);
    tr.appendChild(td);
    return tr;
  }

  function render(page) {
    heading();
    var body = $('rows');
    body.replaceChildren();
    page.rows.forEach(function (row) {
      var id = row.node + '/' + row.slot;
      var tr = document.createElement('tr');
      tr.className = 'phone' + (row.staleHeartbeat ? ' stale' : '') + (row.longUptime ? ' long-uptime' : '');
      tr.dataset.id = id;
      COLUMNS.forEach(function (c) {
        var td = text('td', shown(row, c[0]));
        if (c[0] === 'state') td.className = 'state ' + stateClass(row.state);
        if (c[0] === 'uptimeSeconds' && row.longUptime) td.title = 'up for more than 25 h';
        if (c[0] === 'heartbeatAge' && row.staleHeartbeat) td.title = 'no heartbeat for more than 60 s';
        tr.appendChild(td);
      });
      tr.addEventListener('click', function () { open[id] = !open[id]; render(page); });
      body.appendChild(tr);
      if (open[id]) body.appendChild(details(row));
    });
    var last = Math.min(page.offset + page.rows.length, page.matched);
    $('count').textContent = page.matched === 0 ? 'No phone matches.' :
      (page.offset + 1) + '\\u2013' + last + ' of ' + page.matched + (page.matched !== page.total ? ' (of ' + page.total + ')' : '') + ' phones';
    $('prev').disabled = page.offset === 0;
    $('next').disabled = last >= page.matched;
    var states = Object.keys(page.states).sort().map(function (s) { return page.states[s] + ' ' + s; });
    $('summary').textContent = page.nodes + ' nodes \\u00b7 ' + states.join(' \\u00b7 ');
    $('banner').hidden = !page.stale;
    $('banner').textContent = page.stale ? 'The gate cannot list the farm' + (page.error ? ' (' + page.error + ')' : '') + ': what follows may be old.' : '';
  }

  function load() {
    clearTimeout(timer);
    var params = new URLSearchParams(query);
    fetch('phones?' + params.toString(), { cache: 'no-store' })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || ('HTTP ' + r.status)); return b; }); })
      .then(function (page) { render(page); document.body.dataset.loaded = String(Date.now()); })
      .catch(function (e) { $('banner').hidden = false; $('banner').textContent = 'The gate does not answer (' + e.message + ').'; })
      .then(function () { timer = setTimeout(load, REFRESH_MS); });
  }

  var typing;
  $('filter').addEventListener('input', function (e) {
    clearTimeout(typing);
    typing = setTimeout(function () { query.q = e.target.value; query.offset = 0; load(); }, 250);
  });
  $('prev').addEventListener('click', function () { query.offset = Math.max(0, query.offset - query.limit); load(); });
  $('next').addEventListener('click', function () { query.offset += query.limit; load(); });
  heading();
  load();
})();
`;

const STYLE = `${PAGE_STYLE}
body { max-width: 90rem; }
#banner { background: #fff1f0; color: #cf222e; padding: .6rem .8rem; border-radius: 4px; }
.bar { display: flex; gap: 1rem; align-items: center; margin: 0 0 1rem; flex-wrap: wrap; }
#filter { flex: 1; min-width: 16rem; font: inherit; padding: .4rem .6rem; }
th.sortable { cursor: pointer; user-select: none; white-space: nowrap; }
tr.phone { cursor: pointer; }
tr.phone:hover { background: #f6f8fa; }
tr.stale td { background: #fff8c5; }
tr.long-uptime td:nth-child(9) { background: #ffebe9; font-weight: 600; }
tr.details dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
tr.details dt { color: #666; }
tr.details dd { margin: 0; font-family: ui-monospace, monospace; }
th, td { padding: .35rem .6rem; font-size: .9rem; }
`;

export const FLEET_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Device farm</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Device farm</h1>
<p id="summary">Loading\u2026</p>
<p id="banner" hidden></p>
<div class="bar">
<input id="filter" type="search" placeholder="Filter: words, or state:ready type:sargo device_os:Q node:pi-1 stale long-uptime held" aria-label="Filter">
<span id="count"></span>
<button id="prev" type="button">\u2190 Previous</button>
<button id="next" type="button">Next \u2192</button>
</div>
<table>
<thead><tr id="head"></tr></thead>
<tbody id="rows"></tbody>
</table>
<noscript><p>This page needs JavaScript; <a href="status">status</a> has the whole farm as JSON.</p></noscript>
<script>${SCRIPT}</script>
</body>
</html>
`;
