"""The test bot's side of the Swarming bot API, shaped like the real bot's.

Used only when the zip carries config/config.json naming a server (as the
real bot's zip does). What it imitates from luci-py's bot_main.py and
remote_client.py:

- Authentication: before the handshake only the zip's own
  config/bot_config.py answers get_authentication_headers; (headers, expiry)
  with expiry None switches auth off for the rest of the process ("Headers
  callback returned None, disabling auth"); expiry 0 asks again next request.
- Logging: the console (stderr) shows ERROR lines only, in the bot's format
  "<pid> <time> E: <message>"; everything goes to logs/swarming_bot.log. A
  401/403 logs "Request to <url> failed with HTTP status code <n>: ...".
- Handshake: retried with backoff until it succeeds; its answer may carry the
  server's bots.cfg script, which is registered like the bot's "injected"
  config; then the on_handshake hook runs.
- Hooks: non-chained ones call the injected config first, else the zip's;
  chained ones (on_handshake, on_before_task, on_after_task, ...) call both.
- Self-update: on poll command `update` it downloads the version as
  swarming_bot.1.zip (or .2.zip when running as .1.zip) beside itself and
  re-execs on it, same pid; after a good poll it copies the code it runs over
  swarming_bot.zip when that is older (last known good bot code).
"""

import hashlib
import json
import logging
import os
import shutil
import sys
import time
import types
import urllib.error
import urllib.request
import zipfile

THIS_FILE = os.path.abspath(sys.argv[0])
BOT_DIR = os.path.dirname(THIS_FILE)
API = '/swarming/api/v1/bot/'
CHAINED = ('on_bot_startup', 'on_bot_shutdown', 'on_handshake', 'on_before_task',
           'on_after_task', 'on_bot_idle')

_injected = None
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def server():
  """The server named by the zip's config/config.json, else None."""
  try:
    with zipfile.ZipFile(THIS_FILE) as z:
      return json.loads(z.read('config/config.json').decode('utf-8'))['server']
  except (KeyError, OSError, ValueError, zipfile.BadZipFile):
    return None


def version():
  """What the fake server calls this code: the sha256 of the zip."""
  with open(THIS_FILE, 'rb') as f:
    return hashlib.sha256(f.read()).hexdigest()


def setup_logging():
  os.makedirs(os.path.join(BOT_DIR, 'logs'), exist_ok=True)
  fmt = logging.Formatter('%(process)d %(asctime)s %(levelname).1s: %(message)s')
  root = logging.getLogger()
  root.setLevel(logging.DEBUG)
  console = logging.StreamHandler(sys.stderr)
  console.setLevel(logging.ERROR)
  console.setFormatter(fmt)
  log_file = logging.FileHandler(os.path.join(BOT_DIR, 'logs', 'swarming_bot.log'))
  log_file.setFormatter(fmt)
  root.addHandler(console)
  root.addHandler(log_file)


def call_hook(name, chained, *args, **kwargs):
  """Calls hook `name` as bot_main's _call_hook does; None when no config defines it."""
  from config import bot_config  # pylint: disable=import-outside-toplevel
  configs = (bot_config, _injected) if chained else (_injected, bot_config)
  hooks = [getattr(c, name) for c in configs if c is not None and hasattr(c, name)]
  result = None
  for hook in hooks if chained else hooks[:1]:
    result = hook(*args, **kwargs)
  return result


def call_hook_safe(name, chained, *args):
  """Like call_hook, but a hook that raises is logged, as bot_main's _call_hook_safe does."""
  try:
    return call_hook(name, chained, *args)
  except Exception:  # pylint: disable=broad-except
    logging.exception('%s() threw', name)
    return None


class Remote(object):
  """Calls the server with the auth headers the configs give, as RemoteClientNative does."""

  def __init__(self, url, bot, bot_id):
    self.url = url
    self.bot = bot
    self.bot_id = bot_id
    self._headers = None
    self._expiry = None
    self._disabled = False

  def _auth_headers(self):
    if self._disabled:
      return {}
    if not self._expiry or self._expiry - time.time() < 60:
      self._headers, self._expiry = call_hook('get_authentication_headers', False, self.bot)
      if self._expiry is None:
        logging.info('Headers callback returned None, disabling auth')
        self._disabled = True
        return {}
    return dict(self._headers or {})

  def request(self, path, body=None):
    """The decoded answer, or None after logging the failure like the real bot."""
    headers = {'X-Luci-Swarming-Bot-ID': self.bot_id, 'Content-Type': 'application/json'}
    headers.update(self._auth_headers())
    url = self.url + path
    data = json.dumps(body).encode('utf-8') if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
      with _OPENER.open(request, timeout=10) as response:
        raw = response.read()
    except urllib.error.HTTPError as e:
      logging.error('Request to %s failed with HTTP status code %d: %s', url, e.code,
                    e.read().decode('utf-8', 'replace')[:200])
      return None
    except OSError as e:
      logging.error('Unable to open given url, %s: %s', url, e)
      return None
    return raw if body is None else json.loads(raw.decode('utf-8'))

  def handshake(self, attributes, retry_s):
    """Retries until the server answers; registers its injected config like the bot."""
    global _injected
    while True:
      answer = self.request(API + 'handshake', attributes)
      if answer is not None:
        break
      logging.error('Failed to contact for handshake, retrying in %d sec...', retry_s)
      time.sleep(retry_s)
    content = answer.get('bot_config')
    if content:
      _injected = types.ModuleType('injected')
      exec(compile(content, 'injected.py', 'exec'), _injected.__dict__)  # pylint: disable=exec-used
    call_hook_safe('on_handshake', True, self.bot)
    print('handshake ok, server %s' % answer.get('server_version'), flush=True)
    return answer

  def poll(self, attributes):
    """One poll; acts on `update`. Returns the command, None when the poll failed."""
    answer = self.request(API + 'poll', attributes)
    cmd = answer.get('cmd') if answer else None
    call_hook_safe('on_after_poll', False, self.bot, cmd)
    if cmd == 'update':
      self.update(answer['version'])
    elif cmd is not None:
      keep_last_known_good()
    return cmd

  def update(self, new_version):
    name = 'swarming_bot.2.zip' if os.path.basename(THIS_FILE) == 'swarming_bot.1.zip' else (
        'swarming_bot.1.zip')
    target = os.path.join(BOT_DIR, name)
    code = self.request(API + 'bot_code/' + new_version)
    if code is None:
      return
    with open(target, 'wb') as f:
      f.write(code)
    print('updating to %s as %s' % (new_version, name), flush=True)
    os.execv(sys.executable, [sys.executable, target, 'start_bot'])


def keep_last_known_good():
  """Copies the code that just polled well over swarming_bot.zip when that is older."""
  golden = os.path.join(BOT_DIR, 'swarming_bot.zip')
  if golden == THIS_FILE:
    return
  if os.path.exists(golden) and os.stat(golden).st_mtime >= os.stat(THIS_FILE).st_mtime:
    return
  shutil.copy(THIS_FILE, golden)
