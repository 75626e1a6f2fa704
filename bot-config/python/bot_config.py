# farm-agent's bot_config.py for the LUCI Swarming bot.
"""Forwards the Swarming bot's hooks to farm-agent over loopback HTTP.

The Swarming server injects this file into the bot as config/bot_config.py.
Every decision lives in farm-agent; this file only carries the bot's own
answer there and the agent's answer back.

It must never raise out of a hook: a get_dimensions that raises or returns a
malformed dict makes the bot keep stale dimensions and quarantine itself (on
older bots until restart), and a get_state that raises replaces the whole
state. So on any failure a hook returns the bot's own answer plus a
`quarantined` reason, which clears itself on the next poll once the agent
answers again.

Standard library only, Python 3: it runs inside whatever python3 runs the bot.

The agent answers a hook only when the connection belongs to the process of
the bot named in X-Farm-Bot-Id (it looks the socket up in /proc, once per
connection), so the hooks connect from the bot's own process and keep their
connection alive between calls: one lookup per connection instead of one per
call, and no socket left in TIME_WAIT per call (each such socket makes the
lookup slower). Python's sockets are not inherited by subprocesses (PEP 446),
so a task never holds it. A refusal (HTTP 403, with the reason) surfaces like
any other failure: as a quarantine reason.

Environment:
  FARM_HOOK_URL          the agent's hook listener (default http://127.0.0.1:11000)
  SWARMING_BOT_ID        the bot id, when the bot object does not know it yet
  FARM_READY_TIMEOUT_S   how long on_before_task waits for the device (default 600)
  FARM_TOKEN_CONFIG      token config file (default /etc/swarming_config/oauth2_access_token_config.json)
  FARM_BOT_PRIVATE       1: make the bot process non-dumpable (set by the agent with FARM_BOT_USER)
"""

import http.client
import json
import logging
import os
import threading
import time
import urllib.parse
import urllib.request
import uuid

DEFAULT_HOOK_URL = 'http://127.0.0.1:11000'
DEFAULT_TOKEN_CONFIG = '/etc/swarming_config/oauth2_access_token_config.json'
DEFAULT_READY_TIMEOUT_S = 600.0

# The agent answers from memory; a slow answer means it is wedged, and the bot
# must not stall its poll loop on it.
HOOK_TIMEOUT_S = 5.0
TOKEN_TIMEOUT_S = 5.0
# One on_before_task call waits at most this long on the agent side, so a lost
# connection costs little and the overall deadline stays ours.
READY_STEP_S = 30.0
# Pause after a failed or early on_before_task answer, so a broken agent is not hammered.
RETRY_PAUSE_S = 1.0
# The Swarming server refuses dimension values longer than this.
MAX_DIMENSION_VALUE = 256

# Tokens come from a local endpoint, while a pod may carry http_proxy for the
# bot's own traffic: never proxy them. (The hooks use http.client, which never
# proxies.)
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Each thread's kept-alive connection to the agent: (host, port, HTTPConnection).
_connections = threading.local()

# Last good answers, kept for when the source fails (see the hooks below).
_last_token = None
_last_settings = None
# The task on_before_task reported, named again by on_after_task: the bot calls both hooks in
# the zip's config and in the bots.cfg script, and the agent counts each task once by its id.
_task_id = None
# Success notices are best effort: never hold the bot's poll loop up for long.
NOTICE_TIMEOUT_S = 1.0


def _keep_tasks_out():
  """Makes the bot's process non-dumpable, once it runs as its own user.

  Its tasks run as the same user, and where Yama's ptrace_scope is 0 (Debian's
  default) a task could attach to the bot and speak through its connection.
  A non-dumpable process cannot be ptraced, nor its /proc files (fds, environ,
  memory) read, by processes of its own user; root with CAP_SYS_PTRACE (the
  agent, checking who holds a hook connection) still can. The tasks the bot
  starts are dumpable again after their exec. Best effort: never raises.
  """
  if os.environ.get('FARM_BOT_PRIVATE') != '1':
    return
  try:
    import ctypes  # pylint: disable=import-outside-toplevel
    pr_set_dumpable = 4
    if ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0) != 0:
      logging.warning('farm-agent: prctl(PR_SET_DUMPABLE) failed: errno %d', ctypes.get_errno())
  except Exception:  # pylint: disable=broad-except
    logging.exception('farm-agent: cannot make the bot non-dumpable')


