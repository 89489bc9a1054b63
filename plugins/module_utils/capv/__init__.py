# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster API Provider vSphere (CAPV) GPU machine templates and vSphere with Tanzu VM classes.

Pure planners (no I/O): :mod:`.template` (VSphereMachineTemplate ``pciDevices``, CAPV's webhook rules, naming
by hash) and :mod:`.vmclass` (VM class specs for vCenter's namespace-management API). The I/O lives in
:mod:`.template_runner` (Kubernetes API) and ``module_utils/vsphere_rest`` (vCenter REST API).
"""
