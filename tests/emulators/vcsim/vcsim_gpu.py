"""vcsim-gpu: govmomi's vCenter simulator (vcsim) plus the gpuvirt GPU add-on.

    vcsim-gpu up --port PORT [--clusters N] [--hosts N] [--vms N] [--gpus a10:2,t4:1,a100:1]
                 [--standalone-hosts N] [--api-version 8.0.3.0] [--vm-version vmx-13]
                 [--host-driver none|VERSION] [--method-delay METHOD:MS,...]
    vcsim-gpu down --port PORT
    vcsim-gpu build            (what `up` does on first use)

`up` builds the simulator on first use, offline, from Debian packages only (golang-go's toolchain, never another
`go` on PATH; golang-github-vmware-govmomi-dev and the vcsim/ sources of `apt-get source
golang-github-vmware-govmomi`), starts it on 127.0.0.1:PORT in the background and prints the VMWARE_* lines a
client needs. `down` stops the simulator started on PORT by its PID. Build output and run state live in
<repo>/.cache/vcsim (ignored by git). See README.md next to this file. `vcsim-gpu` (bash) runs this file with
python3.
"""
import argparse
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
CACHE = os.environ.get('VCSIM_GPU_CACHE') or os.path.join(REPO, '.cache', 'vcsim')
PACKAGED = '/usr/share/gocode/src/github.com/vmware/govmomi'
# The Go toolchain of Debian's golang-go (not the first `go` on PATH, which may be a newer Go a machine has for
# other work): the packaged govmomi is built with the packaged Go, the same on every machine.
DEBIAN_GO = '/usr/lib/go/bin/go'
# vcsim places the VMs of a cluster on a host drawn with math/rand's global generator (simulator/folder.go). Go
# 1.19 seeds it with 1; Go 1.20 and newer seed it at random, so each start would place the VMs differently.
# randautoseed=0 keeps the seed-1 draws with any Go (ignored where unknown); tests still place VMs themselves.
RUN_GODEBUG = 'randautoseed=0'
SOURCE_PACKAGE = 'golang-github-vmware-govmomi'
USER = 'gpuvirt@vsphere.local'
PASSWORD = 'GpuVirt-Sim-1!'
API_VERSIONS = ('7.0.3.0', '8.0.0.1', '8.0.1.0', '8.0.2.0', '8.0.3.0')

# Patches to the copy of the packaged library (never to /usr/share): (file, anchor, text, insert after anchor?).
# Each anchor must match exactly once, so a changed package fails the build loudly.
LIB_PATCHES = [
    # Fields of API 7.0.2 .. 8.0.3 that govmomi 0.24.2 (vSphere 7.0U2 era) lacks. Without them the simulator
    # would silently drop what pyvmomi sends at API 8.0.3.0 ([S9] vim25/types/types.go of a newer govmomi).
    ('vim25/types/types.go', 'type HostGraphicsInfo struct {\n\tDynamicData\n',
     '\tVgpuMode string `xml:"vgpuMode,omitempty"`\n', True),
    ('vim25/types/types.go', 'type HostGraphicsConfigDeviceType struct {\n\tDynamicData\n',
     '\tVgpuMode string `xml:"vgpuMode,omitempty"`\n', True),
    ('vim25/types/types.go', 'type HostPciPassthruInfo struct {\n\tDynamicData\n',
     '\tHardwareLabel string `xml:"hardwareLabel,omitempty"`\n', True),
    ('vim25/types/types.go', 'type HostPciPassthruConfig struct {\n\tDynamicData\n',
     '\tHardwareLabel string `xml:"hardwareLabel,omitempty"`\n', True),
    ('vim25/types/types.go', 'type VirtualPCIPassthroughVmiopBackingInfo struct {\n\tVirtualPCIPassthroughPluginBackingInfo\n',
     '\tMigrateSupported *bool `xml:"migrateSupported"`\n', True),
    # Stock bug: Fetch (pyvmomi's property read) of an unset property panics (index out of range) and drops
    # the connection; vSphere answers with an unset value.
    ('simulator/property_collector.go', '\tif len(obj.PropSet) == 0 {\n\t\tfault := obj.MissingSet[0].Fault\n',
     '\tif len(obj.PropSet) == 0 && len(obj.MissingSet) == 0 {\n\t\tbody.Res = &internal.FetchResponse{}\n\t\treturn body\n\t}\n'
     '\tif len(obj.PropSet) == 0 {\n\t\tfault := obj.MissingSet[0].Fault\n', False),
]

# vcsim/main.go becomes a function the add-on's main() calls, with two hooks ("sed" done in Python, each
# anchor must match exactly once so a changed upstream file fails the build loudly).
MAIN_PATCHES = [
    ('func main() {\n', 'func vcsimMain() {\n'),
    ('\tif *dir == "" {\n\t\terr = model.Create()\n\t} else {\n\t\terr = model.Load(*dir)\n\t}\n\tif err != nil {\n\t\tlog.Fatal(err)\n\t}\n',
     '\tif *dir == "" {\n\t\terr = model.Create()\n\t} else {\n\t\terr = model.Load(*dir)\n\t}\n\tif err != nil {\n\t\tlog.Fatal(err)\n\t}\n'
     '\tif err = addonAfterCreate(model); err != nil {\n\t\tlog.Fatal(err)\n\t}\n'),
    ('\ts := model.Service.NewServer()\n', '\ts := model.Service.NewServer()\n\taddonServe(s)\n'),
]


