"""Stand-in for the Swarming bot's api/os_utilities.py in the image smoke test.

bot_config.py imports it to get the bot's own dimensions and state before
asking the agent; the shape is what the real module gives on a Linux host.
"""

import os
import platform
import sys
import time

_STARTED_TS = time.time()


def get_dimensions():
  return {
      'cores': [str(os.cpu_count() or 1)],
      'cpu': [platform.machine()],
      'id': [os.environ['SWARMING_BOT_ID']],
      'os': ['Linux', 'Debian', 'Debian-12'],
      'python': ['%d.%d.%d' % sys.version_info[:3]],
  }


def get_state():
  return {
      'cwd': os.getcwd(),
      'hostname': platform.node(),
      'pid': os.getpid(),
      'python': {'executable': sys.executable, 'version': sys.version},
      'running_time': int(round(time.time() - _STARTED_TS)),
      'started_ts': int(round(_STARTED_TS)),
  }
