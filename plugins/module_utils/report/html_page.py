# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity report as one self-contained HTML page.

Inline CSS and SVG only: no script, no font, no image or style from anywhere (a Content-Security-Policy meta
tag forbids every fetch). Readable from phone width to desktop; every colour has a text label next to it;
each GPU bar is an image with a text alternative, followed by the same facts as text. Pure, Python 3.8+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
from html import escape as _escape

from ansible_collections.gpuvirt.core.plugins.module_utils.report.common import NOT_READY, PASSTHROUGH, SITE_NAMES, UNKNOWN, VGPU
from ansible_collections.gpuvirt.core.plugins.module_utils.report.summary import fits_by_size

# Okabe-Ito palette (distinguishable with the common colour-vision deficiencies), with a text colour that keeps
# at least 4.5:1 contrast on each.
PALETTE = (('#0072B2', '#ffffff'), ('#E69F00', '#000000'), ('#009E73', '#000000'), ('#CC79A7', '#000000'),
           ('#56B4E9', '#000000'), ('#D55E00', '#000000'), ('#F0E442', '#000000'), ('#332288', '#ffffff'),
           ('#88CCEE', '#000000'), ('#117733', '#ffffff'), ('#AA4499', '#ffffff'), ('#DDCC77', '#000000'))

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STATE_TEXT = {VGPU: 'vGPU', PASSTHROUGH: 'passthrough', NOT_READY: 'not ready for vGPUs', UNKNOWN: 'unknown'}
KIND_TEXT = SITE_NAMES

CSS = """
:root{--fg:#1b1f24;--muted:#57606a;--bg:#ffffff;--panel:#f6f8fa;--line:#d0d7de;--bad:#a40e26;--warn:#7d4e00;--ok:#116329}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header,main{max-width:1240px;margin:0 auto;padding:0 16px}
header{padding-top:16px}
h1{font-size:1.6rem;margin:.2em 0}
h2{font-size:1.3rem;margin:1.4em 0 .5em;padding-bottom:.2em;border-bottom:2px solid var(--line)}
h3{font-size:1.1rem;margin:0 0 .4em;overflow-wrap:anywhere}
h4{font-size:1rem;margin:0 0 .3em;overflow-wrap:anywhere}
p{margin:.3em 0}
.muted{color:var(--muted)}
a{color:#0550ae}
.skip{position:absolute;left:-9999px}.skip:focus{left:16px;top:8px;background:#fff;padding:4px}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin:0;padding:0}
.stat{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.stat dt{font-size:.85rem;color:var(--muted)}
.stat dd{margin:0;font-size:1.5rem;font-weight:600}
.attention{border-left:4px solid var(--warn);background:#fff8c5;padding:8px 12px;margin:12px 0;border-radius:4px}
.attention ul{margin:.2em 0;padding-left:1.2em}
.tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px;align-items:start}
table{border-collapse:collapse;width:100%;margin:.4em 0}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
td,th[scope=row]{overflow-wrap:anywhere}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.hosts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:12px;align-items:start}
.host{border:1px solid var(--line);border-radius:8px;padding:12px;background:#fff;min-width:0}
.host.failed{border-color:var(--bad);border-width:2px}
.badges{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 .5em;padding:0;list-style:none}
.badge{display:inline-flex;align-items:center;gap:4px;border:1px solid currentColor;border-radius:12px;padding:0 8px;font-size:.85rem}
.badge svg{width:14px;height:14px;flex:none}
.badge.bad{color:var(--bad)}.badge.warn{color:var(--warn)}.badge.ok{color:var(--ok)}.badge.info{color:var(--muted)}
.error{color:var(--bad);font-weight:600}
.gpu{border-top:1px solid var(--line);padding:8px 0 4px}
.gpu:first-of-type{border-top:0}
.bar{display:flex;height:34px;border:1px solid #57606a;border-radius:4px;overflow:hidden;margin:6px 0;background:#fff}
.seg{flex:1 1 0;min-width:2px;display:flex;align-items:center;justify-content:center;overflow:hidden;white-space:nowrap;
 font-size:.8rem;font-weight:600;border-right:1px solid #fff;padding:0 2px}
.seg:last-child{border-right:0}
.seg.free{background:#fff;color:#1b1f24;border:1px dashed #57606a;font-weight:400}
.seg.spare{background:repeating-linear-gradient(135deg,#eaeef2 0 6px,#d0d7de 6px 12px);color:#1b1f24;font-weight:400}
.seg.blocked{background:repeating-linear-gradient(45deg,#fff8c5 0 8px,#f2e6a6 8px 16px);color:#1b1f24;font-weight:400}
.seg.passthrough{background:#24292f;color:#fff}
.seg.used.in-use{box-shadow:inset 0 -5px 0 rgba(0,0,0,.45)}
.facts{margin:.2em 0;padding-left:1.1em}
.facts li{margin:.1em 0}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin:.5em 0;padding:0;list-style:none}
.swatch{display:inline-block;width:1.4em;height:1em;vertical-align:-2px;margin-right:4px;border:1px solid #57606a}
.swatch.free{background:#fff;border-style:dashed}
.swatch.spare{background:repeating-linear-gradient(135deg,#eaeef2 0 3px,#d0d7de 3px 6px)}
.swatch.blocked{background:repeating-linear-gradient(45deg,#fff8c5 0 3px,#f2e6a6 3px 6px)}
.swatch.passthrough{background:#24292f}
.meter{display:block;width:100%;min-width:60px;height:10px;border:1px solid #57606a;border-radius:3px;background:#fff;overflow:hidden}
.meter>span{display:block;height:100%;background:#0072B2}
footer{max-width:1240px;margin:24px auto;padding:0 16px;color:var(--muted);font-size:.85rem}
@media (max-width:600px){body{font-size:14px}h1{font-size:1.3rem}.stat dd{font-size:1.25rem}.host{padding:8px}
 .seg{font-size:.7rem}.tables{grid-template-columns:1fr}
 table.stack thead{position:absolute;left:-9999px}
 table.stack tr{display:block;border-bottom:1px solid var(--line);padding:4px 0}
 table.stack th,table.stack td{display:flex;justify-content:space-between;gap:12px;border:0;padding:2px 4px;text-align:right}
 table.stack th{text-align:left}
 table.stack td[data-label]::before{content:attr(data-label);color:var(--muted);text-align:left}
 table.stack .meter{max-width:50%}}
@media print{.host{break-inside:avoid}}
"""

