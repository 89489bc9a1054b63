"""The capacity report in a real browser: headless Chromium loads the HTML file from disk at desktop (1280 px) and
phone (390 px) width, the test reads the rendered page (numbers shown = facts, bars drawn to scale, no horizontal
overflow, nothing fetched, readable contrast) and keeps screenshots and the rendered DOM under tests/output/report/.
"""
import json
import os

import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.report import build, render_html

pytestmark = pytest.mark.integration

WIDTHS = (1280, 390)
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'

GPU_STATE_JS = '''JSON.stringify(Array.from(document.querySelectorAll('[data-host]')).map(function (host) {
  return {host: host.getAttribute('data-host'), failed: host.classList.contains('failed'), text: host.innerText,
    gpus: Array.from(host.querySelectorAll('[data-gpu]')).map(function (gpu) {
      var bar = gpu.querySelector('.bar');
      return {id: gpu.getAttribute('data-gpu'), text: gpu.innerText, bar: bar.getAttribute('aria-label'),
              barWidth: bar.getBoundingClientRect().width,
              segments: Array.from(bar.children).map(function (seg) {
                var style = getComputedStyle(seg);
                return {cls: seg.className, width: seg.getBoundingClientRect().width, text: seg.textContent,
                        color: style.color, background: style.backgroundColor};
              })};
    })};
}))'''

LAYOUT_JS = '''JSON.stringify({
  scrollWidth: document.documentElement.scrollWidth,
  stats: Array.from(document.querySelectorAll('[data-stat]')).reduce(function (out, el) {
    out[el.getAttribute('data-stat')] = el.innerText; return out; }, {}),
  hostLefts: Array.from(document.querySelectorAll('[data-host]')).map(function (el) { return Math.round(el.getBoundingClientRect().left); }),
  widest: Math.max.apply(null, Array.from(document.querySelectorAll('body *')).map(function (el) { return el.getBoundingClientRect().right; })),
  fontSize: parseFloat(getComputedStyle(document.body).fontSize),
  text: document.body.innerText
})'''


def _luminance(rgb):
    channels = [int(v) / 255.0 for v in rgb[rgb.index('(') + 1:rgb.index(')')].split(',')[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(color, background):
    lighter, darker = sorted((_luminance(color), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def render(facts, path):
    model = build(facts)
    with open(path, 'w') as handle:
        handle.write(render_html(model))
    return model


@pytest.mark.parametrize('width', WIDTHS)
def test_lab_report_in_chromium(chromium, lab_facts, artifacts, width):
    path = os.path.join(artifacts, 'lab.html')
    model = render(lab_facts, path)
    requested = chromium.open(path, width)
    assert requested == ['file://' + path]  # nothing fetched but the file itself

    layout = json.loads(chromium.evaluate(LAYOUT_JS))
    assert layout['scrollWidth'] <= width, 'the page scrolls sideways at %d px' % width
    assert layout['widest'] <= width + 0.5
    assert layout['fontSize'] >= 14
    summary = model['summary']
    for key, shown in layout['stats'].items():
        assert int(shown) == summary[key], key
    assert set(layout['stats']) >= {'hosts', 'hosts_failed', 'gpus', 'vgpus', 'gpus_full', 'gpus_empty', 'reboot_pending'}
    if width < 600:
        assert len(set(layout['hostLefts'])) == 1, 'host cards should stack in one column on a phone'
    else:
        assert len(set(layout['hostLefts'])) == 2, 'host cards should sit two abreast at 1280 px'
    assert 'kvm-2 failed to answer: unreachable: Failed to connect to the host via ssh' in layout['text']

    hosts = dict((h['host'], h) for h in json.loads(chromium.evaluate(GPU_STATE_JS)))
    shown = sorted(hosts)
    expected = sorted(h['name'] for s in model['sites'] for h in s['hosts'])
    assert shown == expected
    assert hosts['kvm-2']['failed'] and 'No facts: unreachable' in hosts['kvm-2']['text']
    for site in model['sites']:
        for host in site['hosts']:
            page_gpus = dict((g['id'], g) for g in hosts[host['name']]['gpus'])
            assert sorted(page_gpus) == sorted(g['id'] for g in host['gpus'])
            for gpu in host['gpus']:
                _check_gpu(gpu, page_gpus[gpu['id']])
    chromium.screenshot(os.path.join(artifacts, 'lab-%d.png' % width), width)
    with open(os.path.join(artifacts, 'lab-%d.png' % width), 'rb') as handle:
        assert handle.read(8) == PNG_MAGIC
    with open(os.path.join(artifacts, 'lab-%d.dom.html' % width), 'w') as handle:
        handle.write(chromium.evaluate('document.documentElement.outerHTML'))


def _check_gpu(gpu, page):
    """What the page shows for one GPU is what the model says; bars are drawn to scale; text stays readable."""
    text = ' '.join(page['text'].split())
    if gpu['slots'] and 'unit' not in gpu['slots']:
        assert 'Slots: %d used of %d' % (gpu['slots']['used'], gpu['slots']['total']) in text
    for vtype, count in gpu['used'].items():
        assert '%d × %s' % (count, vtype) in text
    if gpu['full']:
        assert 'Still fits: nothing (full)' in text and 'full' in page['bar']
    assert len(page['segments']) == len(gpu['segments'])
    drawn = sum(s['width'] for s in page['segments'])
    assert abs(drawn - page['barWidth']) <= 2.5  # the segments fill the bar (inside its 1 px border)
    for segment, expected in zip(page['segments'], gpu['segments']):
        assert segment['cls'].split()[1] == expected['kind']
        # each segment's width follows its share of the GPU, within the 2 px minimum and 1 px separators
        assert abs(segment['width'] - expected['share'] * drawn) <= 3.5, (gpu['id'], segment, expected)
        if expected['kind'] == 'used':
            short = expected['type'].split('-', 1)[1]
            assert segment['text'] == short
            assert contrast(segment['color'], segment['background']) >= 4.5


def test_edge_case_reports_in_chromium(chromium, artifacts):
    """Empty inventory and a lab where every source failed: rendered, readable, nothing fetched."""
    cases = {
        'empty': {},
        'all-failed': {'vsphere': {'failed': True, 'msg': 'Cannot connect to vcenter.lab:443: connection refused'},
                       'hosts': {'kvm-1': {'unreachable': True, 'msg': 'ssh: connect to host kvm-1 port 22: No route to host'}},
                       'kubernetes': {'failed': True, 'msg': 'Unauthorized'}},
    }
    for name, facts in sorted(cases.items()):
        path = os.path.join(artifacts, '%s.html' % name)
        model = render(facts, path)
        for width in WIDTHS:
            assert chromium.open(path, width) == ['file://' + path]
            layout = json.loads(chromium.evaluate(LAYOUT_JS))
            assert layout['scrollWidth'] <= width
            assert int(layout['stats']['hosts_failed']) == model['summary']['hosts_failed']
            chromium.screenshot(os.path.join(artifacts, '%s-%d.png' % (name, width)), width)
        if name == 'empty':
            assert 'nothing to show' in layout['text'] and layout['stats']['gpus'] == '0'
        else:
            assert 'vcenter.lab:443' in layout['text'] and 'kvm-1 failed to answer' in layout['text'] and 'Unauthorized' in layout['text']
            assert layout['stats']['hosts_failed'] == '3'
