"""The vgpu_profile, vgpu_max_instances and vgpu_fits filters (stable interface in the design document), and their docs."""
import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gpuvirt.core.plugins.filter.vgpu import FilterModule, vgpu_fits, vgpu_max_instances, vgpu_profile

FILTER_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'plugins', 'filter')
DESIGN_KEYS = {'canonical', 'gpu', 'framebuffer_mib', 'series', 'mig', 'max_instances'}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {'vgpu_profile', 'vgpu_max_instances', 'vgpu_fits'}
    assert FilterModule().filters()['vgpu_profile'] is vgpu_profile


@pytest.mark.parametrize('spelling,canonical,gpu,mib,series,mig,count', [
    ('NVIDIA A10-4Q', 'A10-4Q', 'A10', 4096, 'Q', False, 6),
    ('GRID T4-1Q', 'T4-1Q', 'T4', 1024, 'Q', False, 16),
    ('A10-4Q', 'A10-4Q', 'A10', 4096, 'Q', False, 6),
    ('grid_v100d-4c', 'V100D-4C', 'V100D', 4096, 'C', False, 8),
    ('nvidia.com/NVIDIA_A10-4Q', 'A10-4Q', 'A10', 4096, 'Q', False, 6),
    ('A100-3-20C', 'A100-3-20C', 'A100', 20480, 'C', True, 2),
    ('grid_l40s-1q', 'L40S-1Q', 'L40S', 1024, 'Q', False, 32),
])
def test_vgpu_profile_design_examples(spelling, canonical, gpu, mib, series, mig, count):
    result = vgpu_profile(spelling)
    assert DESIGN_KEYS | {'names', 'slices', 'suffix'} == set(result)
    assert (result['canonical'], result['gpu'], result['framebuffer_mib'], result['series'], result['mig'], result['max_instances']) == \
        (canonical, gpu, mib, series, mig, count)
    assert result['names']['short'] == canonical
    json.dumps(result)  # plain data, safe to register and template


def test_vgpu_profile_names_and_slices():
    result = vgpu_profile('grid_a100-3-20c')
    assert result['slices'] == 3
    assert result['names']['kubevirt'] == 'NVIDIA_A100-3-20C'
    assert vgpu_profile('GRID T4-1Q')['names']['kubernetes'] == 'nvidia.com/GRID_T4-1Q'


@pytest.mark.parametrize('bad', ['A10-4X', 'A10-', '-4Q', 'A10-4', '', None, 'A10-4Q-', 'A11-4Q', 'A100-4Q', 'nvidia-558'])
def test_vgpu_profile_error_names_the_input(bad):
    with pytest.raises(AnsibleFilterError) as err:
        vgpu_profile(bad)
    assert repr(bad) in str(err.value)
    assert str(err.value).startswith('vgpu_profile: ')


def test_vgpu_max_instances():
    assert vgpu_max_instances('NVIDIA A10-4Q') == 6
    assert vgpu_max_instances('L40S-1Q') == 32
    assert vgpu_max_instances('A10-4Q', 'A10') == 6
    assert vgpu_max_instances('A10-4Q', '26b9') == 0           # L40S by PCI id
    assert vgpu_max_instances('A10-4Q', 8758) == 6
    assert vgpu_max_instances('H200-4C') == 32


@pytest.mark.parametrize('spelling,gpu,named', [
    ('A10-4X', None, "'A10-4X'"), ('A10-4Q', 'Z9', "'Z9'"), ('A10-4Q', '25b6', "'25b6'"), (None, None, 'got None'),
])
def test_vgpu_max_instances_error_names_the_input(spelling, gpu, named):
    with pytest.raises(AnsibleFilterError) as err:
        vgpu_max_instances(spelling, gpu)
    assert named in str(err.value)


def test_vgpu_fits_ok_with_remaining():
    result = vgpu_fits('A10', existing=['A10-8Q', 'A10-8Q'])
    assert result == {'ok': True, 'reasons': [], 'gpu': 'A10', 'counts': {'A10-8Q': 2},
                      'remaining': {'A10-8Q': 1, 'A10-8A': 1, 'A10-8C': 1}}
    assert vgpu_fits('A10', {'A10-4Q': 6})['remaining'] == {}
    assert vgpu_fits('A10', [['A10-4Q', 2]], ['NVIDIA A10-4Q'])['counts'] == {'A10-4Q': 3}


def test_vgpu_fits_reasons():
    result = vgpu_fits('A100', ['A100-4C', 'A100-3-20C'])
    assert not result['ok']
    assert result['remaining'] == {}
    assert result['reasons'] == ['time-sliced (A100-4C x1) and MIG-backed (A100-3-20C x1) vGPUs cannot share one A100']
    assert vgpu_fits('A10', ['A10-4Q', 'A10-8Q'], mixed_size=True)['ok']


@pytest.mark.parametrize('gpu,vgpus,named', [('A10', ['A10-4X'], 'A10-4X'), ('Z9', [], 'Z9'), ('A10', {'A10-4Q': 'many'}, 'many')])
def test_vgpu_fits_error_names_the_input(gpu, vgpus, named):
    with pytest.raises(AnsibleFilterError) as err:
        vgpu_fits(gpu, vgpus)
    assert repr(named) in str(err.value)
    assert str(err.value).startswith('vgpu_fits: ')


# ---- documentation ------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['vgpu_profile', 'vgpu_max_instances', 'vgpu_fits'])
def test_filter_doc_files(name):
    with open(os.path.join(FILTER_DIR, name + '.yml')) as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {'DOCUMENTATION', 'EXAMPLES', 'RETURN'}
    assert doc['DOCUMENTATION']['name'] == name
    assert '_input' in doc['DOCUMENTATION']['options']
    assert 'gpuvirt.core.' + name in doc['EXAMPLES']


def test_vgpu_profile_doc_returns_what_the_filter_returns():
    with open(os.path.join(FILTER_DIR, 'vgpu_profile.yml')) as handle:
        documented = yaml.safe_load(handle)['RETURN']['_value']['contains']
    result = vgpu_profile('A10-4Q')
    assert set(documented) == set(result)
    assert set(documented['names']['contains']) == set(result['names'])


def test_ansible_doc_renders_the_filters():
    """ansible-doc resolves the filters through the collection path and parses their docs."""
    ansible_doc = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    names = ['gpuvirt.core.vgpu_profile', 'gpuvirt.core.vgpu_max_instances', 'gpuvirt.core.vgpu_fits']
    out = subprocess.run([ansible_doc, '-t', 'filter', '--json'] + names, capture_output=True, text=True, check=True,
                         env=dict(os.environ, ANSIBLE_NOCOLOR='1'), timeout=120)
    docs = json.loads(out.stdout)
    assert set(docs) == set(names)
    for name in names:
        assert docs[name]['doc']['name'] == name.rsplit('.', 1)[1]
        assert docs[name]['return']
