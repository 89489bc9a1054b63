"""The documentation site (`make docs`, scripts/docs-site.sh): antsibull-docs and Sphinx render a page for every
module, plugin and role with warnings as errors, every link of the guides (docs/*.md) into the site resolves, and a
module page opened in headless Chromium shows its options table with every option ansible-doc knows."""
import json
import os
import re
import subprocess
import sys

import pytest

from tests.integration.report.conftest import Chromium

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SITE_LINK = re.compile(r'\]\(\.\./\.build/docs-site/html/([^)#]+)\)')
OPTIONS_JS = '''JSON.stringify(Array.from(document.querySelectorAll('#parameters table.ansible-option-table')).map(function (table) {
  var box = table.getBoundingClientRect();
  return {width: box.width, height: box.height,
          options: Array.from(table.querySelectorAll('.ansibleOptionAnchor')).map(function (a) { return a.id; }),
          text: table.innerText};
}))'''


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """The site built into a directory of the test's own (GPUVIRT_DOCS_SITE), as `make docs` builds .build/docs-site."""
    where = tmp_path_factory.mktemp('docs-site')
    env = dict(os.environ, GPUVIRT_DOCS_SITE=str(where / 'site'), PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    done = subprocess.run(['bash', os.path.join(REPO, 'scripts', 'docs-site.sh')], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return where / 'site' / 'html'


def documented(folder, suffix):
    names = sorted(n[:-3] for n in os.listdir(os.path.join(REPO, 'plugins', folder)) if n.endswith('.py') and n != '__init__.py')
    return ['%s_%s.html' % (n, suffix) for n in names]


def test_every_module_plugin_and_role_has_a_page_and_the_guides_link_into_the_site(site):
    pages = documented('modules', 'module') + documented('inventory', 'inventory')
    pages += ['%s_filter.html' % n[:-4] for n in os.listdir(os.path.join(REPO, 'plugins', 'filter')) if n.endswith('.yml')]
    pages += ['%s_role.html' % n for n in os.listdir(os.path.join(REPO, 'roles'))]
    missing = [p for p in pages if not (site / p).is_file()]
    assert not missing, missing
    index = (site / 'index.html').read_text()
    assert all(p in index for p in pages), 'the collection index does not list every page'

    linked = {}
    for guide in sorted(os.listdir(os.path.join(REPO, 'docs'))):
        if guide.endswith('.md'):
            with open(os.path.join(REPO, 'docs', guide)) as handle:
                linked[guide] = SITE_LINK.findall(handle.read())
    broken = [(g, p) for g, targets in linked.items() for p in targets if not (site / p).is_file()]
    assert not broken, broken
    assert set(p for targets in linked.values() for p in targets) >= set(documented('inventory', 'inventory'))
    assert [g for g in linked if not linked[g]] == ['developing.md', 'references.md']  # the contributor docs


def test_module_page_in_chromium_shows_its_options_table(site, tmp_path):
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-doc'), '--json', 'gpuvirt.core.host_vgpu'], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=True)
    documentation = json.loads(done.stdout)['gpuvirt.core.host_vgpu']['doc']  # with its doc fragments
    browser = Chromium(str(tmp_path))
    try:
        page = str(site / 'host_vgpu_module.html')
        requested = browser.open(page, 1280)
        assert requested[0] == 'file://' + page and all(u.startswith('file://' + str(site)) for u in requested)  # nothing from outside
        tables = json.loads(browser.evaluate(OPTIONS_JS))
        title = browser.evaluate('document.title')
    finally:
        browser.close()
    assert 'gpuvirt.core.host_vgpu' in title
    assert len(tables) == 1 and tables[0]['width'] > 600 and tables[0]['height'] > 200, tables
    shown = set(a[len('parameter-'):] for a in tables[0]['options'] if a.startswith('parameter-') and '/' not in a)
    assert shown == set(documentation['options']), shown ^ set(documentation['options'])
    assert 'vgpu_type' in tables[0]['text'] and 'Choices:' in tables[0]['text']
