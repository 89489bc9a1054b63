"""Fixtures for the CAPV and Tanzu tests: the Kubernetes test world (a real API server with the Cluster API v1.13.1
and CAPV v1.16.1 v1beta1 CRDs and the CAPV template webhook double) holding Cluster API objects
(VSphereMachineTemplate, MachineDeployment), vcsim-gpu serving vCenter's namespace-management REST API, and
ansible-playbook runs of task lists (``playbook(vcenter.sim, [task, ...])``: every task's result registered under
its name, as in the vSphere tests).

The emulators are started through their stable command lines, with the helpers of tests/integration/worlds."""
import pytest

from tests.integration.worlds.kube import CapiCluster, start_emulator, stop_emulator
from tests.integration.worlds.vsphere import VCenter, start_sim, stop_sim


@pytest.fixture
def playbook_defaults():
    return {'register_all': True, 'diff': True}


@pytest.fixture(scope='module')
def capi_emulator(tmp_path_factory):
    emulator = start_emulator(tmp_path_factory.mktemp('capi'), nodes='cpu-1')
    yield emulator
    stop_emulator(emulator)


@pytest.fixture
def capi(capi_emulator):
    """A management cluster with template ``w1-worker`` and MachineDeployment ``w1-md-0`` using it; request log
    cleared."""
    capi_emulator.control.reset_cluster()
    cluster = CapiCluster(capi_emulator)
    cluster.seed()
    return cluster


@pytest.fixture(scope='module')
def vcenter_sims():
    """Two simulators: vCenter 7.0.3 (VM class ``devices``) and 8.0.3 (``config_spec``), one host each."""
    sims = {}
    try:
        for version in ('7.0.3.0', '8.0.3.0'):
            sims[version] = start_sim(clusters=1, hosts=1, vms=1, api_version=version)
        yield sims
    finally:
        for sim in sims.values():
            stop_sim(sim)


@pytest.fixture(params=['7.0.3.0', '8.0.3.0'])
def vcenter(request, vcenter_sims):
    """A vCenter of each version with the default VM classes and namespace ``tak`` (a content library and
    ``best-effort-small`` assigned), request log cleared."""
    center = VCenter(vcenter_sims[request.param])
    center.version = request.param
    center.reset()
    center.create_namespace('tak', classes=['best-effort-small'], libraries=['lib-ubuntu'])
    center.clear_log()
    return center


@pytest.fixture
def vcenter_803(vcenter_sims):
    center = VCenter(vcenter_sims['8.0.3.0'])
    center.version = '8.0.3.0'
    center.reset()
    center.create_namespace('tak', classes=['best-effort-small'], libraries=['lib-ubuntu'])
    center.clear_log()
    return center
