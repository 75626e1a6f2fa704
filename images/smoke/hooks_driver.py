"""Image smoke test: the bot's side, run by the image's own python3 in its root.

Imports the image's real bot_config.py (/opt/farm-agent/bot-config/python)
and calls every hook against the running agent, as the Swarming bot would,
then runs the image's /usr/bin/sudo shim from a child process the way the
bot's host_reboot does. bot_config.py never raises, it falls back to the
bot's own answer plus a `quarantined` reason and logs why, so a hook counts
as answered by the agent only if nothing was logged and no `quarantined`
reason came back.

Environment: SWARMING_BOT_ID (the agent's FARM_BOT_ID), FARM_HOOK_URL,
SMOKE_POOL (the agent's FARM_POOL). Prints one line per check; exit 1 on
any failure.
"""

import json
import logging
import os
import subprocess
import sys
import urllib.request

sys.path.insert(0, '/opt/farm-agent/bot-config/python')
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the stand-in `api`

import bot_config  # pylint: disable=wrong-import-position

BOT = os.environ['SWARMING_BOT_ID']
POOL = os.environ['SMOKE_POOL']
FAILED = []


class Recorder(logging.Handler):
  """Keeps what bot_config.py logs: it logs every fallback it takes."""

  def __init__(self):
    super().__init__(logging.WARNING)
    self.records = []

  def emit(self, record):
    self.records.append(record.getMessage())


RECORDER = Recorder()
logging.getLogger().addHandler(RECORDER)


def check(name, ok, detail):
  print('%s %s%s' % ('ok  ' if ok else 'FAIL', name, '' if ok else ': %s' % detail))
  sys.stdout.flush()
  if not ok:
    FAILED.append(name)


def hook(name, call, verify):
  del RECORDER.records[:]
  try:
    answer = call()
  except Exception as e:  # pylint: disable=broad-except
    check(name, False, 'raised %r' % e)
    return
  logged = sorted(set(RECORDER.records))
  problem = verify(answer)
  check(name, not logged and not problem,
        problem or 'bot_config.py fell back: %s' % '; '.join(logged))


def dims_problem(d):
  if not isinstance(d, dict):
    return 'not a dict: %r' % (d,)
  if 'quarantined' in d:
    return 'quarantined: %s' % d['quarantined']
  if d.get('id') != [BOT]:
    return 'id %r, expected [%r]' % (d.get('id'), BOT)
  # The stand-in bot names no pool: only the agent adds this one.
  if d.get('pool') != [POOL]:
    return 'pool %r, expected the agent\'s [%r]' % (d.get('pool'), POOL)
  return None


def state_problem(s):
  if not isinstance(s, dict):
    return 'not a dict: %r' % (s,)
  if 'quarantined' in s:
    return 'quarantined: %s' % s['quarantined']
  return None


def agent_settings():
  """What the agent itself answers to get_settings, asked over plain HTTP."""
  request = urllib.request.Request(
      os.environ['FARM_HOOK_URL'] + '/get_settings', data=b'{}', method='POST',
      headers={'content-type': 'application/json', 'x-farm-bot-id': BOT})
  with urllib.request.urlopen(request, timeout=30) as response:
    return json.load(response)


def settings_problem(s):
  # The agent's answer, not a copy of it here: its free_partition rules follow the host's
  # disk thresholds. What the shim hands the bot must be exactly that answer.
  want = agent_settings()
  if 'isolated' not in want.get('caches', {}) or 'free_partition' not in want:
    return 'the agent answered %r, without the caches and free_partition settings' % (want,)
  return None if s == want else 'got %r, expected the agent\'s %r' % (s, want)


hook('get_dimensions', lambda: bot_config.get_dimensions(None), dims_problem)
hook('get_state', lambda: bot_config.get_state(None), state_problem)
hook('get_settings', lambda: bot_config.get_settings(None), settings_problem)
hook('on_before_task',
     lambda: bot_config.on_before_task(None, runner_env={'SWARMING_TASK_ID': '5m0k3'}),
     lambda r: None if r is None else 'returned %r' % (r,))
hook('on_after_task', lambda: bot_config.on_after_task(None, failure=False),
     lambda r: None if r is None else 'returned %r' % (r,))

# The bot's host_reboot: a process (the bot) runs `sudo -n shutdown ...`; the
# shim must kill that process, never run the command.
PARENT = '''
import subprocess, sys, time
rc = subprocess.call(['sudo', '-n', '/sbin/shutdown', '-f', '-r', 'now'])
print('parent survived sudo (rc %d)' % rc)
sys.stdout.flush()
time.sleep(SLEEP_S)
'''
base_env = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            'FARM_HOOK_URL': os.environ['FARM_HOOK_URL']}

bot = subprocess.Popen([sys.executable, '-c', PARENT.replace('SLEEP_S', '120')],
                       env=dict(base_env, SWARMING_BOT_ID=BOT),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
try:
  out, err = bot.communicate(timeout=90)
  check('sudo shim kills its parent (the bot)', bot.returncode == -9,
        'parent exited with %r; stdout %r stderr %r' % (bot.returncode, out, err))
except subprocess.TimeoutExpired:
  bot.kill()
  check('sudo shim kills its parent (the bot)', False, 'parent still alive after 90 s')

# Without SWARMING_BOT_ID (a person in `kubectl exec`) it must not kill the shell.
person = subprocess.run([sys.executable, '-c', PARENT.replace('SLEEP_S', '0')], env=base_env,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
check('sudo shim spares a caller that is not a bot',
      person.returncode == 0 and b'parent survived sudo (rc 1)' in person.stdout,
      'rc %r stdout %r stderr %r' % (person.returncode, person.stdout, person.stderr))

print(json.dumps({'failed': FAILED}))
sys.exit(1 if FAILED else 0)