_STROKE = 'fill="none" stroke="currentColor" stroke-width="1.6"'
ICONS = {
    'bad': '<path d="M8 1l7 13H1z" %s/><path d="M8 6v4M8 11.5v1.2" %s/>' % (_STROKE, _STROKE),
    'warn': '<circle cx="8" cy="8" r="6.5" %s/><path d="M8 4v4.5l3 2" %s/>' % (_STROKE, _STROKE),
    'ok': '<path d="M2 8.5l4 4 8-9" fill="none" stroke="currentColor" stroke-width="2"/>',
    'info': '<circle cx="8" cy="8" r="6.5" %s/><path d="M8 7v5M8 4v1.5" %s/>' % (_STROKE, _STROKE),
}


def esc(value):
    return _escape('' if value is None else str(value), quote=True)


def _slug(text):
    return re.sub(r'[^a-z0-9]+', '-', str(text).lower()).strip('-') or 'x'


def _badge(kind, text):
    icon = '<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false">%s</svg>' % ICONS[kind]
    return '<li class="badge %s">%s<span>%s</span></li>' % (kind, icon, esc(text))


def _gib(mib):
    if mib is None:
        return '?'
    value = mib / 1024.0
    return ('%d GB' % value) if value == int(value) else ('%.1f GB' % value)


def fits_text(fits):
    """'3 × 4 GB (A10-4A, A10-4C, A10-4Q); 1 × 12 GB (…)' — the catalog's answer, grouped by size."""
    parts = []
    for count, mib, slices, names in fits_by_size(fits):
        size = ('%s, %d slice%s' % (_gib(mib), slices, '' if slices == 1 else 's')) if slices else _gib(mib)
        parts.append('%d × %s (%s)' % (count, size, ', '.join(names)))
    return '; '.join(parts)


def used_text(used):
    return ', '.join('%d × %s' % (count, vtype) for vtype, count in sorted(used.items()))


