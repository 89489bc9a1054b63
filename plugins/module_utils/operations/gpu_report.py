# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""gpu_report: render (``report/``), read the files there, write what differs.

It reads no system (the facts are the info modules' results, passed in as options); its only writes are the report
files, planned as ``write``/``update`` changes, so check mode and diff mode say which files would change. The content
holds no timestamp unless the user passes one, so a rerun on the same facts writes nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import tempfile

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Operation, Plan, PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.report import ReportError, build, render_html, render_markdown


def _snapshot(path, data):
    if data is None:
        return None
    return {'path': path, 'sha1': hashlib.sha1(data).hexdigest(), 'bytes': len(data)}


def read_files(paths):
    """{path: current bytes or None}; raises PlanError for a path that cannot hold a file."""
    current = {}
    for path in paths:
        if os.path.isdir(path):
            raise PlanError('%s is a directory: give a file name for the report, e.g. %s' % (path, os.path.join(path, 'gpu-report.html')))
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise PlanError('cannot write %s: directory %s does not exist; create it first' % (path, parent), path=path)
        if os.path.exists(path):
            with open(path, 'rb') as handle:
                current[path] = handle.read()
        else:
            current[path] = None
    return current


def plan_writes(wanted, current, write, remove):
    """One ``write`` (new file) or ``update`` change per file whose content differs; undo puts the old content (or no
    file) back. ``write(path, data)`` and ``remove(path)`` do the I/O."""
    the_plan = Plan()
    for path, data in wanted:
        before = current.get(path)
        if before == data:
            continue

        def undo(path=path, before=before):
            if before is None:
                remove(path)
            else:
                write(path, before)

        the_plan.add('write' if before is None else 'update', path, before=_snapshot(path, before), after=_snapshot(path, data),
                     apply=lambda path=path, data=data: write(path, data), undo=undo, details={'bytes': len(data)})
    return the_plan


class GpuReport(Operation):
    """Result: ``dest``, ``markdown_dest``, ``summary``, ``failed_hosts``."""

    def __init__(self, module):
        super(GpuReport, self).__init__(module)
        self.model = None
        self.wanted = []      # [(path, bytes)]

    def validate(self):
        params = self.params
        try:
            self.model = build({'vsphere': params['vsphere'], 'hosts': params['hosts'] or {}, 'kubernetes': params['kubernetes']})
        except ReportError as exc:
            raise PlanError('gpu_report: %s' % exc)
        if params['dest']:
            self.wanted.append((params['dest'], render_html(self.model, params['title'], params['timestamp']).encode('utf-8')))
        if params['markdown_dest']:
            if params['dest'] and os.path.abspath(params['dest']) == os.path.abspath(params['markdown_dest']):
                raise PlanError('gpu_report: dest and markdown_dest are the same file (%s); give two file names' % params['dest'])
            self.wanted.append((params['markdown_dest'], render_markdown(self.model, params['title'], params['timestamp']).encode('utf-8')))

    def observe(self):
        return read_files([path for path, _data in self.wanted])

    def plan(self, current):
        return plan_writes(self.wanted, current, self.write, self.remove)

    def write(self, path, data):
        """Atomically: a temporary file in the same directory, moved over the report."""
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix='.gpu_report.', dir=directory)
        try:
            with os.fdopen(fd, 'wb') as handle:
                handle.write(data)
            self.module.atomic_move(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @staticmethod
    def remove(path):
        if os.path.exists(path):
            os.unlink(path)

    def result(self, current, outcome):
        model, params = self.model, self.params
        failed = [{'site': s['name'], 'host': None, 'error': s['error']} for s in model['sites'] if s['error']]
        failed += [{'site': s['name'], 'host': h['name'], 'error': h['error']} for s in model['sites'] for h in s['hosts'] if h['error']]
        return {'dest': params['dest'], 'markdown_dest': params['markdown_dest'], 'summary': model['summary'], 'failed_hosts': failed}
