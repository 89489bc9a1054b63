# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transitional (issue 12): the vSphere specs are in module_utils/args.py ('vsphere', 'vsphere.HOST_SCOPE',
'vsphere.MAINTENANCE') and required_connection in vsphere/connection.py; this file goes when vsphere_rest/client.py
imports it from there."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import required_connection  # noqa: F401  pylint: disable=unused-import