class _Colours:
    def __init__(self, model):
        types = sorted(set(vtype for site in model['sites'] for host in site['hosts'] for gpu in host['gpus'] for vtype in gpu['used']))
        self.order = types
        self.index = dict((vtype, i) for i, vtype in enumerate(types))

    def style(self, vtype):
        background, text = PALETTE[self.index.get(vtype, 0) % len(PALETTE)]
        return 'background:%s;color:%s' % (background, text)


def bar_label(gpu):
    """The bar's text alternative: what is used, what is free."""
    name = '%s %s' % (gpu['model'] or 'GPU', gpu['id'])
    if gpu['state'] == PASSTHROUGH:
        return '%s: %s' % (name, gpu['segments'][0]['label'])
    if gpu['state'] != VGPU:
        return '%s: %s' % (name, gpu['segments'][0]['label'] if gpu['segments'] else STATE_TEXT[gpu['state']])
    if not gpu['capacity_known']:
        return '%s: %s' % (name, gpu['segments'][0]['label'])
    used = used_text(gpu['used']) or 'no vGPUs'
    if gpu['slots'] and gpu['slots'].get('unit'):
        slots = '%d of %d %s used' % (gpu['slots']['used'], gpu['slots']['total'], gpu['slots']['unit'])
    elif gpu['slots']:
        slots = '%d of %d slots used' % (gpu['slots']['used'], gpu['slots']['total'])
    else:
        slots = 'empty' if not gpu['vgpus'] else 'mixed sizes'
    return '%s: %s; %s; %s' % (name, slots, used, 'full' if gpu['full'] else 'free capacity left')


def _bar(gpu, colours):
    segments = []
    for seg in gpu['segments']:
        classes = 'seg ' + seg['kind'] + (' in-use' if seg.get('in_use') else '')
        style = 'flex-grow:%.4f' % seg['share']
        if seg['kind'] == 'used':
            style += ';' + colours.style(seg['type'])
            short = seg['type'].split('-', 1)[1] if '-' in seg['type'] else seg['type']
        elif seg['kind'] == 'free' and seg['type']:
            short = 'free'
        else:
            short = seg['label']
        segments.append('<span class="%s" style="%s" title="%s">%s</span>' % (classes, style, esc(seg['label']), esc(short)))
    return '<div class="bar" role="img" aria-label="%s">%s</div>' % (esc(bar_label(gpu)), ''.join(segments))


def _gpu(gpu, colours):
    badges = [_badge('info', STATE_TEXT[gpu['state']])]
    if gpu['full']:
        badges.append(_badge('bad', 'full'))
    elif gpu['state'] == VGPU and gpu['capacity_known'] and not gpu['vgpus']:
        badges.append(_badge('ok', 'empty'))
    if gpu['mig']:
        badges.append(_badge('info', 'MIG-backed'))
    if gpu['mixed_size']:
        badges.append(_badge('info', 'mixed-size mode'))
    if gpu['reboot_pending']:
        badges.append(_badge('warn', 'reboot pending'))
    facts = []
    if gpu['state'] == VGPU:
        if gpu['slots'] and not gpu['slots'].get('unit'):
            facts.append('<li>Slots: <strong data-slots-used="%d" data-slots-total="%d">%d used of %d</strong></li>'
                         % (gpu['slots']['used'], gpu['slots']['total'], gpu['slots']['used'], gpu['slots']['total']))
        elif gpu['slots']:
            facts.append('<li>MIG memory slices: <strong>%d used of %d</strong></li>' % (gpu['slots']['used'], gpu['slots']['total']))
        facts.append('<li>vGPUs: <span data-vgpus="%d">%s</span></li>' % (len(gpu['vgpus']), esc(used_text(gpu['used']) or 'none')))
        in_use = sum(1 for v in gpu['vgpus'] if v['in_use'])
        if gpu['vgpus']:
            facts.append('<li>In use by running VMs: %d of %d</li>' % (in_use, len(gpu['vgpus'])))
        if gpu['capacity_known']:
            facts.append('<li>Still fits: <span class="fits">%s</span></li>' % esc(fits_text(gpu['fits']) or 'nothing (full)'))
    if gpu['assigned_to']:
        facts.append('<li>Assigned to: %s</li>' % esc(', '.join(gpu['assigned_to'])))
    if gpu['passthrough'] and gpu['state'] != PASSTHROUGH and gpu['passthrough'].get('capable'):
        pt = gpu['passthrough']
        facts.append('<li>Passthrough: %s, %s</li>' % ('enabled' if pt['enabled'] else 'disabled', 'active' if pt['active'] else 'not active'))
    for note in gpu['notes']:
        facts.append('<li>%s</li>' % esc(note))
    title = '%s <span class="muted">%s</span>' % (esc(gpu['id']), esc(gpu['description']))
    return ('<div class="gpu" data-gpu="%s"><h4>%s</h4><ul class="badges">%s</ul>%s<ul class="facts">%s</ul></div>'
            % (esc(gpu['id']), title, ''.join(badges), _bar(gpu, colours), ''.join(facts)))


