# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin client for vCenter's REST API (``/api``), over Ansible's ``open_url``; see :mod:`.client`."""
