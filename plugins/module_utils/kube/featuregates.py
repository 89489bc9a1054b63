# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeVirt's feature gates per release, for checking ``feature_gates`` against the version a cluster runs.

Data, not code, taken from KubeVirt's sources at each release tag v1.0.0 ... v1.9.0: the gate names of
pkg/virt-config/feature-gates.go (v1.0 to v1.4) and the gates registered with a state in
pkg/virt-config/deprecation (v1.2 to v1.4) and pkg/virt-config/featuregate (active.go, inactive.go; v1.5 and
later). Each gate maps to its history, ``MINOR:STATE`` from the release it changed in: ``listed`` (a gate of that
release with no registered state, before v1.5), ``alpha``, ``beta``, ``ga`` (always on: listing it is redundant),
``deprecated`` (still read, going away), ``discontinued`` (does nothing any more), ``removed`` (no such gate).
A gate not in this table is unknown to every release: KubeVirt accepts it and it does nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import re

FIRST, LAST = (1, 0), (1, 9)  # the releases the table covers

GATES = {
    'AlignCPUs': '1.2:listed 1.5:alpha',
    'AutoResourceLimitsGate': '1.1:listed 1.5:ga',
    'BochsDisplayForEFIGuests': '1.1:listed 1.4:ga',
    'CPUManager': '1.0:listed 1.5:alpha',
    'CPUNodeDiscovery': '1.0:listed 1.3:ga',
    'ClusterProfiler': '1.0:listed 1.5:alpha 1.6:ga',
    'CommonInstancetypesDeploymentGate': '1.1:listed 1.4:ga',
    'ConfigurableHypervisor': '1.8:alpha',
    'ContainerPathVolumes': '1.8:alpha',
    'CrossArchitectureVirtualization': '1.9:alpha',
    'DecentralizedLiveMigration': '1.6:alpha',
    'DeclarativeHotplugVolumes': '1.6:alpha 1.9:beta',
    'DisableCustomSELinuxPolicy': '1.0:listed 1.5:ga',
    'DisableMDEVConfiguration': '1.0:listed 1.5:alpha 1.8:deprecated',
    'DockerSELinuxMCSWorkaround': '1.0:listed 1.4:deprecated',
    'DownwardMetrics': '1.0:listed 1.5:alpha',
    'DynamicPodInterfaceNaming': '1.4:listed 1.5:ga',
    'EnableVirtioFsConfigVolumes': '1.5:alpha 1.8:ga',
    'EnableVirtioFsStorageVolumes': '1.5:alpha',
    'ExpandDisks': '1.0:listed 1.5:alpha 1.9:ga',
    'ExperimentalIgnitionSupport': '1.0:listed 1.5:alpha',
    'ExperimentalVirtiofsSupport': '1.0:listed 1.5:deprecated 1.8:discontinued',
    'ExternalNetResourceInjection': '1.8:beta',
    'FirmwareAutoSelection': '1.9:alpha',
    'GPU': '1.0:listed 1.4:ga',
    'GPUsWithDRA': '1.6:alpha 1.9:beta',
    'GraceIOVirtualization': '1.9:alpha',
    'HostDevices': '1.0:listed 1.5:alpha',
    'HostDevicesWithDRA': '1.6:alpha 1.9:beta',
    'HostDisk': '1.0:listed 1.5:alpha',
    'HotplugNICs': '1.0:listed 1.4:ga',
    'HotplugVolumes': '1.0:listed 1.5:alpha 1.9:deprecated',
    'HypervStrictCheck': '1.0:listed 1.5:alpha',
    'IOMMUFD': '1.9:alpha',
    'ImageVolume': '1.6:alpha 1.7:beta',
    'IncrementalBackup': '1.7:alpha',
    'InstancetypeReferencePolicy': '1.4:listed 1.5:beta 1.6:ga',
    'KubevirtSeccompProfile': '1.0:listed 1.5:alpha 1.7:beta',
    'LibvirtHooksServerAndClient': '1.8:alpha 1.9:beta',
    'LiveMigration': '1.0:listed 1.3:ga',
    'LiveUpdateNADRef': '1.8:beta 1.9:ga',
    'Macvtap': '1.0:listed 1.3:discontinued',
    'MigrationPriorityQueue': '1.7:alpha 1.8:beta 1.9:ga',
    'MigrationStallDetection': '1.9:alpha',
    'MultiArchitecture': '1.0:listed 1.5:alpha 1.8:deprecated',
    'NUMA': '1.0:listed 1.4:ga',
    'NetworkBindingPlugins': '1.1:listed 1.5:ga',
    'NetworkDevicesWithDRA': '1.9:alpha',
    'NodeRestriction': '1.3:listed 1.5:alpha 1.6:beta',
    'NonRoot': '1.0:listed 1.3:ga',
    'NonRootExperimental': '1.0:listed 1.2:removed',
    'OCIExport': '1.9:alpha',
    'ObjectGraph': '1.9:alpha',
    'OptOutRoleAggregation': '1.8:alpha 1.9:beta',
    'PCINUMAAwareTopology': '1.8:alpha',
    'PSA': '1.0:listed 1.3:ga',
    'PanicDevices': '1.6:alpha 1.7:beta 1.9:ga',
    'Passt': '1.0:listed 1.3:discontinued',
    'PasstBinding': '1.8:beta',
    'PasstIPStackMigration': '1.6:alpha 1.8:discontinued',
    'PersistentReservation': '1.0:listed 1.5:alpha 1.9:ga',
    'Plugins': '1.9:alpha',
    'PodSecondaryInterfaceNamingUpgrade': '1.8:beta',
    'PortRangesSpec': '1.9:alpha',
    'RebootPolicy': '1.8:alpha 1.9:beta',
    'ReservedOverheadMemlock': '1.8:alpha',
    'Root': '1.0:listed 1.5:alpha',
    'SRIOVLiveMigration': '1.0:listed 1.3:ga',
    'SecureExecution': '1.7:beta 1.9:ga',
    'Sidecar': '1.0:listed 1.5:alpha',
    'Snapshot': '1.0:listed 1.5:alpha 1.6:beta',
    'Template': '1.8:alpha 1.9:beta',
    'UtilityVolumes': '1.8:alpha',
    'VGPULiveMigration': '1.9:alpha',
    'VMExport': '1.0:listed 1.5:alpha 1.6:beta 1.9:ga',
    'VMLiveUpdateFeatures': '1.0:listed 1.5:ga',
    'VMPersistentState': '1.0:listed 1.5:alpha 1.6:ga',
    'VMStatsCollector': '1.9:alpha',
    'VSOCK': '1.0:listed 1.5:alpha',
    'VideoConfig': '1.6:alpha 1.7:beta 1.9:ga',
    'VmiMemoryOverheadReport': '1.8:alpha 1.9:beta',
    'VolumeMigration': '1.3:listed 1.5:ga',
    'VolumesUpdateStrategy': '1.3:listed 1.5:ga',
    'WorkloadEncryptionSEV': '1.0:listed 1.5:alpha 1.9:beta',
    'WorkloadEncryptionTDX': '1.7:alpha',
}


