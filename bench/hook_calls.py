"""Times the real bot_config.py hooks from one Python process, as the Swarming bot calls them.

Usage: python3 hook_calls.py N  (env: FARM_HOOK_URL, SWARMING_BOT_ID; PYTHONPATH holding
bot-config/python and the test bot's api/ package). Prints one JSON object: microseconds
per call for each hook and for a bare urllib GET /healthz. The floor is the same run against
a bare node:http server (bench/bare-hook-server.mjs).
Run as the bot under the agent (bench_bot_main.py), it writes the object to $BENCH_HOOK_OUT.
"""

import json
import os
import sys
import time

import bot_config

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
WARMUP = 20


def healthz():
  """urllib's own round trip on the same opener, to the agent's cheapest route."""
  with bot_config._OPENER.open(bot_config._hook_url() + '/healthz', timeout=5) as response:
    return response.read()


RUNNER_ENV = {'SWARMING_TASK_ID': 'bench-task'}
CALLS = [
    ('urllib GET /healthz', healthz),
    ('get_state', bot_config.get_state),
    ('get_dimensions', bot_config.get_dimensions),
    ('get_settings', bot_config.get_settings),
]


def timed(fn):
  start = time.perf_counter_ns()
  fn()
  return (time.perf_counter_ns() - start) / 1000.0


def check():
  """Fails loudly if the shim fell back to its own answer (the agent did not answer)."""
  dims = bot_config.get_dimensions()
  state = bot_config.get_state()
  if 'quarantined' in dims or 'quarantined' in state:
    raise SystemExit('the agent did not answer properly: %r %r' % (dims, state))


def main():
  check()
  out = {}
  for name, fn in CALLS:
    for _ in range(WARMUP):
      fn()
    out[name] = [timed(fn) for _ in range(N)]
  # A task starts and ends: the two hooks alternate, as they do in the bot.
  before, after = [], []
  for i in range(WARMUP + N):
    b = timed(lambda: bot_config.on_before_task(None, None, None, RUNNER_ENV))
    a = timed(bot_config.on_after_task)
    if i >= WARMUP:
      before.append(b)
      after.append(a)
  out['on_before_task'] = before
  out['on_after_task'] = after
  target = os.environ.get('BENCH_HOOK_OUT')
  if target:
    with open(target + '.partial', 'w') as f:
      json.dump(out, f)
    os.rename(target + '.partial', target)
  else:
    print(json.dumps(out))


if __name__ == '__main__':
  main()
