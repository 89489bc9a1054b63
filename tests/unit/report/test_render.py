"""The capacity report's HTML page and Markdown: self-contained, accessible, deterministic, faithful to the model."""
import re
from html.parser import HTMLParser

import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.report import build, render_html, render_markdown
from ansible_collections.gpuvirt.core.plugins.module_utils.report.html_page import PALETTE, fits_text
from ansible_collections.gpuvirt.core.plugins.module_utils.report.markdown import cell, text_bar

VOID = {'meta', 'br', 'img', 'input', 'link', 'hr', 'source', 'path', 'circle'}


class Page(HTMLParser):
    """Collects tags, checks nesting, and keeps the attributes and text tests look at."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.errors, self.text = [], [], [], []
        self.by_attr = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        for key, value in attrs.items():
            if key.startswith('data-') or key in ('aria-label', 'role', 'id'):
                self.by_attr.setdefault(key, []).append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append('unexpected </%s> with open %s' % (tag, self.stack[-3:]))
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html):
    page = Page()
    page.feed(html)
    page.close()
    assert page.errors == [] and page.stack == [], (page.errors, page.stack)
    return page


@pytest.fixture
def lab_html(lab_facts):
    return render_html(build(lab_facts))


def test_html_is_well_formed_and_self_contained(lab_html):
    page = parse(lab_html)
    names = [t for t, _a in page.tags]
    assert 'script' not in names and 'link' not in names and 'img' not in names and 'iframe' not in names
    assert not re.search(r'https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(', lab_html, re.I)
    assert not any(k.startswith('on') for _t, attrs in page.tags for k in attrs)
    csp = [a['content'] for t, a in page.tags if t == 'meta' and a.get('http-equiv') == 'Content-Security-Policy']
    assert csp and "default-src 'none'" in csp[0] and 'script-src' not in csp[0]
    assert ('html', {'lang': 'en'}) in page.tags
    assert any(t == 'meta' and a.get('name') == 'viewport' for t, a in page.tags)
    ids = page.by_attr['id']
    assert len(ids) == len(set(ids))
    targets = [a['href'][1:] for t, a in page.tags if t == 'a' and a.get('href', '').startswith('#')]
    assert targets and set(targets) <= set(ids)


def test_every_bar_has_a_text_alternative_and_text_next_to_it(lab_facts, lab_html):
    model = build(lab_facts)
    page = parse(lab_html)
    gpus = [g for s in model['sites'] for h in s['hosts'] for g in h['gpus']]
    bars = [a for t, a in page.tags if 'bar' == a.get('class')]
    assert len(bars) == len(gpus) == 12
    assert all(a.get('role') == 'img' and a.get('aria-label') for a in bars)
    labels = page.by_attr['aria-label']
    assert 'A10 0000:5e:00.0: 3 of 6 slots used; 3 × A10-4Q; free capacity left' in labels
    assert 'L40S 0000:86:00.0: 1 of 1 slots used; 1 × L40S-48Q; full' in labels
    assert 'A100 0000:17:00.0: 6 of 8 memory slices used; 1 × A100-2-10C, 1 × A100-3-20C; free capacity left' in labels
    text = ' '.join(' '.join(page.text).split())
    # colours never carry meaning alone: each vGPU type used is written in the legend and in the GPU's facts
    for vtype in model['summary']['vgpus_by_type']:
        assert text.count(vtype) >= 3
    assert 'Still fits: 3 × 4 GB (A10-4A, A10-4C, A10-4Q)' in text


def test_summary_numbers_match_the_model(lab_facts, lab_html):
    summary = build(lab_facts)['summary']
    shown = dict(re.findall(r'data-stat="([a-z_]+)">(\d+)<', lab_html))
    for key in ('hosts', 'hosts_failed', 'gpus', 'gpus_vgpu', 'vgpus', 'gpus_full', 'gpus_empty', 'gpus_passthrough', 'reboot_pending',
                'kubernetes_nodes'):
        assert int(shown[key]) == summary[key], key


def test_failed_host_is_shown(lab_html):
    text = ' '.join(' '.join(parse(lab_html).text).split())
    assert 'kvm-2 failed to answer: unreachable: Failed to connect to the host via ssh' in text
    assert 'No facts: unreachable: Failed to connect to the host via ssh: ssh: connect to host kvm-2 port 22: Connection refused' in text
    assert re.search(r'<article class="host failed" id="host-kvm-kvm-hosts-kvm-2"', lab_html)
    assert '<a href="#host-kvm-kvm-hosts-kvm-2">kvm-2</a> failed to answer' in lab_html


def test_hostile_names_are_escaped():
    facts = {'hosts': {'<script>alert(1)</script>': {'failed': True, 'msg': '"><img src=x onerror=alert(1)>'},
                       'ok|host': {'gpus': []}},
             'kubernetes': {'nodes': [{'name': 'n&1', 'gpu_present': True, 'capacity': {'nvidia.com/<b>': 1}, 'allocatable': {}}]}}
    html = render_html(build(facts), title='Lab <i>x</i>')
    page = parse(html)
    assert 'script' not in [t for t, _a in page.tags] and 'img' not in [t for t, _a in page.tags] and 'b' not in [t for t, _a in page.tags]
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in html and '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;' in html
    assert '<title>Lab &lt;i&gt;x&lt;/i&gt;</title>' in html
    markdown = render_markdown(build(facts))
    assert '### ok\\|host' in markdown


def test_rendering_is_deterministic_and_the_timestamp_optional(lab_facts):
    first, second = render_html(build(lab_facts)), render_html(build(lab_facts))
    assert first == second
    assert 'Generated' not in first
    stamped = render_html(build(lab_facts), timestamp='2026-11-22 05:00 UTC')
    assert '<p class="muted">Generated 2026-11-22 05:00 UTC</p>' in stamped
    assert render_markdown(build(lab_facts)) == render_markdown(build(lab_facts))
    assert 'Generated 2026-11-22' in render_markdown(build(lab_facts), timestamp='2026-11-22 05:00 UTC')


def _luminance(colour):
    channels = [int(colour[i:i + 2], 16) / 255.0 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize('background, text', PALETTE)
def test_segment_text_contrast_meets_wcag_aa(background, text):
    lighter, darker = sorted((_luminance(background), _luminance(text)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5


def test_empty_inventory_renders():
    html = render_html(build({}))
    parse(html)
    assert 'The inventory holds no vSphere, KVM host or Kubernetes facts: nothing to show.' in html
    assert re.findall(r'data-stat="gpus">(\d+)<', html) == ['0']
    assert 'The inventory holds no vSphere' in render_markdown(build({}))


def test_markdown_lab(lab_facts):
    markdown = render_markdown(build(lab_facts))
    assert markdown.startswith('# GPU capacity report\n')
    assert '| vGPUs | 13 |' in markdown and '| hosts or sites failed to answer | 1 |' in markdown
    assert '| A10-4Q | 6 | 16 |' in markdown
    assert '### kvm-2 — **FAILED to answer**: unreachable: Failed to connect to the host via ssh' in markdown
    assert ('- `0000:5e:00.0` A10 (vGPU) — `[###...]` — 3 of 6 slots used — vGPUs: 3 × A10-4Q — still fits: 3 × 4 GB (A10-4A, A10-4C, A10-4Q)'
            in markdown)
    assert '- `0000:86:00.0` L40S (vGPU) — `[#]` — 1 of 1 slots used — vGPUs: 1 × L40S-48Q — **full**' in markdown
    assert '| nvidia.com/NVIDIA_A10-4Q | 12 | 12 | **no** |' in markdown
    # every table row has as many cells as its header
    for block in re.findall(r'(?:^\|.*\|\n)+', markdown, re.M):
        rows = [re.split(r'(?<!\\)\|', row)[1:-1] for row in block.strip().split('\n')]
        assert len(set(len(r) for r in rows)) == 1, block


def test_text_bar_and_cells():
    gpu = {'slots': {'used': 2, 'total': 8}, 'segments': [{'kind': 'used', 'share': .125}] * 2 + [{'kind': 'free', 'share': .125}] * 6}
    assert text_bar(gpu) == '[##......]'
    gpu = {'slots': None, 'segments': [{'kind': 'used', 'share': .5}, {'kind': 'free', 'share': .25}, {'kind': 'spare', 'share': .25}]}
    assert text_bar(gpu) == '[' + '#' * 12 + '.' * 6 + 'x' * 6 + ']'
    assert cell('a|b\nc`d') == 'a\\|b c\'d'
    assert fits_text({'A10-4Q': 3, 'A10-4C': 3, 'A10-12Q': 1}) == '3 × 4 GB (A10-4C, A10-4Q); 1 × 12 GB (A10-12Q)'
    assert fits_text({'A100-1-5C': 2}) == '2 × 5 GB, 1 slice (A100-1-5C)'


def test_same_host_name_in_two_sites_keeps_ids_unique():
    host = {'name': 'esx-1', 'graphics': {'default_type': 'sharedDirect', 'assignment_policy': 'performance'}, 'gpus': [], 'vgpu_profiles': []}
    facts = {'vsphere': [{'site': 'vCenter A', 'hosts': [host], 'vms': []}, {'site': 'vCenter B', 'hosts': [host], 'vms': []},
                         {'failed': True, 'msg': 'timed out'}]}
    model = build(facts)
    assert [s['name'] for s in model['sites']] == ['vCenter A', 'vCenter B', 'vSphere 3']
    page = parse(render_html(model))
    ids = page.by_attr['id']
    assert 'host-vsphere-vcenter-a-esx-1' in ids and 'host-vsphere-vcenter-b-esx-1' in ids
    assert len(ids) == len(set(ids))
