# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""gpu_report on the observe -> plan -> check|apply spine: render, read the files there, write what differs.

The content holds no timestamp unless the user passes one, so a rerun on the same facts writes nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import tempfile

from ansible_collections.gpuvirt.core.plugins.module_utils import plan as spine
from ansible_collections.gpuvirt.core.plugins.module_utils.report import ReportError, build, render_html, render_markdown


def _snapshot(path, data):
    if data is None:
        return None
    return {'path': path, 'sha1': hashlib.sha1(data).hexdigest(), 'bytes': len(data)}


def observe(paths):
    """{path: current bytes or None}; raises PlanError for a path that cannot hold a file."""
    current = {}
    for path in paths:
        if os.path.isdir(path):
            raise spine.PlanError('%s is a directory: give a file name for the report, e.g. %s' % (path, os.path.join(path, 'gpu-report.html')))
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise spine.PlanError('cannot write %s: directory %s does not exist; create it first' % (path, parent), path=path)
        if os.path.exists(path):
            with open(path, 'rb') as handle:
                current[path] = handle.read()
        else:
            current[path] = None
    return current


def _write(module, path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.gpu_report.', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _remove(path):
    if os.path.exists(path):
        os.unlink(path)


def plan_writes(module, wanted, current):
    """One ``write`` change per file whose content differs; undo puts the old content (or no file) back."""
    the_plan = spine.Plan()
    for path, data in wanted:
        before = current.get(path)
        if before == data:
            continue

        def apply(path=path, data=data):
            _write(module, path, data)

        def undo(path=path, before=before):
            if before is None:
                _remove(path)
            else:
                _write(module, path, before)

        the_plan.add('write' if before is None else 'update', path, before=_snapshot(path, before), after=_snapshot(path, data),
                     apply=apply, undo=undo, details={'bytes': len(data)})
    return the_plan


def run_module(module):
    params = module.params
    facts = {'vsphere': params['vsphere'], 'hosts': params['hosts'] or {}, 'kubernetes': params['kubernetes']}
    try:
        model = build(facts)
    except ReportError as exc:
        module.fail_json(msg='gpu_report: %s' % exc)
    wanted = []
    if params['dest']:
        wanted.append((params['dest'], render_html(model, params['title'], params['timestamp']).encode('utf-8')))
    if params['markdown_dest']:
        if params['dest'] and os.path.abspath(params['dest']) == os.path.abspath(params['markdown_dest']):
            module.fail_json(msg='gpu_report: dest and markdown_dest are the same file (%s); give two file names' % params['dest'])
        wanted.append((params['markdown_dest'], render_markdown(model, params['title'], params['timestamp']).encode('utf-8')))

    failed = [{'site': s['name'], 'host': None, 'error': s['error']} for s in model['sites'] if s['error']]
    failed += [{'site': s['name'], 'host': h['name'], 'error': h['error']} for s in model['sites'] for h in s['hosts'] if h['error']]

    def result(_current, _outcome):
        return {'dest': params['dest'], 'markdown_dest': params['markdown_dest'], 'summary': model['summary'], 'failed_hosts': failed}

    spine.run(module, lambda: observe([path for path, _data in wanted]), lambda current: plan_writes(module, wanted, current), result)
