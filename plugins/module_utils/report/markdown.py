# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity report as Markdown, for chat and tickets: the same facts as the HTML page, as text.

Each GPU's bar is drawn with characters (one per slot, or per eighth of the GPU): ``#`` used, ``.`` free,
``x`` not allocatable, ``P`` passthrough, ``?`` unknown. Pure, Python 3.8+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.report.html_page import KIND_TEXT, STATE_TEXT, fits_text, used_text
from ansible_collections.gpuvirt.core.plugins.module_utils.report.common import PASSTHROUGH, VGPU

BAR_CELLS = {'used': '#', 'free': '.', 'spare': 'x', 'passthrough': 'P', 'blocked': '?'}
BAR_WIDTH = 24


def cell(text):
    """Text safe inside a Markdown table cell or list item."""
    text = '' if text is None else str(text)
    return text.replace('\\', '\\\\').replace('|', '\\|').replace('\n', ' ').replace('`', "'")


def text_bar(gpu):
    """``[###...xx]``: slots when the GPU has equal-size slots, else BAR_WIDTH cells by share."""
    if gpu['slots'] and not gpu['slots'].get('unit') and gpu['slots']['total'] <= 32:
        used, total = gpu['slots']['used'], gpu['slots']['total']
        spare = [s for s in gpu['segments'] if s['kind'] == 'spare']
        return '[' + '#' * used + '.' * (total - used) + ('x' if spare else '') + ']'
    cells = []
    carry = 0.0
    for seg in gpu['segments']:
        carry += seg['share'] * BAR_WIDTH
        count = int(round(carry)) - len(cells)
        cells.extend(BAR_CELLS[seg['kind']] * max(count, 0))
    return '[' + ''.join(cells[:BAR_WIDTH]) + ']'


def _gpu_line(gpu):
    head = '`%s` %s (%s)' % (cell(gpu['id']), cell(gpu['model'] or gpu['description']), STATE_TEXT[gpu['state']])
    bits = [head, text_bar(gpu).replace('[', '`[', 1) + '`']
    if gpu['state'] == VGPU:
        if gpu['slots'] and not gpu['slots'].get('unit'):
            bits.append('%d of %d slots used' % (gpu['slots']['used'], gpu['slots']['total']))
        elif gpu['slots']:
            bits.append('%d of %d %s used' % (gpu['slots']['used'], gpu['slots']['total'], gpu['slots']['unit']))
        bits.append('vGPUs: %s' % (cell(used_text(gpu['used'])) or 'none'))
        if gpu['capacity_known']:
            bits.append('**full**' if gpu['full'] else 'still fits: %s' % cell(fits_text(gpu['fits'])))
    elif gpu['state'] == PASSTHROUGH:
        bits.append(cell(gpu['segments'][0]['label']))
    flags = []
    if gpu['mig']:
        flags.append('MIG-backed')
    if gpu['mixed_size']:
        flags.append('mixed-size mode')
    if gpu['reboot_pending']:
        flags.append('**reboot pending**')
    lines = ['- ' + ' — '.join(bits + flags)]
    lines.extend('  - %s' % cell(note) for note in gpu['notes'])
    return lines


def _host(host):
    flags = []
    if host['error']:
        flags.append('**FAILED to answer**: %s' % cell(host['error']))
    if host['reboot_pending']:
        flags.append('**reboot pending**')
    if host.get('licence'):
        flags.append('**not licensed**' if host['licence'].startswith('not licensed') else 'licensed')
    lines = ['### %s%s' % (cell(host['name']), (' — ' + '; '.join(flags)) if flags else ''), '']
    graphics = host.get('graphics') or {}
    if graphics.get('default_type') or graphics.get('assignment_policy'):
        lines += ['Host graphics: %s, assignment policy %s' % (cell(graphics.get('default_type') or '?'), cell(graphics.get('assignment_policy') or '?')), '']
    if host['kind'] == 'kubernetes':
        lines += _node(host)
    elif not host['error'] and not host['gpus']:
        lines += ['No NVIDIA GPUs found.', '']
    for gpu in host['gpus']:
        lines += _gpu_line(gpu)
    extra = ['- %s wants %s: no GPU on this host can hold it' % (cell(i['vm']), cell(i['profile'])) for i in host['unplaced']]
    for item in host['powered_off']:
        what = ', '.join(item['vgpu_profiles']) or '%d passthrough device(s)' % item['passthrough_devices']
        extra.append('- %s (powered off) is configured with %s' % (cell(item['vm']), cell(what)))
    extra += ['- %s' % cell(n) for n in host['notes']]
    if host['gpus'] or extra:
        lines += extra + ['']
    return lines