_keep_tasks_out()


class HookError(Exception):
  """The agent could not be reached or gave an unusable answer."""


def _hook_url():
  return (os.environ.get('FARM_HOOK_URL') or DEFAULT_HOOK_URL).rstrip('/')


def _bot_id(bot, own_dimensions=None):
  """The id the agent knows this bot by.

  bot.id reads the bot's current dimensions and says 'unknown' before the
  first get_dimensions (and the bot object is None when the bot computes its
  attributes offline), so fall back to the id the agent launched it with.
  """
  try:
    bot_id = getattr(bot, 'id', None) if bot is not None else None
  except Exception:  # pylint: disable=broad-except
    bot_id = None
  if isinstance(bot_id, str) and bot_id and bot_id != 'unknown':
    return bot_id
  if os.environ.get('SWARMING_BOT_ID'):
    return os.environ['SWARMING_BOT_ID']
  ids = (own_dimensions or {}).get('id') if isinstance(own_dimensions, dict) else None
  if isinstance(ids, list) and ids and isinstance(ids[0], str):
    return ids[0]
  return None


def _connection(timeout):
  """This thread's connection to the agent, with `timeout` for the next call."""
  url = urllib.parse.urlsplit(_hook_url())
  where = (url.hostname or '127.0.0.1', url.port or 80)
  kept = getattr(_connections, 'kept', None)
  if kept is None or kept[:2] != where:
    if kept is not None:
      kept[2].close()
    kept = where + (http.client.HTTPConnection(where[0], where[1], timeout=timeout),)
    _connections.kept = kept
  connection = kept[2]
  connection.timeout = timeout
  if connection.sock is not None:
    connection.sock.settimeout(timeout)
  return connection


def _round_trip(path, data, headers, timeout):
  """(status, body) from one POST on the kept connection.

  The agent closes a connection idle for a while; a request that finds it
  closed was never read, so it is sent once more on a fresh connection.
  """
  for attempt in (1, 2):
    connection = _connection(timeout)
    reused = connection.sock is not None
    try:
      connection.request('POST', path, body=data, headers=headers)
      response = connection.getresponse()
      return response.status, response.read()
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
      connection.close()
      if not reused or attempt == 2:
        raise
    except Exception:
      connection.close()
      raise


def _call(hook, body, bot_id, timeout=HOOK_TIMEOUT_S):
  """POSTs body to the agent's hook and returns the decoded JSON answer."""
  headers = {'Content-Type': 'application/json'}
  if bot_id:
    headers['X-Farm-Bot-Id'] = bot_id
  path = '%s/%s' % (urllib.parse.urlsplit(_hook_url()).path.rstrip('/'), hook)
  try:
    status, raw = _round_trip(path, json.dumps(body).encode('utf-8'), headers, timeout)
    if status != 200:
      raise HookError('HTTP %d: %s' % (status, _error_of(raw)))
    return json.loads(raw.decode('utf-8'))
  except (OSError, ValueError, http.client.HTTPException) as e:
    # Refused connections, timeouts and resets are OSErrors; ValueError is bad JSON.
    raise HookError(str(e) or type(e).__name__)


def _error_of(raw):
  """The agent's {"error": ...} reason, else the raw body."""
  text = raw.decode('utf-8', 'replace')
  try:
    return json.loads(text)['error']
  except Exception:  # pylint: disable=broad-except
    return text[:200] or 'no reason given'


def _reason(hook, error):
  """A quarantine reason short enough to be a valid dimension value."""
  text = ('farm-agent %s failed: %s' % (hook, error)).strip()
  if len(text) > MAX_DIMENSION_VALUE:
    text = text[:MAX_DIMENSION_VALUE - 3] + '...'
  return text


def _is_dimensions(value, bot_id):
  return (isinstance(value, dict) and
          all(isinstance(k, str) and isinstance(v, list) and
              all(isinstance(i, str) for i in v) for k, v in value.items()) and
          (bot_id is None or value.get('id') == [bot_id]))


