"""KubeVirt's admission webhooks for the KubeVirt CR itself, as pure functions the webhook double calls.

In KubeVirt v1.9.0 virt-operator (not virt-api) serves them, registered in the ValidatingWebhookConfiguration
``virt-operator-validator`` for ``kubevirt.io`` ``kubevirts`` (not the status subresource):

- ``kubevirt-update-validator.kubevirt.io`` (UPDATE, path ``/kubevirt-validate-update``):
  kubevirt/kubevirt pkg/virt-operator/webhooks/kubevirt-update-admitter.go, ``KubeVirtUpdateAdmitter.Admit``.
  The rules about the fields gpuvirt.core.kubevirt_host_devices writes, re-expressed here:

  * ``featureGatesChanged``: the feature-gate rules below only run when ``developerConfiguration`` appears
    (absent before, present now) or its ``featureGates`` or ``disabledFeatureGates`` list differs (order
    counts); removing ``developerConfiguration`` altogether is not a change.
  * ``validateFeatureGates`` (since v1.8.0): a gate both in ``featureGates`` and in ``disabledFeatureGates`` is
    refused, one cause per such gate, type ``FieldValueForbidden`` on
    ``spec.configuration.developerConfiguration.featureGates``.
  * ``warnDeprecatedFeatureGates`` with pkg/virt-config/featuregate (feature-gates.go ``RegisterFeatureGate``,
    active.go, inactive.go, passt.go, macvtap.go, virtiofs.go): each listed gate that is no longer Alpha or Beta
    (GA, Deprecated or Discontinued) gives an admission *warning*, its own message or, for GA gates, the
    generic "is deprecated ... can be safely removed" one. Alpha/Beta and unknown gates give none. The table
    below is v1.9.0's registry, whatever ``--kubevirt-version`` the world reports.
  * the deprecated ``mediatedDevicesTypes`` lists (``mediatedDevicesConfiguration.mediatedDevicesTypes`` and
    ``nodeMediatedDeviceTypes[i].mediatedDevicesTypes``, present even if empty) give a warning on every UPDATE.
  * ``validateVirtTemplateDeployment``, ``validateRoleAggregationStrategy``, ``validateMigrationConfiguration``:
    configuration that needs a gate (``featuregate.IsEnabled``: GA on, listed on, disabled off, Beta on by
    default) is refused while that gate is off.

  ``permittedHostDevices`` has no rule in that admitter (its shape is the CRD schema's, which the real API
  server checks). Not modelled (fields the collection never writes, or checks that need a live cluster):
  customizeComponents JSON patches, certificate rotation durations, TLS ciphers, seccomp, infra/workloads
  placement dry runs, infra replicas, guest memory overhead ratio, the ppc64le warning.
- ``kubevirt-create-validator.kubevirt.io`` (CREATE, path ``/kubevirt-validate-create``):
  pkg/virt-operator/webhooks/kubevirt-create-admitter.go: a second KubeVirt CR is refused (400, "Kubevirt is
  already created") while any exists in any namespace.

A refusal is shaped like pkg/util/webhooks/validating-webhooks ``NewAdmissionResponse``: code 422, reason
Invalid, the causes' messages joined by ", " as the message; the API server prefixes
``admission webhook "NAME" denied the request:``. Note that kubectl shows an Invalid status that has causes as
``The request is invalid: FIELD: MESSAGE`` (kubectl pkg/cmd/util/helpers.go checkErr), without the prefix.
"""
import re

UPDATE_WEBHOOK = 'kubevirt-update-validator.kubevirt.io'
CREATE_WEBHOOK = 'kubevirt-create-validator.kubevirt.io'
UPDATE_PATH = '/kubevirt-validate-update'
CREATE_PATH = '/kubevirt-validate-create'

GATES_FIELD = 'spec.configuration.developerConfiguration.featureGates'
MDEV_FIELD = 'spec.configuration.mediatedDevicesConfiguration'
CONFLICT_CHECK_SINCE = (1, 8, 0)

