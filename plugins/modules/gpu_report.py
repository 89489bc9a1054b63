#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: gpu_report
short_description: Write the GPU capacity report (HTML and Markdown) from the GPU info modules' facts
version_added: 0.1.0
author:
  - gpuvirt.core contributors (@gpuvirt)
description:
  - Renders one self-contained HTML page (inline CSS, no script, nothing fetched from the network) and, optionally,
    a Markdown variant from the results of M(gpuvirt.core.vsphere_gpu_info), M(gpuvirt.core.host_gpu_info) and
    M(gpuvirt.core.k8s_gpu_info).
  - Per site and host, each physical GPU is drawn as a bar of its vGPUs (used and free, coloured by type and
    labelled in text), with the vGPU types that still fit on it, passthrough and reboot-pending state, Kubernetes
    allocatable against capacity per node and guest licensing where the facts say; a summary comes first.
  - What still fits on a GPU comes from the collection's vGPU catalog, the same answer as the
    P(gpuvirt.core.vgpu_fits#filter) filter.
  - A host whose info task failed or was unreachable is shown as such, not left out.
  - Writes a file only when its content differs, so a rerun on the same facts reports C(changed=false). The content
    holds no timestamp unless O(timestamp) is given.
  - Runs where the files are to be written, normally C(localhost).
options:
  vsphere:
    description:
      - The registered result of M(gpuvirt.core.vsphere_gpu_info), or a list of them (one per vCenter).
      - A result may carry a C(site) key naming the site in the report.
      - A failed result (C(failed) or C(unreachable)) is shown as a site that failed to answer.
    type: raw
  hosts:
    description:
      - Inventory host name mapped to that host's registered M(gpuvirt.core.host_gpu_info) result.
      - A failed, unreachable or skipped result, or a plain error text, is shown as a host that failed to answer.
      - A result may carry a C(site) key; hosts are grouped by it (default C(KVM hosts)).
    type: dict
    default: {}
  kubernetes:
    description:
      - The registered result of M(gpuvirt.core.k8s_gpu_info), or a list of them (one per cluster).
    type: raw
  dest:
    description:
      - Path of the HTML report. Its directory must exist.
      - At least one of O(dest) and O(markdown_dest) is required.
    type: path
  markdown_dest:
    description:
      - Path of the Markdown report. Its directory must exist.
    type: path
  title:
    description: Title of the report.
    type: str
    default: GPU capacity report
  timestamp:
    description:
      - Text shown as the report's generation time, for example the output of Ansible's C(now) function.
      - Left out by default so that the content, and so C(changed), depends only on the facts.
    type: str
extends_documentation_fragment:
  - gpuvirt.core.attributes
  - gpuvirt.core.attributes.PLATFORM
attributes:
  check_mode:
    support: full
    details: Reports which files would be written; writes nothing.
  diff_mode:
    support: full
    details: Shows the size and SHA-1 of each file before and after.
  platform:
    support: full
    platforms: posix
    details: Runs on the host that receives the files, normally the controller.
notes:
  - The report reads facts only; it changes nothing on vSphere, KVM hosts or Kubernetes.
seealso:
  - module: gpuvirt.core.host_gpu_info
  - module: gpuvirt.core.vsphere_gpu_info
  - module: gpuvirt.core.k8s_gpu_info
  - plugin: gpuvirt.core.vgpu_fits
    plugin_type: filter
'''

EXAMPLES = r'''
- name: Report on the KVM hosts of the inventory
  delegate_to: localhost
  run_once: true
  gpuvirt.core.gpu_report:
    hosts: "{{ dict(groups['gpu_kvm_hosts'] | zip(groups['gpu_kvm_hosts'] | map('extract', hostvars, 'gpu_facts'))) }}"
    dest: /srv/reports/gpu.html
    markdown_dest: /srv/reports/gpu.md

- name: Report on a vCenter and a Kubernetes cluster, with a generation time
  gpuvirt.core.gpu_report:
    vsphere: "{{ vsphere_facts }}"
    kubernetes: "{{ k8s_facts }}"
    dest: "{{ playbook_dir }}/gpu-report.html"
    title: Lab GPUs
    timestamp: "{{ now(utc=true, fmt='%Y-%m-%d %H:%M UTC') }}"
'''

RETURN = r'''
dest:
  description: Path of the HTML report (null when not asked for).
  returned: always
  type: str
  sample: /srv/reports/gpu.html
markdown_dest:
  description: Path of the Markdown report (null when not asked for).
  returned: always
  type: str
  sample: /srv/reports/gpu.md
changes:
  description: The files written (or, in check mode, that would be written), with their size.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "write", "target": "/srv/reports/gpu.html", "bytes": 18230}]
summary:
  description: The report's totals.
  returned: always
  type: dict
  contains:
    hosts:
      description: Hosts and Kubernetes GPU nodes in the report.
      type: int
    hosts_failed:
      description: Hosts and sites that failed to answer.
      type: int
    gpus:
      description: Physical GPUs.
      type: int
    gpus_vgpu:
      description: GPUs able to hold vGPUs now.
      type: int
    gpus_passthrough:
      description: GPUs given whole to a VM.
      type: int
    gpus_full:
      description: GPUs on which no further vGPU fits.
      type: int
    gpus_empty:
      description: GPUs able to hold vGPUs that have none.
      type: int
    vgpus:
      description: vGPUs that exist (KVM) or are held by powered-on VMs (vSphere).
      type: int
    vgpus_by_type:
      description: vGPUs per canonical type.
      type: dict
    free_by_type:
      description: For each vGPU type, how many more fit across all GPUs when only that type is added.
      type: dict
    reboot_pending:
      description: Hosts waiting for a reboot.
      type: int
    kubernetes_resources:
      description: Per nvidia.com resource, the sums of C(allocatable) and C(capacity) over the nodes.
      type: dict
  sample: {"hosts": 3, "hosts_failed": 1, "gpus": 4, "vgpus": 5, "gpus_full": 1, "vgpus_by_type": {"A10-4Q": 3}}
failed_hosts:
  description: Sites and hosts that failed to answer, with the error.
  returned: always
  type: list
  elements: dict
  sample: [{"site": "KVM hosts", "host": "kvm-3", "error": "unreachable: ssh: connect to host kvm-3 port 22: Connection refused"}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpuvirt.core.plugins.module_utils.operations.gpu_report import GpuReport
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vsphere=dict(type='raw'),
            hosts=dict(type='dict', default={}),
            kubernetes=dict(type='raw'),
            dest=dict(type='path'),
            markdown_dest=dict(type='path'),
            title=dict(type='str', default='GPU capacity report'),
            timestamp=dict(type='str'),
        ),
        required_one_of=[('dest', 'markdown_dest')],
        supports_check_mode=True,
    )
    run(module, GpuReport)


if __name__ == '__main__':
    main()