def _host_badges(host):
    badges = []
    if host['error']:
        badges.append(_badge('bad', 'failed to answer'))
    if host['reboot_pending']:
        badges.append(_badge('warn', 'reboot pending'))
    if host.get('licence'):
        kind = 'bad' if host['licence'].startswith('not licensed') else 'ok'
        badges.append(_badge(kind, 'not licensed' if kind == 'bad' else 'licensed'))
    return badges


def host_anchor(site, host):
    """The id of a host's card: unique across sites (two vCenters may both have an esx-1)."""
    return 'host-' + _slug('%s-%s-%s' % (site['kind'], site['name'], host['name']))


def _host(site, host, colours):
    parts = []
    badges = _host_badges(host)
    if host['kind'] == 'kubernetes':
        badges.extend(_node_badges(host))
    if badges:
        parts.append('<ul class="badges">%s</ul>' % ''.join(badges))
    if host['error']:
        parts.append('<p class="error">No facts: %s</p>' % esc(host['error']))
    graphics = host.get('graphics') or {}
    if graphics.get('default_type') or graphics.get('assignment_policy'):
        parts.append('<p class="muted">Host graphics: %s, assignment policy %s</p>'
                     % (esc(graphics.get('default_type') or '?'), esc(graphics.get('assignment_policy') or '?')))
    if host['kind'] == 'kubernetes':
        parts.append(_node(host))
    elif not host['error'] and not host['gpus']:
        parts.append('<p>No NVIDIA GPUs found.</p>')
    for gpu in host['gpus']:
        parts.append(_gpu(gpu, colours))
    extra = []
    for item in host['unplaced']:
        extra.append('<li>%s wants %s: no GPU on this host can hold it</li>' % (esc(item['vm']), esc(item['profile'])))
    for item in host['powered_off']:
        what = ', '.join(item['vgpu_profiles']) or ''
        if item['passthrough_devices']:
            what = (what + ', ' if what else '') + '%d passthrough device(s)' % item['passthrough_devices']
        extra.append('<li>%s (powered off) is configured with %s: not holding a GPU now</li>' % (esc(item['vm']), esc(what)))
    for note in host['notes']:
        extra.append('<li>%s</li>' % esc(note))
    if extra:
        parts.append('<ul class="facts">%s</ul>' % ''.join(extra))
    classes = 'host failed' if host['error'] else 'host'
    anchor = host_anchor(site, host)
    return ('<article class="%s" id="%s" data-host="%s" aria-labelledby="%s-h"><h3 id="%s-h">%s</h3>%s</article>'
            % (classes, anchor, esc(host['name']), anchor, anchor, esc(host['name']), ''.join(parts)))


def _node_badges(node):
    badges = []
    if node.get('workload'):
        badges.append(_badge('info', 'workload %s' % node['workload']))
    state = node.get('vgpu_config_state')
    if node.get('vgpu_config') or state:
        kind = {'success': 'ok', 'failed': 'bad', 'pending': 'warn'}.get(state, 'info')
        badges.append(_badge(kind, 'vGPU config %s: %s' % (node.get('vgpu_config') or '(default)', state or 'no state')))
    return badges