# featuregate states (v1.9.0): the ones that give warnings, plus the Alpha/Beta ones the gated rules read
GA_GATES = frozenset((
    'LiveMigration', 'SRIOVLiveMigration', 'NonRoot', 'PSA', 'CPUNodeDiscovery', 'NUMA',
    'CommonInstancetypesDeploymentGate', 'GPU', 'HotplugNICs', 'BochsDisplayForEFIGuests', 'VMLiveUpdateFeatures',
    'NetworkBindingPlugins', 'DynamicPodInterfaceNaming', 'VolumesUpdateStrategy', 'VolumeMigration',
    'DisableCustomSELinuxPolicy', 'AutoResourceLimitsGate', 'ClusterProfiler', 'VMPersistentState', 'VMExport',
    'PersistentReservation', 'InstancetypeReferencePolicy', 'EnableVirtioFsConfigVolumes', 'ExpandDisks',
    'PanicDevices', 'LiveUpdateNADRef', 'VideoConfig', 'SecureExecution', 'MigrationPriorityQueue'))
RETIRED_GATES = {  # Deprecated and Discontinued gates, with the message each one registers
    'DockerSELinuxMCSWorkaround': 'DockerSELinuxMCSWorkaround has been deprecated since v1.4.',
    'MultiArchitecture': 'MultiArchitecture has been deprecated since v1.8.0',
    'DisableMDEVConfiguration': 'DisableMDEVConfiguration has been deprecated since v1.8.0',
    'HotplugVolumes': 'HotplugVolumes has been deprecated since v1.9.0 and has been replaced by DeclarativeHotplugVolumes',
    'ExperimentalVirtiofsSupport': 'Virtiofs ExperimentalVirtiofsSupport feature gate is discontinued since v1.7. '
                                   'Please use EnableVirtioFsConfigVolumes or EnableVirtioFsPVC feature gates instead',
    'Passt': 'Passt network binding is discontinued since v1.3. Please refer to Kubevirt user guide for alternatives.',
    'Macvtap': 'Macvtap network binding is discontinued since v1.3. Please refer to Kubevirt user guide for alternatives.',
    'PasstIPStackMigration': 'Seamless migration with passt network binding plugin is no longer supported since KubeVirt '
                             'v1.8. Please use the passt core binding instead.',
}
BETA_GATES = frozenset(('Template', 'OptOutRoleAggregation'))  # on unless disabled (only those read below)
GA_WARNING = ('feature gate %s is deprecated (feature state is "General Availability"), therefore it can be safely '
              'removed and is redundant. For more info, please look at: '
              'https://github.com/kubevirt/kubevirt/blob/main/docs/deprecation.md')
MDEV_WARNING = '%s is deprecated, use mediatedDeviceTypes'


def _configuration(obj):
    return ((obj or {}).get('spec') or {}).get('configuration') or {}


def _version(obj):
    status = (obj or {}).get('status') or {}
    text = status.get('observedKubeVirtVersion') or status.get('operatorVersion') or ''
    match = re.match(r'^v?(\d+)\.(\d+)\.(\d+)', text)
    return tuple(int(part) for part in match.groups()) if match else None


def gates_changed(old, new):
    """Whether the update touches the gate lists (the admitter's ``featureGatesChanged``)."""
    before = _configuration(old).get('developerConfiguration')
    after = _configuration(new).get('developerConfiguration')
    if after is None:
        return False
    if before is None:
        return True
    return (list(before.get('featureGates') or []) != list(after.get('featureGates') or [])
            or list(before.get('disabledFeatureGates') or []) != list(after.get('disabledFeatureGates') or []))


def gate_enabled(gate, configuration):
    """``featuregate.IsEnabled``: GA always, then an explicit enable, then an explicit disable, then Beta."""
    if gate in GA_GATES:
        return True
    developer = configuration.get('developerConfiguration') or {}
    if gate in (developer.get('featureGates') or []):
        return True
    if gate in (developer.get('disabledFeatureGates') or []):
        return False
    return gate in BETA_GATES


