"""Command line of the sysfs emulator (stable: tests, the demo and checks outside the repository use it).

    python -m tests.emulators.sysfs mount ROOT --gpus a10:2,t4:1,l40s:1 [--creatable-format table|doc]
                                     [--no-iommu] [--driver vgpu|datacenter]    # --gpus h200@0000:00:06.0 pins
    python -m tests.emulators.sysfs attach ROOT DEVICE [--vm NAME]
    python -m tests.emulators.sysfs detach ROOT DEVICE
    python -m tests.emulators.sysfs writes ROOT [--json] [--since N]
    python -m tests.emulators.sysfs fault ROOT (--nth N | --path GLOB) --errno NAME [--times K]
    python -m tests.emulators.sysfs fault ROOT --path GLOB --errno BLOCK      # wait while a VM holds the device
    python -m tests.emulators.sysfs fault ROOT --clear
    python -m tests.emulators.sysfs state ROOT
    python -m tests.emulators.sysfs umount ROOT

``mount`` builds a host root at ROOT (``sys/`` = the FUSE filesystem, ``usr/lib/nvidia/sriov-manage``, an empty
``etc/mdevctl.d``, ``proc/cmdline``, and the udev rules of the mdevctl and driverctl packages in
``usr/lib/udev/rules.d``, as on a host set up for vGPU; a test removes one to model a host without that package),
starts the filesystem daemon and returns once it is mounted. The daemon's
PID, log and control socket live in ``ROOT/.sysfs-emulator/``; ``umount`` unmounts and stops that PID only.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

STATE_DIR = '.sysfs-emulator'
UDEV_RULES = (('mdevctl', '60-mdevctl.rules'), ('driverctl', '05-driverctl.rules'))  # names as Debian and RHEL install them
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CMDLINE = 'BOOT_IMAGE=/boot/vmlinuz-6.8.0-45-generic root=UUID=5f0c6c1e-6f1e-4a0e-9d53-0c3f8d0b9a11 ro intel_iommu=on iommu=pt\n'
# the captured VM (kernel 6.18): no IOMMU parameter on the command line
GUEST_CMDLINE = 'BOOT_IMAGE=/boot/vmlinuz-6.18.0-1-cloud-amd64 root=UUID=2b1c6d0e-7a4f-4c1e-9e0b-3f5a9d7c1e22 ro console=ttyS0\n'


def _state(root, *names):
    return os.path.join(root, STATE_DIR, *names)


def _socket_path(root):
    path = _state(root, 'control.sock')
    if len(path) < 100:
        return path
    return '/tmp/sysfs-emulator-%d.sock' % (abs(hash(os.path.realpath(root))) % 10**10)


def _pid(root):
    try:
        with open(_state(root, 'pid')) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
        with open('/proc/%d/stat' % pid) as handle:
            if handle.read().rsplit(')', 1)[1].split()[0] == 'Z':
                return None      # exited; its (re)parent has not reaped it yet
    except (OSError, IndexError):
        return None
    return pid


def request(root, payload, timeout=30):
    """One JSON request to the daemon's control socket; raises RuntimeError with the daemon's error."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(_socket_path(root))
        sock.sendall(json.dumps(payload).encode() + b'\n')
        data = b''
        while not data.endswith(b'\n'):
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    answer = json.loads(data.decode())
    if not answer.get('ok'):
        raise RuntimeError(answer.get('error', 'emulator error'))
    return answer


