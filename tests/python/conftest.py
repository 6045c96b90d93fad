"""pytest setup for the Python package's tests: `python3 -m pytest tests/python`
from the repository root, with no environment set up.

The tests import the package from this source tree (python/), not an
installed copy, and use the library in build/ (brought up to date with
`make lib` first, so that the tests never run an old build) unless
PREFLOSS_LIBRARY names another."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))

sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, HERE)

if not os.environ.get("PREFLOSS_LIBRARY"):
    # a make of its own (not a job of a calling make), quiet unless it fails
    _env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    _r = subprocess.run([os.environ.get("MAKE", "make"), "-C", ROOT, "lib"], env=_env,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if _r.returncode != 0:
        raise RuntimeError("make lib failed:\n" + _r.stdout)
