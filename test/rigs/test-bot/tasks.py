"""The test bot's tasks, signals and terminate, as the real bot_main does them.

Triggers are files in the bot's working directory (its cwd), written by tests:

  run-task    run one task; the file holds how long task_runner runs (seconds).
  terminate   the server's `terminate`: post bot_shutdown and exit 0.

Like bot_main._run_manifest, a task calls on_before_task, starts task_runner
detached (subprocess42's detached: its own process group, same session) and
waits for it; task_runner starts run_isolated detached too, which keeps
running on its own (here: sleeps). Like
bot_main._run_bot, SIGTERM only sets a quit flag, checked between tasks, so a
running task is never cut short by it. Every line a test waits on is printed.

With TEST_HEADLESS=1 each poll also logs, through python logging in luci's
format, the two ERROR lines the real bot logs on a host without a display.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time

TASK_FILE = 'run-task'
TERMINATE_FILE = 'terminate'

_quit = threading.Event()

# task_runner: starts run_isolated in a new session and waits for it, at most argv[1] seconds.
_TASK_RUNNER = '''
import subprocess, sys, time
import os
iso = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)'],
                       preexec_fn=os.setpgrp)
print('run_isolated %d' % iso.pid, flush=True)
deadline = time.time() + float(sys.argv[1])
while iso.poll() is None and time.time() < deadline:
  time.sleep(0.05)
'''


def say(text):
  print(text, flush=True)


def install_quit_handler():
  """SIGTERM sets the quit flag, as the real bot's handler does; nothing else."""
  def on_term(_signum, _frame):
    say('test bot got SIGTERM')
    _quit.set()
  signal.signal(signal.SIGTERM, on_term)


def quitting():
  return _quit.is_set()


def pause(seconds):
  """Sleeps between polls; a quit request ends it at once."""
  _quit.wait(seconds)


def poll(bot, call):
  """Acts on a pending command; returns True when the server said terminate."""
  if _headless():
    _log_headless_noise()
  if os.path.exists(TERMINATE_FILE):
    os.remove(TERMINATE_FILE)
    # bot_main.cmd_terminate sets the quit bit; on_bot_exit posts bot_shutdown.
    say('test bot bot_shutdown: terminated by the server')
    return True
  if os.path.exists(TASK_FILE):
    with open(TASK_FILE) as f:
      seconds = float(f.read().strip() or '3600')
    os.remove(TASK_FILE)
    run_task(bot, call, seconds)
  return False


def run_task(bot, call, seconds):
  env = dict(os.environ, SWARMING_TASK_ID='test-task-%d' % int(time.time() * 1000))
  command = [sys.executable, '-c', _TASK_RUNNER, str(seconds)]
  call('on_before_task', bot, 'bot_file.json', command, env)
  # As bot_main._Popen: detached, i.e. os.setpgid(0, 0) in the child (no new session).
  runner = subprocess.Popen(command, env=env, preexec_fn=os.setpgrp)
  say('task_runner %d' % runner.pid)
  # A signal does not interrupt the wait (PEP 475): the task runs to its end.
  runner.wait()
  say('task ended %d' % runner.returncode)
  call('on_after_task', bot, False, False, bot.dimensions, {})


def _headless():
  return os.environ.get('TEST_HEADLESS') == '1'


_noise_logger = None


def _log_headless_noise():
  global _noise_logger
  if _noise_logger is None:
    # luci's logging_utils.prepare_logging: UTC, severity letter, ERROR and above on stderr.
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter('%(process)d %(asctime)s.%(msecs)03d %(severity)s: %(message)s',
                                  '%Y-%m-%d %H:%M:%S')
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)

    class Severity(logging.Filter):
      def filter(self, record):
        record.severity = record.levelname[0]
        return True

    handler.addFilter(Severity())
    _noise_logger = logging.getLogger('test-bot-headless')
    _noise_logger.addHandler(handler)
    _noise_logger.propagate = False
    _noise_logger.error('test bot: a real error, once')
  missing = "[Errno 2] No such file or directory: 'xrandr'"
  _noise_logger.error('is_display_attached(): %s', missing)
  _noise_logger.error('get_display_resolution(): %s', missing)
