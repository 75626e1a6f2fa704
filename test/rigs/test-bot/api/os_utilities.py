"""Stand-in for the Swarming bot's api/os_utilities.py.

Answers in the shape the real module gives on a Linux host, so the shim and
the agent see what a real bot sends: a state with running_time and disks, and
dimensions whose id comes from SWARMING_BOT_ID like the real bot's.
"""

import os
import platform
import sys
import time

_STARTED_TS = time.time()


def get_hostname_short():
  return platform.node().split('.', 1)[0] or 'localhost'


def get_dimensions():
  return {
      'cores': [str(os.cpu_count() or 1)],
      'cpu': ['x86', 'x86-64'],
      'gpu': ['none'],
      'id': [os.environ.get('SWARMING_BOT_ID') or get_hostname_short()],
      'os': ['Linux', 'Debian', 'Debian-12'],
      # As the real bot: it always names this pool; a server's bots.cfg or FARM_POOL replaces it.
      'pool': ['default'],
      'python': ['%d.%d.%d' % sys.version_info[:3]],
  }


def get_state():
  return {
      'cwd': os.getcwd(),
      'disks': {'/': {'free_mb': 20000.0, 'size_mb': 30000.0}},
      'hostname': platform.node(),
      'nb_files_in_temp': 0,
      'pid': os.getpid(),
      'python': {'executable': sys.executable, 'version': sys.version},
      'ram': 4096,
      'running_time': int(round(time.time() - _STARTED_TS)),
      'started_ts': int(round(_STARTED_TS)),
      'uptime': 1234,
      'user': 'swarming',
  }