def gate_warning(gate):
    """The admission warning for a listed gate, or None (Alpha, Beta, unknown)."""
    if gate in RETIRED_GATES:
        return RETIRED_GATES[gate]
    if gate in GA_GATES:
        return GA_WARNING % gate
    return None


def update_causes(old, new):
    """``[(type, field, message)]`` of what the update webhook refuses."""
    configuration = _configuration(new)
    causes = []
    template = configuration.get('virtTemplateDeployment') or {}
    if template.get('enabled') and not gate_enabled('Template', configuration):
        causes.append(('FieldValueInvalid', 'spec.configuration.virtTemplateDeployment.enabled',
                       'VirtTemplateDeployment cannot be enabled without enabling the Template feature gate'))
    strategy = configuration.get('roleAggregationStrategy')
    if strategy not in (None, 'AggregateToDefault') and not gate_enabled('OptOutRoleAggregation', configuration):
        causes.append(('FieldValueInvalid', 'spec.configuration.roleAggregationStrategy',
                       'RoleAggregationStrategy cannot be set to Manual without enabling the OptOutRoleAggregation feature gate'))
    downtime = (configuration.get('migrationConfiguration') or {}).get('maxDowntimeMs')
    old_downtime = (_configuration(old).get('migrationConfiguration') or {}).get('maxDowntimeMs')
    if downtime is not None and downtime != old_downtime and not gate_enabled('MigrationStallDetection', configuration):
        causes.append(('FieldValueInvalid', 'spec.configuration.migrationConfiguration.maxDowntimeMs',
                       'maxDowntimeMs cannot be modified without enabling the MigrationStallDetection feature gate'))
    version = _version(old) or _version(new)
    if gates_changed(old, new) and (version is None or version >= CONFLICT_CHECK_SINCE):
        developer = configuration.get('developerConfiguration') or {}
        disabled = developer.get('disabledFeatureGates') or []
        for gate in developer.get('featureGates') or []:
            if gate in disabled:
                causes.append(('FieldValueForbidden', GATES_FIELD,
                               'feature gate "%s" exists on both "FeatureGates" and "DisabledFeatureGates"' % gate))
    return causes


def update_warnings(old, new):
    """The admission warnings of an allowed or refused update, in the admitter's order."""
    configuration = _configuration(new)
    warnings = []
    if gates_changed(old, new):
        for gate in (configuration.get('developerConfiguration') or {}).get('featureGates') or []:
            text = gate_warning(gate)
            if text:
                warnings.append(text)
    mdev = configuration.get('mediatedDevicesConfiguration')
    if mdev is not None:
        if mdev.get('mediatedDevicesTypes') is not None:
            warnings.append(MDEV_WARNING % (MDEV_FIELD + '.mediatedDevicesTypes'))
        for index, node in enumerate(mdev.get('nodeMediatedDeviceTypes') or []):
            if (node or {}).get('mediatedDevicesTypes') is not None:
                warnings.append(MDEV_WARNING % ('%s.nodeMediatedDeviceTypes[%d].mediatedDevicesTypes' % (MDEV_FIELD, index)))
    return warnings


def denial(causes):
    """An AdmissionReview status (422 Invalid, causes with their fields) for ``[(type, field, message)]``."""
    return {'code': 422, 'reason': 'Invalid', 'message': ', '.join(message for _type, _field, message in causes),
            'details': {'causes': [{'reason': kind, 'field': field, 'message': message} for kind, field, message in causes]}}


def admit_update(old, new):
    """``(status or None, warnings)`` for an UPDATE of a KubeVirt CR from ``old`` to ``new``."""
    causes = update_causes(old, new)
    return (denial(causes) if causes else None), update_warnings(old, new)


def admit_create(existing):
    """``(status or None, warnings)`` for a CREATE while ``existing`` KubeVirt CRs (any namespace) are stored."""
    if existing:
        return {'code': 400, 'message': 'Kubevirt is already created'}, []
    return None, []
