"""``python -m tests.emulators.kube.crds [--cache-dir DIR]``: generate the upstream CRDs if needed, print their
directory."""
import argparse
import sys

from tests.emulators.kube.crds import ensure


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.emulators.kube.crds', description=__doc__)
    parser.add_argument('--cache-dir', help='default: <repo>/.cache/kube')
    args = parser.parse_args(argv)
    try:
        print(ensure(args.cache_dir))
    except RuntimeError as exc:
        sys.stderr.write('%s\n' % exc)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
