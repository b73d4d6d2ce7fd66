"""Run a module under cProfile counting CPU time, not wall time (on a busy machine the wall
clock charges other processes' time to whatever call was waiting).

    python -m bench.cpu_profile OUT.prof MODULE [ARGS…]
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    out, module, *rest = sys.argv[1:]
    sys.argv = [module, *rest]
    profile = cProfile.Profile(time.process_time)
    try:
        profile.runcall(runpy.run_module, module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
