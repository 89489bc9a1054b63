# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Descriptions of the module attributes (check mode, diff mode, platform) shared by every module.

A module lists ``gpuvirt.core.attributes`` in ``extends_documentation_fragment`` and states only the support
level in its own ``attributes`` (``support: full``); info modules also use ``gpuvirt.core.attributes.info_module``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Runs in check mode and reports exactly what it would change, without writing anything.
  diff_mode:
    description: Reports the state before and after the change (or the planned change in check mode) in diff mode.
'''

    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This module only reads.
  diff_mode:
    support: N/A
    details:
      - This module only reads.
'''

    PLATFORM = r'''
options: {}
attributes:
  platform:
    description: The systems the module acts on.
    support: full
'''