def _node(node):
    head = []
    if node.get('product'):
        head.append('%s%s' % ('%d × ' % node['gpu_count'] if node.get('gpu_count') else '', node['product']))
    rows = []
    for res in node['resources']:
        share = float(res['allocatable']) / res['capacity'] if res['capacity'] else 0.0
        permitted = 'n/a (containers)' if res.get('container') else {None: 'not known', True: 'yes', False: 'no'}[res['permitted']]
        rows.append('<tr data-resource="%s"><th scope="row">%s</th><td class="num" data-label="allocatable">%d</td>'
                    '<td class="num" data-label="capacity">%d</td><td data-label="allocatable of capacity">'
                    '<span class="meter" role="img" aria-label="%d of %d allocatable"><span style="width:%.1f%%"></span></span></td>'
                    '<td data-label="KubeVirt permits">%s</td></tr>'
                    % (esc(res['name']), esc(res['name']), res['allocatable'], res['capacity'], res['allocatable'], res['capacity'],
                       100.0 * min(share, 1.0), permitted))
    table = ''
    if rows:
        table = ('<table class="stack"><caption>GPU resources</caption><thead><tr><th scope="col">resource</th><th scope="col" class="num">allocatable</th>'
                 '<th scope="col" class="num">capacity</th><th scope="col">allocatable of capacity</th><th scope="col">KubeVirt permits</th></tr>'
                 '</thead><tbody>%s</tbody></table>' % ''.join(rows))
    return '%s%s' % ('<p>%s</p>' % esc(', '.join(head)) if head else '', table)


def _stat(label, value, key):
    return '<div class="stat"><dt>%s</dt><dd data-stat="%s">%s</dd></div>' % (esc(label), esc(key), esc(value))


def _attention(model):
    items = []
    for site in model['sites']:
        if site['error']:
            where = site['name'] if site['name'] == KIND_TEXT[site['kind']] else '%s (%s)' % (site['name'], KIND_TEXT[site['kind']])
            items.append('%s failed to answer: %s' % (where, site['error']))
        for host in site['hosts']:
            anchor = '#' + host_anchor(site, host)
            if host['error']:
                items.append(('<a href="%s">%s</a> failed to answer: %s', anchor, host['name'], host['error']))
            if host['reboot_pending']:
                items.append(('<a href="%s">%s</a>: reboot pending%s', anchor, host['name'], ''))
            for gpu in host['gpus']:
                if gpu['full']:
                    items.append(('<a href="%s">%s</a>: GPU %s is full', anchor, host['name'], gpu['id']))
            if host.get('vgpu_config_state') == 'failed':
                items.append(('<a href="%s">%s</a>: vGPU configuration failed%s', anchor, host['name'], ''))
    out = []
    for item in items:
        if isinstance(item, tuple):
            out.append('<li>' + item[0] % (esc(item[1]), esc(item[2]), esc(item[3])) + '</li>')
        else:
            out.append('<li>%s</li>' % esc(item))
    if not out:
        return ''
    return '<div class="attention" role="note"><strong>Needs attention</strong><ul>%s</ul></div>' % ''.join(out)


def _summary(model, colours):
    s = model['summary']
    stats = [
        _stat('Hosts and nodes', s['hosts'], 'hosts'), _stat('Hosts or sites failed to answer', s['hosts_failed'], 'hosts_failed'),
        _stat('GPUs', s['gpus'], 'gpus'), _stat('GPUs offering vGPUs', s['gpus_vgpu'], 'gpus_vgpu'),
        _stat('vGPUs', s['vgpus'], 'vgpus'), _stat('Full GPUs', s['gpus_full'], 'gpus_full'),
        _stat('Empty GPUs', s['gpus_empty'], 'gpus_empty'), _stat('Passthrough GPUs', s['gpus_passthrough'], 'gpus_passthrough'),
        _stat('Reboot pending', s['reboot_pending'], 'reboot_pending'),
    ]
    if s['kubernetes_nodes']:
        stats.append(_stat('Kubernetes GPU nodes', s['kubernetes_nodes'], 'kubernetes_nodes'))
    parts = ['<dl class="stats">%s</dl>' % ''.join(stats), _attention(model)]
    tables = []
    if s['vgpus_by_type']:
        rows = ''.join('<tr data-type="%s"><th scope="row"><span class="swatch" style="%s" aria-hidden="true"></span>%s</th>'
                       '<td class="num">%d</td><td class="num">%d</td></tr>'
                       % (esc(t), colours.style(t), esc(t), n, s['free_by_type'].get(t, 0)) for t, n in s['vgpus_by_type'].items())
        tables.append('<table><caption>vGPU types in use</caption><thead><tr><th scope="col">type</th><th scope="col" class="num">in use</th>'
                      '<th scope="col" class="num">still fits (this type alone)</th></tr></thead><tbody>%s</tbody></table>' % rows)
    if s['empty_by_model']:
        rows = ''.join('<tr><th scope="row">%s</th><td class="num">%d</td></tr>' % (esc(m), n) for m, n in s['empty_by_model'].items())
        tables.append('<table><caption>Empty GPUs (any vGPU type fits)</caption><thead><tr><th scope="col">GPU</th>'
                      '<th scope="col" class="num">GPUs</th></tr></thead><tbody>%s</tbody></table>' % rows)
    if s['kubernetes_resources']:
        rows = ''.join('<tr><th scope="row">%s</th><td class="num">%d</td><td class="num">%d</td></tr>' % (esc(r), v['allocatable'], v['capacity'])
                       for r, v in s['kubernetes_resources'].items())
        tables.append('<table><caption>Kubernetes GPU resources</caption><thead><tr><th scope="col">resource</th>'
                      '<th scope="col" class="num">allocatable</th><th scope="col" class="num">capacity</th></tr></thead><tbody>%s</tbody></table>' % rows)
    if tables:
        parts.append('<div class="tables">%s</div>' % ''.join(tables))
    return '<section aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>%s</section>' % ''.join(parts)


