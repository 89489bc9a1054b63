# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vSphere with Tanzu (vSphere IaaS control plane, VM Operator): VM classes with GPU devices and their namespaces.

:mod:`.vmclass` is the pure planner (VM class specs for vCenter's namespace-management API); :mod:`.vmclass_api` the
REST paths and the writes, through ``module_utils/vsphere_rest``. The module's lifecycle is
``operations/vsphere_vm_class.py``.
"""