def parse_version(text):
    """``(major, minor)`` of ``v1.9.0`` / ``1.9.2-rc.1``; None when it is not a version."""
    match = re.match(r'^v?(\d+)\.(\d+)', str(text or '').strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def state_of(gate, release):
    """The state of ``gate`` in ``release`` ((major, minor) within FIRST..LAST), or None (not a gate of it)."""
    state = None
    for step in GATES.get(gate, '').split():
        since, value = step.split(':')
        if parse_version(since) <= release:
            state = value
    return None if state == 'removed' else state


def gates_of(release):
    """{gate: state} of one release."""
    out = {}
    for gate in GATES:
        state = state_of(gate, release)
        if state is not None:
            out[gate] = state
    return out


def check_gates(gates, version_text, option='feature_gates'):
    """``(errors, warnings)`` for the gates a user wants on the KubeVirt version the CR reports.

    Errors: a gate that is not a gate of that release (close spellings suggested), a discontinued gate, an empty
    name. Warnings: deprecated and GA gates, and a reported version outside the table (then the nearest release
    in it is used) or none at all (then a gate of any release is accepted).
    """
    errors, warnings = [], []
    reported = parse_version(version_text)
    if reported is None:
        release = None
        warnings.append('the KubeVirt CR reports no version (status.observedKubeVirtVersion); %s were checked against '
                        'the gates of every KubeVirt release from v%d.%d to v%d.%d' % ((option,) + FIRST + LAST))
    else:
        release = min(max(reported, FIRST), LAST)
        if release != reported:
            warnings.append('KubeVirt %s is outside the releases this collection knows the feature gates of (v%d.%d to '
                            'v%d.%d); %s were checked against v%d.%d' % ((version_text,) + FIRST + LAST + (option,) + release))
    known = gates_of(release) if release is not None else dict((g, state_of(g, LAST) or 'listed') for g in GATES)
    where = 'KubeVirt %s' % version_text if reported is not None else 'any KubeVirt release'
    for index, gate in enumerate(gates or []):
        name = '%s[%d]' % (option, index)
        if not isinstance(gate, str) or not gate.strip():
            errors.append('%s %r is not a feature gate name' % (name, gate))
            continue
        state = known.get(gate)
        if state is None and release is None:
            state = 'listed' if gate in GATES else None
        if state is None:
            close = difflib.get_close_matches(gate, list(known), n=3, cutoff=0.75)
            exact = [g for g in known if g.lower() == gate.lower()]
            hint = ('; did you mean %s?' % ' or '.join(exact or close)) if (exact or close) else ''
            elsewhere = [g for g in GATES if g == gate]
            if elsewhere:
                hint += ' (%s is a gate of other KubeVirt releases: %s)' % (gate, GATES[gate])
            errors.append('%s %r is not a feature gate of %s: KubeVirt would accept it and do nothing%s'
                          % (name, gate, where, hint))
        elif state == 'discontinued':
            errors.append('%s %r is discontinued in %s: it does nothing any more; leave it out' % (name, gate, where))
        elif state == 'deprecated':
            warnings.append('feature gate %s is deprecated in %s (%s); plan to stop using it' % (gate, where, GATES[gate]))
        elif state == 'ga':
            warnings.append('feature gate %s is GA in %s: always on, listing it is redundant' % (gate, where))
    return errors, warnings
