"""The emulator's daemon: the FUSE filesystem plus a control socket (attach/detach, write log, faults, state).

A VM using a device is played the way a real host shows it: a fake QEMU process entry under ``ROOT/proc/<pid>/``
whose ``fd/`` holds a link to ``/dev/vfio/<IOMMU group>`` (QEMU keeps the group open while the VM runs), plus
``nvidia/vm_name`` on an mdev [S5 umockdev: per-mdev ``nvidia/vm_name``]. Tools find users of a device by
scanning ``/proc/*/fd`` exactly like this (``lsof /dev/vfio/N``).
"""

import json
import os
import shutil
import socket
import threading

from .fusefs import serve as fuse_serve
from .gpus import parse_placements
from .model import Host

FIRST_VM_PID = 90001


class Controller(object):
    def __init__(self, root, host, lock):
        self.root = root
        self.host = host
        self.lock = lock
        self.vms = {}          # device key -> pid
        self.next_pid = FIRST_VM_PID

    def handle(self, req):
        cmd = req.get('cmd')
        with self.lock:
            if cmd == 'ping':
                return {}
            if cmd == 'attach':
                return self.attach(req['device'], req.get('vm'))
            if cmd == 'detach':
                return self.detach(req['device'])
            if cmd == 'writes':
                return {'writes': self.host.writes[int(req.get('since') or 0):]}
            if cmd == 'fault':
                self.host.add_fault(req['errno'], nth=req.get('nth'), path=req.get('path'), times=req.get('times'))
                return {}
            if cmd == 'clear-faults':
                self.host.faults = []
                return {}
            if cmd == 'state':
                return {'state': self.host.state()}
        raise ValueError('unknown command %r' % (cmd,))

    def attach(self, device, vm):
        pid = self.next_pid
        vm = vm or 'vm-%d' % (pid - FIRST_VM_PID + 1)
        group = self.host.attach(device, vm)
        self.next_pid += 1
        proc = os.path.join(self.root, 'proc', str(pid))
        os.makedirs(os.path.join(proc, 'fd'), exist_ok=True)
        with open(os.path.join(proc, 'comm'), 'w') as handle:
            handle.write('qemu-system-x86\n')
        with open(os.path.join(proc, 'cmdline'), 'w') as handle:
            handle.write('\0'.join(['/usr/bin/qemu-system-x86_64', '-name', 'guest=%s' % vm, '-device', 'vfio-pci']) + '\0')
        for number, target in ((0, '/dev/null'), (23, '/dev/vfio/vfio'), (24, '/dev/vfio/%d' % group)):
            os.symlink(target, os.path.join(proc, 'fd', str(number)))
        self.vms[device.strip().lower()] = pid
        return {'vm': vm, 'group': group, 'pid': pid}

    def detach(self, device):
        self.host.detach(device)
        pid = self.vms.pop(device.strip().lower(), None)
        if pid is not None:
            shutil.rmtree(os.path.join(self.root, 'proc', str(pid)), ignore_errors=True)
        return {}


def _control_loop(server, controller):
    while True:
        try:
            conn = server.accept()[0]
        except OSError:
            return
        with conn:
            data = b''
            while not data.endswith(b'\n'):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            try:
                answer = controller.handle(json.loads(data.decode()))
                answer['ok'] = True
            except Exception as exc:  # pylint: disable=broad-except
                answer = {'ok': False, 'error': str(exc)}
            try:
                conn.sendall(json.dumps(answer).encode() + b'\n')
            except OSError:
                pass


def serve(root, gpus, creatable_format, socket_path, no_iommu=False, driver=None):
    host = Host(parse_placements(gpus), creatable_format=creatable_format, no_iommu=no_iommu, driver=driver)
    lock = threading.Lock()
    controller = Controller(root, host, lock)
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(16)
    thread = threading.Thread(target=_control_loop, args=(server, controller), daemon=True)
    thread.start()
    with open(os.path.join(root, '.sysfs-emulator', 'pid'), 'w') as handle:
        handle.write('%d\n' % os.getpid())
    try:
        fuse_serve(host, os.path.join(root, 'sys'), lock)
    finally:
        try:
            server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        server.close()
        try:
            os.unlink(socket_path)
        except OSError:
            pass
        for pid in controller.vms.values():
            shutil.rmtree(os.path.join(root, 'proc', str(pid)), ignore_errors=True)
    return 0
