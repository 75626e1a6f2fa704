"""A stand-in swarming_bot.zip that drives the real config/bot_config.py shim.

`python3 test-bot.zip call_hooks` calls every hook the way the bot does, with
a bot object like the real api/bot.Bot, and prints one JSON line: for each
hook, what it returned or, if it raised, {"raised": "..."}. Run through `sudo`
on PATH, it also asks for a reboot the way the bot's host_reboot does.
`python3 test-bot.zip start_bot` (what the agent runs) does the same once,
then polls get_dimensions and get_state until SIGTERM, printing each answer.
"""

import json
import os
import subprocess
import sys
import time

import remote


class FakeBot(object):
  """The parts of api/bot.Bot that hooks read."""

  def __init__(self, dimensions):
    self._dimensions = dimensions

  @property
  def dimensions(self):
    return dict(self._dimensions)

  @property
  def id(self):
    # As the real Bot: 'unknown' until the first get_dimensions is applied.
    return self._dimensions.get('id', ['unknown'])[0]


def call(name, *args, **kwargs):
  try:
    # Like the bot: after a handshake that injected a config, both configs take part.
    result = remote.call_hook(name, name in remote.CHAINED, *args, **kwargs)
  except Exception as e:  # pylint: disable=broad-except
    return {'raised': '%s: %s' % (type(e).__name__, e)}
  return list(result) if isinstance(result, tuple) else result


def host_reboot():
  """Runs `sudo` as the bot's host_reboot does, from a child that stands for the bot.

  The sudo shim kills its parent: a throwaway child takes that place here so
  this process lives on to print the results.
  """
  stand_in = [sys.executable, '-c', 'import subprocess, sys; subprocess.call(sys.argv[1:])',
              'sudo', '-n', '/sbin/shutdown', '-f', '-r', 'now']
  child = subprocess.Popen(stand_in)
  return child.wait(timeout=20)


def call_hooks(redact_token=False):
  fresh = FakeBot({})
  results = {'startup_get_dimensions': call('get_dimensions', fresh)}
  bot = FakeBot(results['startup_get_dimensions'] if isinstance(
      results['startup_get_dimensions'], dict) else {})
  results['get_dimensions'] = call('get_dimensions', bot)
  results['get_state'] = call('get_state', bot)
  results['get_settings'] = call('get_settings', bot)
  results['get_authentication_headers'] = call('get_authentication_headers', bot)
  if redact_token and isinstance(results['get_authentication_headers'], list):
    import hashlib
    headers = results['get_authentication_headers'][0] or {}
    results['get_authentication_headers'][0] = {
        k: hashlib.sha256(v.encode()).hexdigest() for k, v in headers.items()}
  started = time.time()
  results['on_before_task'] = call(
      'on_before_task', bot, '/b/w/bot_file.json', ['python3', 'run_isolated.py'],
      {'SWARMING_TASK_ID': os.environ.get('TEST_TASK_ID', '')})
  results['on_before_task_s'] = round(time.time() - started, 1)
  results['on_after_task'] = call('on_after_task', bot, True, False, bot.dimensions, {})
  # Newer bots pass keywords; older ones fewer arguments.
  results['on_after_task_kwargs'] = call(
      'on_after_task', bot, failure=False, internal_failure=True, dimensions={}, summary={},
      extra='ignored')
  for name in ('on_bot_startup', 'on_bot_shutdown', 'on_before_poll', 'on_after_poll'):
    results[name] = call(name, bot)
  results['on_bot_idle'] = call('on_bot_idle', bot, 12)
  results['setup_bot'] = call('setup_bot', bot)
  if os.environ.get('TEST_HOST_REBOOT') == '1':
    results['host_reboot_exit'] = host_reboot()
  print(json.dumps(results, sort_keys=True))


def start_bot():
  """What the agent runs: call every hook once, then poll as the bot does until SIGTERM."""
  import signal

  def on_term(_signum, _frame):
    print('test bot got SIGTERM', flush=True)
    sys.exit(0)

  signal.signal(signal.SIGTERM, on_term)
  print('test bot up %s %s' % (os.environ.get('SWARMING_BOT_ID'),
                               os.environ.get('SWARMING_EXTERNAL_BOT_SETUP')), flush=True)
  print('test bot serial %s' % os.environ.get('ANDROID_SERIAL'), flush=True)
  # The bot's own output is logged by the agent: show a digest, never the token itself.
  call_hooks(redact_token=True)
  bot = FakeBot({})
  poll_s = float(os.environ.get('TEST_POLL_S', '0.5'))
  api = server_api(bot, poll_s)
  while True:
    bot = FakeBot(call('get_dimensions', bot))
    state = call('get_state', bot)
    print('poll ' + json.dumps({'state': state, 'dimensions': bot.dimensions},
                               sort_keys=True), flush=True)
    if api:
      api.poll({'dimensions': bot.dimensions, 'state': state, 'version': remote.version()})
    time.sleep(poll_s)


def server_api(bot, poll_s):
  """Handshakes with the server in config/config.json, if the zip names one."""
  url = remote.server()
  if not url:
    return None
  remote.setup_logging()
  print('test bot version %s running %s' % (remote.version(), os.path.basename(remote.THIS_FILE)),
        flush=True)
  api = remote.Remote(url, bot, os.environ.get('SWARMING_BOT_ID'))
  api.handshake({'dimensions': call('get_dimensions', bot), 'state': call('get_state', bot),
                 'version': remote.version()}, poll_s)
  return api


def main(argv):
  if argv[1:] == ['call_hooks']:
    call_hooks()
    return 0
  if argv[1:] == ['start_bot']:
    start_bot()
    return 0
  sys.stderr.write('usage: %s call_hooks|start_bot\n' % argv[0])
  return 2


if __name__ == '__main__':
  sys.exit(main(sys.argv))