def _legend(colours):
    items = ['<li><span class="swatch" style="%s" aria-hidden="true"></span>%s</li>' % (colours.style(t), esc(t)) for t in colours.order]
    items += ['<li><span class="swatch free" aria-hidden="true"></span>free slot or memory</li>',
              '<li><span class="swatch spare" aria-hidden="true"></span>not allocatable</li>',
              '<li><span class="swatch blocked" aria-hidden="true"></span>no vGPUs possible or capacity unknown</li>',
              '<li><span class="swatch passthrough" aria-hidden="true"></span>passthrough (whole GPU)</li>',
              '<li>a dark underline marks a vGPU in use by a running VM</li>']
    return '<ul class="legend" aria-label="Legend">%s</ul>' % ''.join(items)


def _site(site, colours):
    heading = esc(site['name'])
    if site['name'] != KIND_TEXT[site['kind']]:
        heading += ' <span class="muted">(%s)</span>' % esc(KIND_TEXT[site['kind']])
    parts = []
    if site['error']:
        parts.append('<ul class="badges">%s</ul><p class="error">No facts: %s</p>' % (_badge('bad', 'failed to answer'), esc(site['error'])))
    if site.get('licence'):
        parts.append('<p>Guest licensing: %s</p>' % esc(site['licence']))
    if site.get('nodes_without_gpus'):
        parts.append('<p class="muted">Nodes without GPUs: %s</p>' % esc(', '.join(site['nodes_without_gpus'])))
    for note in site.get('notes') or []:
        parts.append('<p>%s</p>' % esc(note))
    if not site['error'] and not site['hosts']:
        parts.append('<p>No hosts with GPUs.</p>')
    if site['hosts']:
        parts.append('<div class="hosts">%s</div>' % ''.join(_host(site, h, colours) for h in site['hosts']))
    slug = 'site-' + _slug(site['kind'] + '-' + site['name'])
    return '<section aria-labelledby="%s" data-site="%s"><h2 id="%s">%s</h2>%s</section>' % (slug, esc(site['name']), slug, heading, ''.join(parts))


def render(model, title='GPU capacity report', timestamp=None):
    """The report model -> one HTML document (str)."""
    colours = _Colours(model)
    body = [_summary(model, colours)]
    if model['sites']:
        body.append(_legend(colours))
    else:
        body.append('<p>The inventory holds no vSphere, KVM host or Kubernetes facts: nothing to show.</p>')
    body.extend(_site(site, colours) for site in model['sites'])
    stamp = '<p class="muted">Generated %s</p>' % esc(timestamp) if timestamp else ''
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" content="%s">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="generator" content="gpuvirt.core gpu_report">\n'
            '<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n<a class="skip" href="#main">Skip to the report</a>\n'
            '<header><h1>%s</h1>%s</header>\n<main id="main">\n%s\n</main>\n'
            '<footer>Free capacity follows the gpuvirt.core vGPU catalog (the vgpu_fits filter gives the same answer).</footer>\n'
            '</body>\n</html>\n' % (esc(CSP), esc(title), CSS.strip(), esc(title), stamp, '\n'.join(body)))