def _prepare_root(root, sysfs):
    for sub in ('sys', 'etc/mdevctl.d', 'usr/lib/mdevctl/scripts.d/callouts', 'usr/lib/mdevctl/scripts.d/notifiers',
                'etc/mdevctl.d/scripts.d/callouts', 'etc/mdevctl.d/scripts.d/notifiers', 'usr/lib/nvidia', 'proc',
                'etc/modprobe.d', 'run', 'usr/lib/udev/rules.d', STATE_DIR):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for package, rule in UDEV_RULES:
        with open(os.path.join(root, 'usr/lib/udev/rules.d', rule), 'w') as handle:
            handle.write('# sysfs emulator: stands for the udev rule the %s package installs (nothing runs it here)\n' % package)
    with open(os.path.join(root, 'proc', 'cmdline'), 'w') as handle:
        handle.write(CMDLINE)
    script = os.path.join(root, 'usr', 'lib', 'nvidia', 'sriov-manage')
    with open(script, 'w') as handle:
        handle.write('#!%s\n# sysfs emulator: NVIDIA sriov-manage acting on %s\nimport sys\nsys.path.insert(0, %r)\n'
                     'from tests.emulators.sysfs.sriov_manage import main\nsys.exit(main(%r, sys.argv[1:]))\n'
                     % (sys.executable, sysfs, REPO, sysfs))
    os.chmod(script, 0o755)


def cmd_mount(args):
    from .gpus import parse_placements
    from .model import Host
    root = os.path.abspath(args.root)
    Host(parse_placements(args.gpus), no_iommu=args.no_iommu, driver=args.driver)     # fail here, not in the daemon
    if _pid(root):
        raise SystemExit('sysfs emulator already running for %s (pid %d)' % (root, _pid(root)))
    sysfs = os.path.join(root, 'sys')
    _prepare_root(root, sysfs)
    if os.path.ismount(sysfs):
        raise SystemExit('%s is already a mount point' % sysfs)
    log = open(_state(root, 'daemon.log'), 'ab')
    extra = (['--no-iommu'] if args.no_iommu else []) + (['--driver', args.driver] if args.driver else [])
    if args.no_iommu:
        with open(os.path.join(root, 'proc', 'cmdline'), 'w') as handle:
            handle.write(GUEST_CMDLINE)
    proc = subprocess.Popen([sys.executable, '-m', 'tests.emulators.sysfs', '_serve', root, '--gpus', args.gpus,
                             '--creatable-format', args.creatable_format] + extra, cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, start_new_session=True)
    log.close()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(_state(root, 'daemon.log')) as handle:
                raise SystemExit('sysfs emulator failed to start:\n' + handle.read()[-4000:])
        if os.path.ismount(sysfs) and os.path.exists(_socket_path(root)):
            try:
                request(root, {'cmd': 'ping'}, timeout=5)
                print('sysfs emulator mounted at %s (pid %d)' % (sysfs, proc.pid))
                return 0
            except (OSError, RuntimeError, ValueError):
                pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGTERM)
    raise SystemExit('sysfs emulator did not mount %s within %ss' % (sysfs, args.timeout))


