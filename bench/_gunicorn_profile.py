"""gunicorn config for `bench/burst.py --profile`: cProfile in every web worker.

Each worker profiles its CPU time (not wall time: the machine is shared, and
waiting for a core is not the app's cost) from its fork to its exit and writes
`$BENCH_PROFILE_DIR/web-<pid>.prof`; burst.py merges them into one table. A
sync worker serves each request on its main thread, where the profiler runs.
Benchmark-only: production never loads this file.
"""

import cProfile
import os
import time

_profiles: dict[int, cProfile.Profile] = {}


def post_fork(server, worker):
    profile = cProfile.Profile(time.process_time)
    _profiles[os.getpid()] = profile
    profile.enable()


def worker_exit(server, worker):
    profile = _profiles.pop(os.getpid(), None)
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DIR"], f"web-{os.getpid()}.prof"))
