# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU capacity report: facts of the info modules -> model -> HTML page and Markdown (pure, no I/O).

    build(facts) -> model            facts = {'vsphere': ..., 'hosts': {...}, 'kubernetes': ...}
    render_html(model, title, timestamp=None) -> str
    render_markdown(model, title, timestamp=None) -> str

See docs/gpu-report.md.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.report.summary import ReportError, build  # noqa: F401
from ansible_collections.gpuvirt.core.plugins.module_utils.report.html_page import render as render_html  # noqa: F401
from ansible_collections.gpuvirt.core.plugins.module_utils.report.markdown import render as render_markdown  # noqa: F401

__all__ = ('ReportError', 'build', 'render_html', 'render_markdown')
