"""Offline stand-in for the ``get-pip.py`` bootstrap script that ansible-test downloads.

ansible-test creates each sanity test's virtual environment without pip and bootstraps pip by running a
``get-pip.py`` it downloads from a host outside the package registries this project may use. scripts/sanity.sh
puts this file in ansible-test's cache under the name it looks for, so no download is attempted: it installs
pip with the interpreter's bundled ``ensurepip`` and then runs ``pip install`` with the arguments ansible-test
passes (the pinned pip version), dropping get-pip's own ``--no-setuptools``/``--no-wheel`` switches.
"""
import subprocess
import sys

GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args)


if __name__ == '__main__':
    main()
