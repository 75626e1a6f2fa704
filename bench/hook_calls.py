"""Times the real bot_config.py hooks from one Python process, as the Swarming bot calls them.

Usage: python3 hook_calls.py N  (env: FARM_HOOK_URL, SWARMING_BOT_ID; PYTHONPATH holding
bot-config/python and the test bot's api/ package). Prints one JSON object: microseconds
per call for each hook and for a bare urllib GET /healthz. The floor is the same run against
a bare node:http server (bench/bare-hook-server.mjs).
Run as the bot under the agent (bench_bot_main.py), it writes the object to $BENCH_HOOK_OUT.
With BENCH_FLOOR_URL set, every call is made to the agent and then to that server in turn, and
it prints {"agent": ..., "floor": ...}: on a loaded machine both then see the same load.
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


def timed_at(urls, fn):
  """One call of fn to each hook URL in turn (the shim reads FARM_HOOK_URL at every call)."""
  times = []
  for url in urls:
    os.environ['FARM_HOOK_URL'] = url
    times.append(timed(fn))
  return times


def check():
  """Fails loudly if the shim fell back to its own answer (the agent did not answer)."""
  dims = bot_config.get_dimensions()
  state = bot_config.get_state()
  if 'quarantined' in dims or 'quarantined' in state:
    raise SystemExit('the agent did not answer properly: %r %r' % (dims, state))


def main():
  urls = [bot_config._hook_url()]
  if os.environ.get('BENCH_FLOOR_URL'):
    urls.append(os.environ['BENCH_FLOOR_URL'])
  for url in urls:
    os.environ['FARM_HOOK_URL'] = url
    check()
  outs = [{} for _ in urls]
  for name, fn in CALLS:
    for _ in range(WARMUP):
      timed_at(urls, fn)
    for out in outs:
      out[name] = []
    for _ in range(N):
      for out, t in zip(outs, timed_at(urls, fn)):
        out[name].append(t)
  # A task starts and ends: the two hooks alternate, as they do in the bot.
  for out in outs:
    out['on_before_task'], out['on_after_task'] = [], []
  for i in range(WARMUP + N):
    b = timed_at(urls, lambda: bot_config.on_before_task(None, None, None, RUNNER_ENV))
    a = timed_at(urls, bot_config.on_after_task)
    if i >= WARMUP:
      for j, out in enumerate(outs):
        out['on_before_task'].append(b[j])
        out['on_after_task'].append(a[j])
  out = outs[0] if len(outs) == 1 else {'agent': outs[0], 'floor': outs[1]}
  target = os.environ.get('BENCH_HOOK_OUT')
  if target:
    with open(target + '.partial', 'w') as f:
      json.dump(out, f)
    os.rename(target + '.partial', target)
  else:
    print(json.dumps(out))


if __name__ == '__main__':
  main()
