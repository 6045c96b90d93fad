"""Runs the Python binding's unittest suite and prints `python: N passed, N failed`.

Exit status is non-zero on any failure or error, on a skipped test (every
test must run: a skip would hide a missing dependency), or if no test ran."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    verbosity = 2 if "-v" in sys.argv[1:] else 1
    result = unittest.TextTestRunner(verbosity=verbosity, stream=sys.stdout).run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses) \
        + len(result.skipped)
    passed = result.testsRun - bad
    if result.skipped:
        for test, why in result.skipped:
            print("skipped (counted as failed): %s: %s" % (test, why))
    print("python: %d passed, %d failed" % (passed, bad))
    return 0 if bad == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
