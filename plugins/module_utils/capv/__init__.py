# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster API Provider vSphere (CAPV) GPU machine templates.

Pure planner (no I/O): :mod:`.template` (VSphereMachineTemplate ``pciDevices``, CAPV's webhook rules, naming by
hash). The I/O (Kubernetes API) lives in ``module_utils/operations/capv_machine_template_gpu.py``.
"""
