"""Build hook of the prefloss package (the metadata is in pyproject.toml).

The version is the library's (include/prefloss.h). build_py runs `make lib`
in the repository root and copies build/libprefloss.so.1 into the package,
so that the wheel carries its own library; the wheel is therefore tagged
for this platform."""
import os
import re
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SONAME = "libprefloss.so.1"


def version():
    with open(os.path.join(ROOT, "include", "prefloss.h")) as f:
        text = f.read()
    parts = [re.search(r"#define PREFLOSS_VERSION_%s (\d+)" % k, text).group(1)
             for k in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


class BuildPyWithLibrary(build_py):
    """build_py, plus the shared library (built with the repository's make)."""

    def run(self):
        super().run()
        make = os.environ.get("MAKE", "make")
        subprocess.run([make, "-C", ROOT, "lib"], check=True)
        src = os.path.realpath(os.path.join(ROOT, "build", SONAME))
        dst = os.path.join(self.build_lib, "prefloss", SONAME)
        self.mkpath(os.path.dirname(dst))
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o755)


class BinaryDistribution(Distribution):
    """The package carries a shared library: a platform wheel."""

    def has_ext_modules(self):
        return True


setup(version=version(), cmdclass={"build_py": BuildPyWithLibrary},
      distclass=BinaryDistribution)
