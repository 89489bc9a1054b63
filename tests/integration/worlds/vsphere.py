"""vcsim with the GPU add-on as the tests drive it: started and stopped through its stable command line
(``tests/emulators/vcsim/vcsim-gpu up|down``), a pyvmomi session to verify what modules did, the add-on's control
API (SOAP call counts, fault injection, host state), the ``sim``/``sim_factory`` fixtures, and the vCenter REST API
of the add-on (namespace management, VM classes).

A plain module: the conftests of tests/integration/vsphere, tests/integration/capv and tests/emulators/vcsim/tests
import the fixtures from here, and other tests the start/stop helpers."""
import base64
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.integration.worlds import start_on_a_free_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VCSIM_GPU = os.path.join(REPO, 'tests', 'emulators', 'vcsim', 'vcsim-gpu')
NO_TLS_CHECK = ssl._create_unverified_context()  # pylint: disable=protected-access  # the simulator's self-signed cert


class Sim(object):
    """A running vcsim-gpu: connection env, control API and pyvmomi helpers."""

    def __init__(self, env):
        self.env = env
        self.port = int(env['VMWARE_PORT'])
        self.control_url = env['VCSIM_GPU_CONTROL']
        self._si = None

    @property
    def connection_env(self):
        """What a playbook run against this simulator gets in its environment (community.vmware's VMWARE_*)."""
        return dict((k, v) for k, v in self.env.items() if k.startswith('VMWARE_'))

    # -- control API --------------------------------------------------------------------------------
    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.control_url + '/' + path, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, context=NO_TLS_CHECK, timeout=30) as response:
            return json.load(response)

    def calls(self):
        return self.control('GET', 'calls')['methods']

    def reset_calls(self):
        self.control('POST', 'calls/reset')

    def inject(self, method, fault, message='', target='', count=1):
        return self.control('POST', 'faults', {'method': method, 'fault': fault, 'message': message,
                                               'target': target, 'count': count})

    def state(self):
        return dict((h['name'], h) for h in self.control('GET', 'state')['hosts'])

    def restart_hostengine(self, host):
        return self.control('POST', 'hosts/%s/hostengine-restart' % host)

    # -- pyvmomi ------------------------------------------------------------------------------------
    @property
    def si(self):
        if self._si is None:
            from pyVim.connect import SmartConnect  # pylint: disable=import-outside-toplevel
            self._si = SmartConnect(host='127.0.0.1', port=self.port, user=self.env['VMWARE_USER'],
                                    pwd=self.env['VMWARE_PASSWORD'], sslContext=NO_TLS_CHECK)
        return self._si

    def close(self):
        if self._si is not None:
            from pyVim.connect import Disconnect  # pylint: disable=import-outside-toplevel
            Disconnect(self._si)
            self._si = None

    def objects(self, vim_type):
        content = self.si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim_type], True)
        try:
            return list(view.view)
        finally:
            view.DestroyView()

    def host(self, name):
        from pyVmomi import vim  # pylint: disable=import-outside-toplevel
        return next(h for h in self.objects(vim.HostSystem) if h.name == name)

    def vm(self, name):
        from pyVmomi import vim  # pylint: disable=import-outside-toplevel
        return next(v for v in self.objects(vim.VirtualMachine) if v.name == name)

    def wait(self, task):
        from pyVim.task import WaitForTask  # pylint: disable=import-outside-toplevel
        return WaitForTask(task)

    def placement(self, *names):
        """{VM name: (host name, power state)} of the named VMs."""
        return dict((n, (self.vm(n).runtime.host.name, self.vm(n).runtime.powerState)) for n in names)

    def place(self, hosts_of_vms):
        """Move VMs to the hosts a test wants ({VM name: host name}) with RelocateVM_Task (power state kept), check
        it in the VMs' runtime and the hosts' VM lists, then reset the call counters.

        vcsim puts each VM of a cluster on a host it draws with math/rand (simulator/folder.go): the draws depend on
        the Go toolchain and its seeding (random per start from Go 1.20 on unless GODEBUG=randautoseed=0), so a test
        that depends on where VMs run says so with this instead of assuming vcsim's placement."""
        from pyVmomi import vim  # pylint: disable=import-outside-toplevel
        for name, host in sorted(hosts_of_vms.items()):
            vm = self.vm(name)
            if vm.runtime.host.name != host:
                self.wait(vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=self.host(host))))
        placed = dict((n, h) for n, (h, _state) in self.placement(*hosts_of_vms).items())
        assert placed == hosts_of_vms, 'RelocateVM_Task did not place the VMs: %s' % placed
        for host in set(hosts_of_vms.values()):
            listed = set(v.name for v in self.host(host).vm)
            assert listed >= set(n for n, h in hosts_of_vms.items() if h == host), (host, listed)
        self.reset_calls()
        return self

    def power_off(self, name):
        vm = self.vm(name)
        if vm.runtime.powerState != 'poweredOff':
            self.wait(vm.PowerOffVM_Task())
        return vm

    def reboot(self, name):
        """Maintenance mode, RebootHost_Task, exit (the add-on's reboot model: pending settings become active)."""
        host = self.host(name)
        for vm in host.vm:
            if vm.runtime.powerState != 'poweredOff':
                self.wait(vm.PowerOffVM_Task())
        self.wait(host.EnterMaintenanceMode_Task(0))
        self.wait(host.RebootHost_Task(False))
        self.wait(host.ExitMaintenanceMode_Task(0))

    def shared_direct(self, *hosts):
        """Hosts in Shared Direct mode, active (UpdateGraphicsConfig + nv-hostengine restart)."""
        from pyVmomi import vim  # pylint: disable=import-outside-toplevel
        for name in hosts:
            manager = self.host(name).configManager.graphicsManager
            manager.UpdateGraphicsConfig(vim.host.GraphicsConfig(hostDefaultGraphicsType='sharedDirect',
                                                                 sharedPassthruAssignmentPolicy='performance'))
            self.restart_hostengine(name)

    def gpu_devices(self, vm_name):
        from pyVmomi import vim  # pylint: disable=import-outside-toplevel
        return [d for d in self.vm(vm_name).config.hardware.device if isinstance(d, vim.vm.device.VirtualPCIPassthrough)]