def get_dimensions(bot=None, *_args, **_kwargs):
  """The bot's own dimensions, amended by the agent."""
  own = None
  bot_id = _bot_id(bot)
  try:
    from api import os_utilities  # pylint: disable=import-outside-toplevel
    own = os_utilities.get_dimensions()
    bot_id = _bot_id(bot, own)
    answer = _call('get_dimensions', own, bot_id)
    if not _is_dimensions(answer, bot_id):
      raise HookError('answer is not {str: [str]} with id [%r]: %r' % (bot_id, answer))
    return answer
  except Exception as e:  # pylint: disable=broad-except
    reason = _reason('get_dimensions', e)
    logging.exception('%s', reason)
    out = dict(own) if isinstance(own, dict) else {}
    if bot_id and not out.get('id'):
      out['id'] = [bot_id]
    out['quarantined'] = [reason]
    return out


def get_state(bot=None, *_args, **_kwargs):
  """The bot's own state, with quarantined/maintenance decided by the agent."""
  own = None
  try:
    from api import os_utilities  # pylint: disable=import-outside-toplevel
    own = os_utilities.get_state()
    answer = _call('get_state', own, _bot_id(bot))
    if not isinstance(answer, dict):
      raise HookError('answer is not a dict: %r' % (answer,))
    return answer
  except Exception as e:  # pylint: disable=broad-except
    reason = _reason('get_state', e)
    logging.exception('%s', reason)
    out = dict(own) if isinstance(own, dict) else {}
    out['quarantined'] = reason
    return out


def get_settings(bot=None, *_args, **_kwargs):
  """The agent's settings; the bot deep-merges them into its defaults.

  When the agent cannot answer, the last settings it gave are better than the
  bot's defaults (sized for big machines, not a Pi), so they are kept.
  """
  global _last_settings
  try:
    answer = _call('get_settings', {}, _bot_id(bot))
    if not isinstance(answer, dict):
      raise HookError('answer is not a dict: %r' % (answer,))
    _last_settings = answer
    return answer
  except Exception as e:  # pylint: disable=broad-except
    logging.exception('%s', _reason('get_settings', e))
    return dict(_last_settings or {})


def get_authentication_headers(bot=None, *_args, **_kwargs):
  """(headers, expiry) for the bot's calls to the Swarming server.

  The token config is {"url", "headers"}; GET on the url answers
  {"access_token", "expires_in", ...}.

  On failure this never raises and never returns (_, None): None makes the bot
  switch authentication off until it restarts, and raising at start-up
  retries only a minute before the bot gives up. Instead it returns the last
  token while that is still valid (the bot asks again well before expiry, so
  a refresh that fails usually has minutes of a good token left), else
  ({}, 0): expiry 0 makes the bot call this hook again on its next request,
  so authentication comes back as soon as the token source does.
  """
  global _last_token
  path = os.environ.get('FARM_TOKEN_CONFIG') or DEFAULT_TOKEN_CONFIG
  try:
    with open(path, 'rb') as f:
      config = json.loads(f.read().decode('utf-8'))
    url = config['url']
    headers = config.get('headers') or {}
    if not isinstance(url, str) or not isinstance(headers, dict):
      raise ValueError('%s: "url" must be a string and "headers" an object' % path)
    request = urllib.request.Request(url, headers=headers)
    with _OPENER.open(request, timeout=TOKEN_TIMEOUT_S) as response:
      body = json.loads(response.read().decode('utf-8'))
    token = body.get('access_token')
    expires_in = body.get('expires_in')
    if not isinstance(token, str) or not token:
      raise ValueError('no access_token in the answer')
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or expires_in <= 0:
      raise ValueError('bad expires_in %r' % (expires_in,))
    _last_token = ({'Authorization': 'Bearer %s' % token}, time.time() + expires_in)
    return _last_token
  except Exception:  # pylint: disable=broad-except
    logging.exception('farm-agent: cannot get a token using %s', path)
    if _last_token and _last_token[1] > time.time():
      return _last_token
    return {}, 0


