"""__main__.py of a stand-in swarming_bot.zip: times the hooks from the bot's own process.

The agent runs it as its bot, so every hook call passes the agent's caller check
(hook_calls.py writes the times to $BENCH_HOOK_OUT); then it idles like a bot.
"""

import os
import sys
import time

sys.argv = ['hook_calls.py', os.environ['BENCH_HOOK_N']]
import hook_calls  # pylint: disable=wrong-import-position

hook_calls.main()
while True:
  time.sleep(3600)