def die(msg):
    sys.stderr.write('vcsim-gpu: %s\n' % msg)
    sys.exit(1)


def _patch(text, anchor, replacement, what, insert_after=False):
    if text.count(anchor) != 1:
        die('cannot patch %s: expected exactly one %r' % (what, anchor.splitlines()[0]))
    return text.replace(anchor, anchor + replacement if insert_after else replacement)


def _go_env(**more):
    """The environment for DEBIAN_GO: a GOROOT or GOTOOLCHAIN meant for another Go must not reach it."""
    env = dict((k, v) for k, v in os.environ.items() if k not in ('GOROOT', 'GOTOOLCHAIN'))
    env.update(more)
    return env


def _go_version():
    proc = subprocess.run([DEBIAN_GO, 'version'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False, env=_go_env())
    if proc.returncode != 0:
        die('%s version failed:\n%s' % (DEBIAN_GO, proc.stdout))
    return proc.stdout.strip()


def _addon_digest():
    digest = hashlib.sha256()
    digest.update(_go_version().encode() + b'\0')  # a binary another toolchain built is rebuilt
    for name in sorted(os.listdir(os.path.join(HERE, 'addon'))):
        with open(os.path.join(HERE, 'addon', name), 'rb') as handle:
            digest.update(name.encode() + b'\0' + handle.read())
    with open(os.path.abspath(__file__), 'rb') as handle:
        digest.update(handle.read())  # this build logic (patches) is part of what is built
    return digest.hexdigest()


def _vcsim_sources():
    """The vcsim/ directory of Debian's source package (fetched once with apt-get source)."""
    srcdir = os.path.join(CACHE, 'debsrc')
    for name in sorted(os.listdir(srcdir)) if os.path.isdir(srcdir) else []:
        candidate = os.path.join(srcdir, name, 'vcsim', 'main.go')
        if os.path.isfile(candidate):
            return candidate
    if shutil.which('apt-get') is None or shutil.which('dpkg-source') is None:
        die('apt-get and dpkg-dev are needed to fetch the vcsim sources (scripts/setup-apt.sh installs them)')
    os.makedirs(srcdir, exist_ok=True)
    proc = subprocess.run(['apt-get', 'source', '-qq', SOURCE_PACKAGE], cwd=srcdir,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if proc.returncode != 0:
        die('apt-get source %s failed (are deb-src entries enabled? scripts/setup-apt.sh does it):\n%s'
            % (SOURCE_PACKAGE, proc.stdout))
    for name in sorted(os.listdir(srcdir)):
        candidate = os.path.join(srcdir, name, 'vcsim', 'main.go')
        if os.path.isfile(candidate):
            return candidate
    die('the source package %s has no vcsim/main.go' % SOURCE_PACKAGE)


def build():
    """Build (once per add-on source change) and return the binary's path."""
    os.makedirs(CACHE, exist_ok=True)
    binary = os.path.join(CACHE, 'bin', 'vcsim-gpu')
    stamp = binary + '.digest'
    if not os.path.isfile(DEBIAN_GO):
        die('%s is missing: install golang-go (scripts/setup-apt.sh)' % DEBIAN_GO)
    digest = _addon_digest()
    with open(os.path.join(CACHE, 'build.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(binary) and os.path.isfile(stamp) and open(stamp).read() == digest:
            return binary
        if not os.path.isdir(PACKAGED):
            die('%s is missing: install golang-github-vmware-govmomi-dev (scripts/setup-apt.sh)' % PACKAGED)
        main_go = _vcsim_sources()
        gopath = os.path.join(CACHE, 'gopath')
        shutil.rmtree(gopath, ignore_errors=True)
        lib = os.path.join(gopath, 'src', 'github.com', 'vmware', 'govmomi')
        shutil.copytree(PACKAGED, lib, symlinks=True)
        for relative, anchor, text, after in LIB_PATCHES:
            path = os.path.join(lib, relative)
            os.chmod(path, 0o644)
            with open(path) as handle:
                source = handle.read()
            source = _patch(source, anchor, text, relative, insert_after=after)
            with open(path, 'w') as handle:
                handle.write(source)
        pkg = os.path.join(gopath, 'src', 'gpuvirt', 'vcsim-gpu')
        os.makedirs(pkg)
        with open(main_go) as handle:
            text = handle.read()
        for anchor, replacement in MAIN_PATCHES:
            text = _patch(text, anchor, replacement, 'vcsim/main.go')
        with open(os.path.join(pkg, 'vcsim_main.go'), 'w') as handle:
            handle.write(text)
        for name in os.listdir(os.path.join(HERE, 'addon')):
            if name.endswith('.go'):
                shutil.copy(os.path.join(HERE, 'addon', name), pkg)
        os.makedirs(os.path.dirname(binary), exist_ok=True)
        env = _go_env(GO111MODULE='off', GOPROXY='off', GOFLAGS='',
                      GOPATH='%s:/usr/share/gocode' % gopath, GOCACHE=os.path.join(CACHE, 'gocache'))
        proc = subprocess.run([DEBIAN_GO, 'build', '-o', binary + '.new', 'gpuvirt/vcsim-gpu'], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        if proc.returncode != 0:
            die('go build failed:\n%s' % proc.stdout)
        os.rename(binary + '.new', binary)
        with open(stamp, 'w') as handle:
            handle.write(digest)
    return binary


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
