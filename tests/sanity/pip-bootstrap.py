"""Offline stand-in for the pip bootstrap script ansible-test downloads into its cache.

ansible-test runs that script inside each fresh sanity venv with `pip install` style arguments
(for example `pip==24.2 --no-setuptools --no-wheel`). This machine reaches PyPI but not the
server the script normally comes from, so: seed pip with ensurepip, then let pip install the
requested packages from the configured index.
"""
import subprocess
import sys

BOOTSTRAP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in BOOTSTRAP_ONLY_FLAGS]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)


if __name__ == "__main__":
    main()
