/**
 * The page people open on a node: like the emulator's gate it wakes the
 * phones on load (POST wake), then polls `lifecycle` every 2 s and redraws
 * until every slot is ready. No external assets (the node may have no way
 * out), relative URLs (it may be served under a proxy prefix), and every
 * value goes into the page as text (`textContent`), never as markup: device
 * properties are strings any phone can set. The farm gate's pages share its style.
 */
const SCRIPT = `
(function () {
  'use strict';
  var POLL_MS = 2000;
  var NEEDS_A_PERSON = { missing: 1, offline: 1, unauthorized: 1, quarantined: 1, maintenance: 1, empty: 1 };
  var headline = document.getElementById('headline');
  var detail = document.getElementById('detail');
  var rows = document.getElementById('slots');

  function phones(n) { return n + (n === 1 ? ' phone' : ' phones'); }

  function cell(row, text, note) {
    var td = document.createElement('td');
    td.textContent = text;
    if (note) {
      var small = document.createElement('div');
      small.className = 'note';
      small.textContent = note;
      td.appendChild(small);
    }
    row.appendChild(td);
    return td;
  }

  function say(title, more) {
    headline.textContent = title;
    document.title = title;
    detail.textContent = more;
  }

  function render(view) {
    var total = view.slots.length;
    var ready = view.slots.filter(function (s) { return s.ready; }).length;
    var stuck = view.slots.filter(function (s) { return !s.ready && NEEDS_A_PERSON[s.state]; }).length;
    var waking = total - ready - stuck;
    if (total === 0) say('No phones on this node', 'No slot has had a phone since the agent started.');
    else if (ready === total) say('All ' + phones(total) + ' ready', 'Every phone is awake.');
    else if (waking > 0) say('Waking ' + phones(waking) + '\\u2026', ready + ' of ' + total + ' ready; this page refreshes by itself.');
    else say(phones(stuck) + (stuck === 1 ? ' needs' : ' need') + ' attention', ready + ' of ' + total + ' ready.');
    rows.replaceChildren();
    view.slots.forEach(function (s) {
      var row = document.createElement('tr');
      cell(row, s.name, s.botId);
      cell(row, s.model || '\\u2014', s.serial || '');
      var state = cell(row, s.state, s.reason || '');
      state.className = 'state ' + (s.ready ? 'ok' : NEEDS_A_PERSON[s.state] ? 'bad' : 'wait');
      cell(row, s.batteryPercent === null ? '\\u2014' : s.batteryPercent + ' %', s.plugged ? 'plugged in' : '');
      cell(row, s.temperatureC === null ? '\\u2014' : s.temperatureC.toFixed(1) + ' \\u00b0C');
      rows.appendChild(row);
    });
  }

  function poll() {
    fetch('lifecycle', { cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (view) {
        render(view);
        if (!view.ready) setTimeout(poll, POLL_MS);
      })
      .catch(function (error) {
        detail.textContent = 'The agent does not answer (' + error.message + '); trying again\\u2026';
        setTimeout(poll, POLL_MS);
      });
  }

  fetch('wake', { method: 'POST' })
    .catch(function () { /* the poll says what is wrong */ })
    .then(poll);
})();
`;

export const PAGE_STYLE = `
body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.8rem; margin: 0 0 .25rem; }
#detail { color: #555; margin: 0 0 1.5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .6rem .8rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: #666; }
.note { font-size: .8rem; color: #777; }
.state { font-weight: 600; }
.ok { color: #1a7f37; }
.wait { color: #9a6700; }
.bad { color: #cf222e; }
`;

export const WAKE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Waking phones…</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1 id="headline">Waking phones…</h1>
<p id="detail">Asking the agent to wake every phone.</p>
<table>
<thead><tr><th>Slot</th><th>Phone</th><th>State</th><th>Battery</th><th>Temperature</th></tr></thead>
<tbody id="slots"></tbody>
</table>
<noscript><p>This page needs JavaScript; <a href="lifecycle">lifecycle</a> has the same as JSON, and POST wake wakes the phones.</p></noscript>
<script>${SCRIPT}</script>
</body>
</html>
`;
