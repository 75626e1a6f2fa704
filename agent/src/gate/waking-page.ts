/**
 * What a person gets from `/wake` in a browser, like the emulator gate's waking page: the phone
 * the gate chose, then `wake/status` every 2 s until it is ready, then how to reach it with adb.
 * The chosen phone arrives as JSON in the page (with `<` escaped, so no value can end the script).
 */
import { PAGE_STYLE } from '../http/wake-page.js';

const SCRIPT = `
(function () {
  'use strict';
  var POLL_MS = 2000;
  var phone = JSON.parse(document.getElementById('phone').textContent);
  var headline = document.getElementById('headline');
  var detail = document.getElementById('detail');
  var adb = document.getElementById('adb');
  function name(p) { return (p.model || p.slot) + (p.serial ? ' ' + p.serial : '') + ' on ' + p.node; }
  function show(p) {
    if (p.ready) {
      headline.textContent = 'Ready: ' + name(p);
      document.title = headline.textContent;
      detail.textContent = 'The phone is awake. The gate holds nothing for you: use it soon, or it goes back to sleep after its idle checks.';
      adb.hidden = !p.adb;
      adb.textContent = p.adb ? 'adb -H ' + p.adb.split(':')[0] + ' -P ' + p.adb.split(':')[1] + ' -s ' + p.serial + ' shell' : '';
      return true;
    }
    headline.textContent = 'Waking ' + name(p) + '\\u2026';
    document.title = headline.textContent;
    detail.textContent = 'State: ' + p.state + (p.reason ? ' (' + p.reason + ')' : '') + '. This page refreshes by itself.';
    return false;
  }
  function poll() {
    fetch('wake/status?node=' + encodeURIComponent(phone.node) + '&slot=' + encodeURIComponent(phone.slot), { cache: 'no-store' })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || ('HTTP ' + r.status)); return b; }); })
      .then(function (p) { if (!show(p)) setTimeout(poll, POLL_MS); })
      .catch(function (e) { detail.textContent = 'The phone\\u2019s agent does not answer (' + e.message + '); trying again\\u2026'; setTimeout(poll, POLL_MS); });
  }
  if (!show(phone)) setTimeout(poll, POLL_MS);
})();
`;

/** The page for a phone the gate chose and woke (`answer` is the JSON /wake answers). */
export function wakingPage(answer: Record<string, unknown>): string {
  const json = JSON.stringify(answer).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Waking a phone…</title>
<style>${PAGE_STYLE}
#adb { font-family: ui-monospace, monospace; background: #f6f8fa; padding: .6rem .8rem; }</style>
</head>
<body>
<h1 id="headline">Waking a phone…</h1>
<p id="detail"></p>
<pre id="adb" hidden></pre>
<p><a href="./">The whole farm</a></p>
<script type="application/json" id="phone">${json}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** A refusal (no match, malformed query, ...) for a person, with the same status code. */
export function problemPage(title: string, lines: readonly string[]): string {
  const escape = (s: string): string =>
    s.replace(
      /[&<>"]/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c,
    );
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escape(title)}</title><style>${PAGE_STYLE}</style></head>
<body>
<h1>${escape(title)}</h1>
${lines.map((l) => `<p>${escape(l)}</p>`).join('\n')}
<p><a href="./">The whole farm</a></p>
</body>
</html>
`;
}