def _node(node):
    lines = []
    facts = []
    if node.get('product'):
        facts.append('%s%s' % ('%d × ' % node['gpu_count'] if node.get('gpu_count') else '', cell(node['product'])))
    if node.get('workload'):
        facts.append('workload %s' % cell(node['workload']))
    if node.get('vgpu_config') or node.get('vgpu_config_state'):
        facts.append('vGPU config %s: %s' % (cell(node.get('vgpu_config') or '(default)'), cell(node.get('vgpu_config_state') or 'no state')))
    if facts:
        lines += ['; '.join(facts), '']
    if node['resources']:
        lines += ['| resource | allocatable | capacity | KubeVirt permits |', '|---|---:|---:|---|']
        for res in node['resources']:
            permitted = 'n/a (containers)' if res.get('container') else {None: 'not known', True: 'yes', False: '**no**'}[res['permitted']]
            lines.append('| %s | %d | %d | %s |' % (cell(res['name']), res['allocatable'], res['capacity'], permitted))
        lines.append('')
    return lines


def render(model, title='GPU capacity report', timestamp=None):
    """The report model -> Markdown (str)."""
    s = model['summary']
    lines = ['# %s' % cell(title), '']
    if timestamp:
        lines += ['Generated %s' % cell(timestamp), '']
    lines += ['## Summary', '',
              '| | |', '|---|---:|',
              '| hosts and nodes | %d |' % s['hosts'],
              '| hosts or sites failed to answer | %d |' % s['hosts_failed'],
              '| GPUs | %d |' % s['gpus'],
              '| GPUs offering vGPUs | %d |' % s['gpus_vgpu'],
              '| vGPUs | %d |' % s['vgpus'],
              '| full GPUs | %d |' % s['gpus_full'],
              '| empty GPUs | %d |' % s['gpus_empty'],
              '| passthrough GPUs | %d |' % s['gpus_passthrough'],
              '| reboot pending | %d |' % s['reboot_pending'], '']
    if s['vgpus_by_type']:
        lines += ['| vGPU type | in use | still fits (this type alone) |', '|---|---:|---:|']
        lines += ['| %s | %d | %d |' % (cell(t), n, s['free_by_type'].get(t, 0)) for t, n in s['vgpus_by_type'].items()]
        lines.append('')
    if s['empty_by_model']:
        lines += ['Empty GPUs: %s' % ', '.join('%d × %s' % (n, cell(m)) for m, n in s['empty_by_model'].items()), '']
    if s['kubernetes_resources']:
        lines += ['| Kubernetes resource | allocatable | capacity |', '|---|---:|---:|']
        lines += ['| %s | %d | %d |' % (cell(r), v['allocatable'], v['capacity']) for r, v in s['kubernetes_resources'].items()]
        lines.append('')
    if not model['sites']:
        lines += ['The inventory holds no vSphere, KVM host or Kubernetes facts: nothing to show.', '']
    else:
        lines += ['Bars: `#` vGPU, `.` free, `x` not allocatable, `P` passthrough, `?` unknown or not ready.', '']
    for site in model['sites']:
        kind = '' if site['name'] == KIND_TEXT[site['kind']] else ' (%s)' % KIND_TEXT[site['kind']]
        lines += ['## %s%s' % (cell(site['name']), kind), '']
        if site['error']:
            lines += ['**FAILED to answer**: %s' % cell(site['error']), '']
        if site.get('licence'):
            lines += ['Guest licensing: %s' % cell(site['licence']), '']
        if site.get('nodes_without_gpus'):
            lines += ['Nodes without GPUs: %s' % cell(', '.join(site['nodes_without_gpus'])), '']
        for note in site.get('notes') or []:
            lines += [cell(note), '']
        for host in site['hosts']:
            lines += _host(host)
    while lines and lines[-1] == '':
        lines.pop()
    return '\n'.join(lines) + '\n'
