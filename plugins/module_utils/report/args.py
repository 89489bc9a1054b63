# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec of gpuvirt.core.gpu_report (documented in the module's DOCUMENTATION)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DEFAULT_TITLE = 'GPU capacity report'


def argument_spec():
    return dict(
        vsphere=dict(type='raw'),
        hosts=dict(type='dict', default={}),
        kubernetes=dict(type='raw'),
        dest=dict(type='path'),
        markdown_dest=dict(type='path'),
        title=dict(type='str', default=DEFAULT_TITLE),
        timestamp=dict(type='str'),
    )


MODULE_KWARGS = dict(
    required_one_of=[('dest', 'markdown_dest')],
    supports_check_mode=True,
)