def start_sim(**options):
    def start(port):
        command = [VCSIM_GPU, 'up', '--port', str(port)]
        for key, value in options.items():
            command += ['--' + key.replace('_', '-'), str(value)]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
        return result.returncode, result.stdout + result.stderr, result
    result = start_on_a_free_port(start, 'vcsim-gpu')
    env = dict(line.split('=', 1) for line in result.stdout.splitlines() if '=' in line)
    for key in ('VMWARE_HOST', 'VMWARE_PORT', 'VMWARE_USER', 'VMWARE_PASSWORD', 'VMWARE_VALIDATE_CERTS'):
        assert key in env, 'vcsim-gpu up did not print %s: %s' % (key, result.stdout)
    return Sim(env)


def stop_sim(sim):
    sim.close()
    subprocess.run([VCSIM_GPU, 'down', '--port', str(sim.port)], cwd=REPO, capture_output=True, text=True,
                   timeout=60, check=True)


@pytest.fixture
def sim_factory():
    """Start simulators with chosen options (clusters, hosts, vms, gpus, vm_version...); all stop at the end."""
    started = []

    def make(**options):
        sim = start_sim(**options)
        started.append(sim)
        return sim
    yield make
    for sim in started:
        stop_sim(sim)


@pytest.fixture
def sim(sim_factory):
    """One cluster DC0_C0 of 2 hosts (DC0_C0_H0, DC0_C0_H1), each with GPUs a10 x2, t4, a100 (default mix);
    VMs DC0_C0_RP0_VM0/VM1 at vmx-19, powered on, on hosts vcsim chooses (not to rely on: ``Sim.place`` moves them)."""
    return sim_factory(clusters=1, hosts=2, vms=2, vm_version='vmx-19')


def wait_until(predicate, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError('timed out waiting for %s' % what)


class VCenter(object):
    """vcsim-gpu's vCenter REST API (tests/emulators/vcsim/addon/vmclass.go), used to seed and to verify."""

    def __init__(self, sim):
        self.sim = sim
        self.env = sim.env
        self.base = 'https://127.0.0.1:%d' % sim.port
        self._session = None

    def _send(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=dict({'Content-Type': 'application/json'}, **(headers or {})))
        try:
            with urllib.request.urlopen(request, context=NO_TLS_CHECK, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b'null')
        return response.status, json.loads(text) if text else None

    def api(self, method, path, body=None):
        """(status, body) of an authenticated /api request."""
        if self._session is None:
            token = base64.b64encode(('%s:%s' % (self.env['VMWARE_USER'], self.env['VMWARE_PASSWORD'])).encode()).decode()
            status, self._session = self._send('POST', '/api/session', headers={'Authorization': 'Basic ' + token})
            assert status == 201, self._session
        return self._send(method, path, body, headers={'vmware-api-session-id': self._session})

    def control(self, method, what, body=None):
        return self._send(method, '/vmclass-sim/' + what, body)[1]

    def reset(self):
        self.control('POST', 'reset')
        self._session = None

    def vm_class(self, class_id):
        status, body = self.api('GET', '/api/vcenter/namespace-management/virtual-machine-classes/' + class_id)
        return body if status == 200 else None

    def namespace(self, name):
        return self.api('GET', '/api/vcenter/namespaces/instances/' + name)[1]

    def create_namespace(self, name, classes=(), libraries=()):
        cluster = self.api('GET', '/api/vcenter/cluster')[1][0]['cluster']
        status, body = self.api('POST', '/api/vcenter/namespaces/instances', {
            'cluster': cluster, 'namespace': name,
            'vm_service_spec': {'vm_classes': list(classes), 'content_libraries': list(libraries)}})
        assert status == 204, body

    def writes(self):
        return [(r['method'], r['path']) for r in self.control('GET', 'requests') if r['write']]

    def clear_log(self):
        self.control('DELETE', 'requests')