def cmd_umount(args):
    root = os.path.abspath(args.root)
    sysfs = os.path.join(root, 'sys')
    pid = _pid(root)
    if os.path.ismount(sysfs):
        for tool in (['fusermount3', '-u', sysfs], ['fusermount', '-u', sysfs], ['umount', sysfs]):
            try:
                if subprocess.run(tool, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0:
                    break
            except FileNotFoundError:
                continue
    if pid:
        for sig, wait in ((None, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if sig is not None:
                try:
                    os.kill(pid, sig)
                except OSError:
                    break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _pid(root) == pid:
                time.sleep(0.05)
            if _pid(root) != pid:
                break
    if os.path.ismount(sysfs):
        subprocess.run(['umount', '-l', sysfs], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    for name in ('pid',):
        try:
            os.unlink(_state(root, name))
        except OSError:
            pass
    if not os.path.ismount(sysfs):
        print('sysfs emulator stopped for %s' % root)
        return 0
    raise SystemExit('could not unmount %s' % sysfs)


def cmd_attach(args):
    answer = request(args.root, {'cmd': 'attach', 'device': args.device, 'vm': args.vm})
    print('%s is used by VM %s (IOMMU group %d, pid %d)' % (args.device, answer['vm'], answer['group'], answer['pid']))


def cmd_detach(args):
    request(args.root, {'cmd': 'detach', 'device': args.device})
    print('%s released' % args.device)


def cmd_writes(args):
    answer = request(args.root, {'cmd': 'writes', 'since': args.since})
    for seq, path, value, result in answer['writes']:
        if args.json:
            print(json.dumps({'seq': seq, 'path': path, 'value': value, 'result': result}))
        else:
            print('%s\t%s\t%s' % (path, json.dumps(value), result))


def cmd_fault(args):
    if args.clear:
        request(args.root, {'cmd': 'clear-faults'})
        return
    if not args.errno or (args.nth is None) == (args.path is None):
        raise SystemExit('fault: give --errno (an errno name, or BLOCK) and exactly one of --nth or --path (or --clear)')
    request(args.root, {'cmd': 'fault', 'errno': args.errno, 'nth': args.nth, 'path': args.path, 'times': args.times})


def cmd_state(args):
    print(json.dumps(request(args.root, {'cmd': 'state'})['state'], indent=2, sort_keys=True))


def cmd_serve(args):
    from .daemon import serve
    status = serve(os.path.abspath(args.root), args.gpus, args.creatable_format, _socket_path(os.path.abspath(args.root)),
                   no_iommu=args.no_iommu, driver=args.driver)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)   # the filesystem is unmounted and cleaned up: nothing left to wait for


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.emulators.sysfs', description='Kernel-faithful sysfs emulator (FUSE).')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('mount', help='build ROOT and mount ROOT/sys')
    p.add_argument('root')
    p.add_argument('--gpus', default='a10:2,t4:1,l40s:1')
    p.add_argument('--creatable-format', choices=('table', 'doc'), default='table')
    p.add_argument('--timeout', type=float, default=30)
    p.add_argument('--no-iommu', action='store_true', help='no IOMMU groups: the layout of a VM with a passed-through GPU')
    p.add_argument('--driver', choices=('vgpu', 'datacenter'), default=None,
                   help="NVIDIA's vGPU manager (default) or the datacenter driver (default with --no-iommu)")
    p.set_defaults(func=cmd_mount)
    p = sub.add_parser('_serve', help=argparse.SUPPRESS)
    p.add_argument('root')
    p.add_argument('--gpus', required=True)
    p.add_argument('--creatable-format', default='table')
    p.add_argument('--no-iommu', action='store_true')
    p.add_argument('--driver', default=None)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser('umount', help='unmount ROOT/sys and stop its daemon')
    p.add_argument('root')
    p.set_defaults(func=cmd_umount)
    for name, func in (('attach', cmd_attach), ('detach', cmd_detach)):
        p = sub.add_parser(name, help='%s a VM to/from a vGPU (UUID) or PCI device' % name)
        p.add_argument('root')
        p.add_argument('device')
        if name == 'attach':
            p.add_argument('--vm', default=None)
        p.set_defaults(func=func)
    p = sub.add_parser('writes', help='print every write made under sys/: path, value (JSON string), result')
    p.add_argument('root')
    p.add_argument('--json', action='store_true')
    p.add_argument('--since', type=int, default=0, help='only writes after this many')
    p.set_defaults(func=cmd_writes)
    p = sub.add_parser('fault', help='make a later write fail with an errno')
    p.add_argument('root')
    p.add_argument('--nth', type=int)
    p.add_argument('--path')
    p.add_argument('--errno')
    p.add_argument('--times', type=int)
    p.add_argument('--clear', action='store_true')
    p.set_defaults(func=cmd_fault)
    p = sub.add_parser('state', help='print the emulated GPUs, VFs, vGPUs and in-use marks as JSON')
    p.add_argument('root')
    p.set_defaults(func=cmd_state)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (RuntimeError, ValueError, OSError) as exc:
        sys.stderr.write('sysfs emulator: %s\n' % exc)
        return 1


if __name__ == '__main__':
    sys.exit(main())
