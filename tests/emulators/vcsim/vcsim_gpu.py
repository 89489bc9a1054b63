"""vcsim-gpu: govmomi's vCenter simulator (vcsim) plus the gpuvirt GPU add-on.

    vcsim-gpu up --port PORT [--clusters N] [--hosts N] [--vms N] [--gpus a10:2,t4:1,a100:1]
                 [--standalone-hosts N] [--api-version 8.0.3.0] [--vm-version vmx-13]
                 [--host-driver none|VERSION] [--method-delay METHOD:MS,...]
    vcsim-gpu down --port PORT
    vcsim-gpu build            (what `up` does on first use; prints the simulator's path)

`up` builds the simulator on first use from the Go module in addon/ (go.mod pins github.com/vmware/govmomi, go.sum
its hashes) with the `go` on PATH (Go >= 1.26) into <repo>/.cache/vcsim/bin/<digest>/ (tests/gobuild.py: the
digest covers the module's files and this file, so a change builds anew; govc, govmomi's CLI at the same version,
is built next to it), starts it on 127.0.0.1:PORT in the background and prints the VMWARE_* lines a client needs.
`down` stops the simulator started on PORT by its PID. Run state lives in <repo>/.cache/vcsim/run (ignored by
git). See README.md next to this file. `vcsim-gpu` (bash) runs this file with python3.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
from tests import gobuild  # noqa: E402  pylint: disable=wrong-import-position
CACHE = os.environ.get('VCSIM_GPU_CACHE') or os.path.join(REPO, '.cache', 'vcsim')
GOBUILD = os.path.join(HERE, 'addon')
PROGRAMS = {'vcsim-gpu': '.', 'govc': './govc'}  # output name -> package of the module in addon/
# vcsim places the VMs of a cluster on a host drawn with math/rand's global generator (simulator/folder.go). Go
# 1.20 and newer seed it at random; randautoseed=0 keeps the seed-1 draws where the Go runtime still knows the
# setting (ignored where unknown); tests place VMs themselves.
RUN_GODEBUG = 'randautoseed=0'
USER = 'gpuvirt@vsphere.local'
PASSWORD = 'GpuVirt-Sim-1!'
API_VERSIONS = ('7.0.3.0', '8.0.0.1', '8.0.1.0', '8.0.2.0', '8.0.3.0')


def die(msg):
    sys.stderr.write('vcsim-gpu: %s\n' % msg)
    sys.exit(1)


def build():
    """Build (once per source change) the simulator and govc; return the simulator's path (govc is next to it)."""
    try:
        target = gobuild.build(GOBUILD, os.path.join(CACHE, 'bin'), PROGRAMS, 'the vSphere simulator and govc',
                               ldflags='', extra=(gobuild.source_of(os.path.abspath(__file__)),))
    except RuntimeError as exc:
        die(str(exc))
    return os.path.join(target, 'vcsim-gpu')


def govc():
    """govmomi's govc at the pinned version (built with the simulator)."""
    return os.path.join(os.path.dirname(build()), 'govc')


def _rundir(port):
    return os.path.join(CACHE, 'run', str(port))


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


def _read_pid(port):
    try:
        with open(os.path.join(_rundir(port), 'pid')) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def up(args):
    if args.api_version not in API_VERSIONS:
        die('--api-version must be one of %s: older versions make pyvmomi drop DynamicBackingInfo silently'
            % ', '.join(API_VERSIONS))
    binary = build()
    pid = _read_pid(args.port)
    if pid and _alive(pid):
        die('a simulator (pid %d) already runs on port %d; run `vcsim-gpu down --port %d` first'
            % (pid, args.port, args.port))
    rundir = _rundir(args.port)
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    log_path = os.path.join(rundir, 'log')
    cmd = [binary, '-l', '127.0.0.1:%d' % args.port, '-dc', '1', '-cluster', str(args.clusters),
           '-host', str(args.hosts), '-standalone-host', str(args.standalone_hosts), '-vm', str(args.vms),
           '-ds', '1', '-api-version', args.api_version, '-username', USER, '-password', PASSWORD,
           '-gpus', args.gpus]
    if args.vm_version:
        cmd += ['-gpu-vm-version', args.vm_version]
    if args.host_driver:
        cmd += ['-gpu-host-driver', args.host_driver]
    if args.method_delay:
        cmd += ['-gpu-method-delay', args.method_delay]
    godebug = ','.join(x for x in (RUN_GODEBUG, os.environ.get('GODEBUG')) if x)  # a caller's setting wins
    with open(log_path, 'w') as log, open(os.devnull) as devnull:
        proc = subprocess.Popen(cmd, stdin=devnull, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=rundir, env=dict(os.environ, GODEBUG=godebug))
    with open(os.path.join(rundir, 'pid'), 'w') as handle:
        handle.write(str(proc.pid))
    deadline = time.monotonic() + args.wait
    while True:
        with open(log_path) as handle:
            text = handle.read()
        if 'export GOVC_URL=' in text:
            break
        if proc.poll() is not None:
            die('the simulator exited with %s:\n%s' % (proc.returncode, text[-4000:]))
        if time.monotonic() > deadline:
            os.kill(proc.pid, signal.SIGTERM)
            die('the simulator did not start within %ds:\n%s' % (args.wait, text[-4000:]))
        time.sleep(0.05)
    print('VMWARE_HOST=127.0.0.1')
    print('VMWARE_PORT=%d' % args.port)
    print('VMWARE_USER=%s' % USER)
    print('VMWARE_PASSWORD=%s' % PASSWORD)
    print('VMWARE_VALIDATE_CERTS=false')
    print('VCSIM_GPU_PID=%d' % proc.pid)
    print('VCSIM_GPU_CONTROL=https://127.0.0.1:%d/gpusim' % args.port)


def down(args):
    pid = _read_pid(args.port)
    if pid is None:
        die('no simulator was started on port %d' % args.port)
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    shutil.rmtree(_rundir(args.port), ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='vcsim-gpu', description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    p_up = sub.add_parser('up', help='build on first use and start on 127.0.0.1:PORT')
    p_up.add_argument('--port', type=int, required=True)
    p_up.add_argument('--clusters', type=int, default=1)
    p_up.add_argument('--hosts', type=int, default=2, help='hosts per cluster')
    p_up.add_argument('--standalone-hosts', type=int, default=0)
    p_up.add_argument('--vms', type=int, default=2, help='VMs per resource pool (vcsim -vm)')
    p_up.add_argument('--gpus', default='a10:2,t4:1,a100:1',
                      help='GPUs of every host, MODEL:COUNT,... (models: see README.md)')
    p_up.add_argument('--api-version', default='8.0.3.0')
    p_up.add_argument('--vm-version', default='', help='hardware version of the VMs the model creates')
    p_up.add_argument('--host-driver', default='',
                      help='NVIDIA vGPU Manager VIB version on every host at start (none = not installed; default: the add-on\'s)')
    p_up.add_argument('--method-delay', default='',
                      help='METHOD:MS,... delay each named SOAP method (a slow vCenter) after the request is taken, before it is '
                           'validated and answered')
    p_up.add_argument('--wait', type=int, default=120, help='seconds to wait for the simulator to listen')
    p_down = sub.add_parser('down', help='stop the simulator started on PORT')
    p_down.add_argument('--port', type=int, required=True)
    sub.add_parser('build', help='build only; prints the binary path')
    args = parser.parse_args(argv)
    if args.command == 'up':
        up(args)
    elif args.command == 'down':
        down(args)
    else:
        print(build())


if __name__ == '__main__':
    main()
