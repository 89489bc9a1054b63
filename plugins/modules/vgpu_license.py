#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vgpu_license
short_description: The NVIDIA vGPU licensing Secret (or ConfigMap) the GPU Operator mounts into the driver
version_added: 0.1.0
description:
  - Creates or updates the object holding C(gridd.conf) and C(client_configuration_token.tok), the files the GPU Operator
    mounts into the NVIDIA driver for NLS licensing, replacing C(kubectl create configmap licensing-config
    --from-file=gridd.conf --from-file=client_configuration_token.tok).
  - A Secret by default, as current GPU Operators read it (C(driver.licensingConfig.secretName)); a ConfigMap for operators
    before v25.10 (C(configMapName), deprecated).
  - The token is never returned, logged or shown in a diff; diffs and results show its SHA-256. The object is written only
    when C(gridd.conf) or the token differ; other keys of the object are left alone.
  - Warns when the ClusterPolicy does not reference the object.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.kube
  - gpuvirt.core.attributes
options:
  namespace:
    description: Namespace of the object (the GPU Operator's). It must exist.
    type: str
    default: gpu-operator
  name:
    description: Name of the object.
    type: str
    default: licensing-config
  kind:
    description: V(Secret) (current GPU Operators) or V(ConfigMap) (older ones).
    type: str
    choices: [Secret, ConfigMap]
    default: Secret
  token:
    description: The NLS client configuration token (content of the C(.tok) file). Never printed.
    type: str
  token_file:
    description: Path of the client configuration token file, on the host running the module.
    type: path
  feature_type:
    description: C(FeatureType) of gridd.conf; 0 unlicensed, 1 NVIDIA vGPU, 2 RTX Virtual Workstation, 4 Virtual Compute Server.
    type: int
    choices: [0, 1, 2, 4]
    default: 1
  gridd_conf:
    description:
      - Further gridd.conf settings, for example C(ServerAddress) for a legacy license server.
      - Only the settings NVIDIA documents for gridd.conf, spelled as NVIDIA does (C(ServerAddress), C(ServerPort),
        C(BackupServerAddress), C(BackupServerPort), C(EnableUI), C(LicenseInterval), C(LingerInterval),
        C(ClientConfigTokenPath), C(ProxyServerAddress), C(ProxyServerPort), C(ProxyUserName),
        C(ProxyCredentialsFilePath)); C(FeatureType) is O(feature_type).
      - Checked before anything is written. Ports 1 to 65535, C(EnableUI) true or false, C(LicenseInterval) 10 to
        10080 and C(LingerInterval) 0 to 10080 minutes, addresses without blanks, absolute paths, no line breaks.
    type: dict
    default: {}
  check_cluster_policy:
    description: Warn when the GPU Operator ClusterPolicy does not reference this object (one more API read).
    type: bool
    default: true
  state:
    description: V(absent) deletes the object.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
'''

EXAMPLES = r'''
- name: Licensing for the GPU Operator from the token downloaded from the NVIDIA Licensing Portal
  gpuvirt.core.vgpu_license:
    token_file: files/client_configuration_token.tok
    feature_type: 1

- name: Older GPU Operator reading a ConfigMap (seed 004)
  gpuvirt.core.vgpu_license:
    kind: ConfigMap
    token: "{{ vault_nls_token }}"
'''

RETURN = r'''
kind:
  description: Kind of the object.
  returned: always
  type: str
namespace:
  description: Its namespace.
  returned: always
  type: str
name:
  description: Its name.
  returned: always
  type: str
keys:
  description: The keys managed in it.
  returned: always
  type: list
  elements: str
  sample: [client_configuration_token.tok, gridd.conf]
token_sha256:
  description: SHA-256 of the token (never the token).
  returned: when state is present
  type: str
changes:
  description: The planned write (create, update or delete), or none.
  returned: always
  type: list
  elements: dict
api_calls:
  description: Kubernetes API requests this run made.
  returned: always
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.licensing import FEATURE_TYPES
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vgpu_license import VgpuLicense
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'kube',
            namespace=dict(type='str', default='gpu-operator'),
            name=dict(type='str', default='licensing-config'),
            kind=dict(type='str', choices=['Secret', 'ConfigMap'], default='Secret'),
            token=dict(type='str', no_log=True),
            token_file=dict(type='path'),
            feature_type=dict(type='int', choices=list(FEATURE_TYPES), default=1),
            gridd_conf=dict(type='dict', default={}),
            check_cluster_policy=dict(type='bool', default=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        mutually_exclusive=[('token', 'token_file')],
        required_if=[('state', 'present', ('token', 'token_file'), True)],
        supports_check_mode=True,
    )
    run(module, VgpuLicense)


if __name__ == '__main__':
    main()