def _ready_timeout():
  text = os.environ.get('FARM_READY_TIMEOUT_S')
  try:
    return float(text) if text else DEFAULT_READY_TIMEOUT_S
  except ValueError:
    logging.error('farm-agent: FARM_READY_TIMEOUT_S=%r is not a number', text)
    return DEFAULT_READY_TIMEOUT_S


def on_before_task(bot=None, bot_file=None, runner_cmd=None, runner_env=None, *_args, **_kwargs):
  """Tells the agent a task starts and waits, bounded, until the device is ready.

  Sleeping phones are woken here: Swarming dispatches to a sleeping bot, so
  the wait belongs before the task, not in dispatch. The agent holds each call
  for a while; the call is repeated with the same call_id (so the start is
  reported once) until the device is ready or the deadline passes. The task
  then runs either way: refusing it is not a hook's power.
  """
  global _task_id
  del bot_file, runner_cmd  # Part of the hook's signature; the agent needs neither.
  bot_id = _bot_id(bot)
  task_id = runner_env.get('SWARMING_TASK_ID') if isinstance(runner_env, dict) else None
  _task_id = task_id if isinstance(task_id, str) and task_id else None
  call_id = uuid.uuid4().hex
  deadline = time.time() + _ready_timeout()
  last = 'no answer yet'
  while True:
    step = max(0.0, min(READY_STEP_S, deadline - time.time()))
    body = {'call_id': call_id, 'wait_ms': int(step * 1000)}
    if isinstance(task_id, str) and task_id:
      body['task_id'] = task_id
    try:
      if _call('on_before_task', body, bot_id, timeout=step + HOOK_TIMEOUT_S).get('ready') is True:
        return
      last = 'device not ready'
    except Exception as e:  # pylint: disable=broad-except
      last = str(e)
      logging.warning('%s', _reason('on_before_task', e))
    if time.time() + RETRY_PAUSE_S >= deadline:
      logging.error('farm-agent: device of %s not ready in time (%s); the task runs anyway',
                    bot_id, last)
      return
    time.sleep(RETRY_PAUSE_S)


def on_after_task(bot=None, failure=False, internal_failure=False, dimensions=None, summary=None,
                  *_args, **_kwargs):
  """Tells the agent the task ended."""
  del dimensions, summary  # Part of the hook's signature; the agent needs neither.
  body = {'failure': bool(failure), 'internal_failure': bool(internal_failure)}
  if _task_id:
    body['task_id'] = _task_id
  try:
    _call('on_after_task', body, _bot_id(bot))
  except Exception as e:  # pylint: disable=broad-except
    logging.exception('%s', _reason('on_after_task', e))


def _notice(hook, body, bot):
  """Tells the agent the bot got through to the server; failures are only logged.

  Returns whether the agent heard it."""
  try:
    _call(hook, body, _bot_id(bot), timeout=NOTICE_TIMEOUT_S)
    return True
  except Exception as e:  # pylint: disable=broad-except
    logging.warning('%s', _reason(hook, e))
    return False


def on_handshake(bot=None, *_args, **_kwargs):
  """The server accepted the bot's handshake: its credentials work."""
  _notice('on_handshake', {}, bot)


# Whether the agent has heard that the server accepts this bot since its last failed poll.
# The idle answer is a command too (`sleep`): without this, every poll costs a hook call.
_accepted_reported = False


def on_after_poll(bot=None, cmd=None, *_args, **_kwargs):
  """A poll that got a command (None: the poll failed) proves the credentials still work."""
  global _accepted_reported
  if not (isinstance(cmd, str) and cmd):
    _accepted_reported = False
    return
  if not _accepted_reported:
    _accepted_reported = _notice('on_after_poll', {'cmd': cmd}, bot)


# The hooks below are the agent's business elsewhere (it starts, restarts and
# watches the bot itself), so they only have to exist and accept any arguments.


def setup_bot(*_args, **_kwargs):
  return True


def on_bot_startup(*_args, **_kwargs):
  return None


def on_bot_shutdown(*_args, **_kwargs):
  return None


def on_before_poll(*_args, **_kwargs):
  return None


def on_bot_idle(*_args, **_kwargs):
  return None
