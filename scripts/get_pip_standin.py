"""Offline stand-in for the get-pip.py script that ansible-test downloads.

ansible-test runs it as ``python get_pip.py [pip options] PACKAGES [--no-setuptools] [--no-wheel]``
to put pip into a fresh virtual environment. We bootstrap pip from the interpreter's own
``ensurepip`` and then let that pip install the requested packages from the configured indexes.
"""
import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
    if args:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
