"""Command line of the vGPU Manager installer doubles (tests and the demo use it).

    python -m tests.emulators.nvidia_installer run --version 550.127.06 --out DIR      # prints the .run path
    python -m tests.emulators.nvidia_installer deb --version 550.127.06 --out DIR      # prints the .deb path
    python -m tests.emulators.nvidia_installer host ROOT --kernel KREL [--cpu intel|amd] [--gpus a10:1,t4:1]
                                                       [--no-nouveau]

``host`` turns a copy of a debootstrapped Debian tree into a KVM host for a chroot connection (see the package
docstring); it must run as root (it runs the update-grub / update-initramfs doubles in the tree).
"""

import argparse
import sys

from tests.emulators.nvidia_installer import build_deb, build_run, prepare_host


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.emulators.nvidia_installer')
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('run', 'deb'):
        cmd = sub.add_parser(name, help='build the .%s installer double' % name)
        cmd.add_argument('--version', required=True)
        cmd.add_argument('--out', required=True)
    host = sub.add_parser('host', help='make a Debian tree a KVM host for a chroot connection')
    host.add_argument('root')
    host.add_argument('--kernel', required=True, help='the running kernel release of the host')
    host.add_argument('--cpu', choices=['intel', 'amd'], default='intel')
    host.add_argument('--gpus', default='a10:1')
    host.add_argument('--no-nouveau', action='store_true', help='nouveau is not loaded')
    args = parser.parse_args(argv)
    if args.command == 'run':
        print(build_run(args.version, args.out))
    elif args.command == 'deb':
        print(build_deb(args.version, args.out))
    else:
        prepare_host(args.root, args.kernel, cpu=args.cpu, gpus=args.gpus, nouveau=not args.no_nouveau)
    return 0


if __name__ == '__main__':
    sys.exit(main())
