"""Every type name of NVIDIA's default vGPU configuration through the filters (issue 15).

The GPU Operator's default vGPU device configuration is vgpu-device-manager's examples/config-example.yaml
([S4]): one label per type name, ``{devices: all, vgpu-devices: {<name>: <max per GPU>}}``, 710 names, plus a
``default`` label choosing one type per PCI device-filter. This test does not carry NVIDIA's file: DEFAULT_CONFIG
below is the project's own record of its facts (type names and counts, read from [S4] acb72704 and written in the
reference's ``1Q16 1-5CME1`` notation, grouped where GPUs share a table), from which the test writes a file of the
same form, reads it back like vgpu-device-manager would, and runs every name through vgpu_profile,
vgpu_max_instances and vgpu_fits. The counts are NOT taken from the catalog: a wrong row on either side fails.
"""
import re

import pytest
import yaml

from ansible_collections.gpuvirt.core.plugins.filter.vgpu import vgpu_fits, vgpu_max_instances, vgpu_profile
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import all_gpu_models, gpu_model, gpu_models, parse

_Q16C16 = '1Q16 2Q8 4Q4 8Q2 16Q1 4C4 8C2 16C1'
_Q24C24 = '1Q24 2Q12 3Q8 4Q6 6Q4 8Q3 12Q2 24Q1 4C6 6C4 8C3 12C2 24C1'
_Q32C32 = '1Q32 2Q16 4Q8 8Q4 16Q2 32Q1 4C8 8C4 16C2 32C1'
_Q48 = '1Q32 2Q24 3Q16 4Q12 6Q8 8Q6 12Q4 16Q3 24Q2 48Q1'
_C48 = '4C12 6C8 8C6 12C4 16C3 24C2 48C1'
_A100_40 = '4C10 5C8 8C5 10C4 20C2 40C1 1-5C7 1-5CME1 1-10C4 2-10C3 3-20C2 4-20C1 7-40C1'
_A100_80 = '4C20 8C10 10C8 16C5 20C4 40C2 80C1 1-10C7 1-10CME1 1-20C4 2-20C3 3-40C2 4-40C1 7-80C1'
_H100_80 = '4C20 5C16 8C10 10C8 16C5 20C4 40C2 80C1 1-10C7 1-10CME1 1-20C4 2-20C3 3-40C2 4-40C1 7-80C1'
_H100_94 = '4C23 6C15 11C8 15C6 23C4 47C2 94C1 1-12C7 1-12CME1 1-24C4 2-24C3 3-47C2 4-47C1 7-94C1'
_H200 = '4C32 7C20 8C16 14C10 17C8 28C5 35C4 70C2 141C1 1-18C7 1-18CME1 1-35C4 2-35C3 3-71C2 4-71C1 7-141C1'
# RTX PRO 6000 Blackwell SE names; the six marked 4500 are the RTX PRO 4500's (the 6000 does not offer them).
_DC_MIG = ('1-2Q48 1-3Q32 1-4Q24 1-6Q16 1-8Q12 1-12Q8 1-24Q4 2-12Q8 2-16Q6 2-24Q4 2-48Q2 4-24Q4 4-32Q3 4-48Q2 4-96Q1 '
           '1-8C12 1-12C8 1-24C4 2-12C8 2-16C6 2-24C4 2-48C2 4-24C4 4-32C3 4-48C2 4-96C1')
_DC = ('3Q32 4Q24 6Q16 8Q12 12Q8 16Q6 24Q4 32Q3 48Q2 96Q1 8C12 12C8 16C6 24C4 32C3 48C2 96C1 ' + _DC_MIG + ' '
       + re.sub(r'([QC])(\d+)\b', r'\1GFX\2', _DC_MIG) + ' 1-16C2 1-16Q2 2-8C4 2-8Q4 2-32C1 2-32Q1')

DEFAULT_CONFIG = {
    ('A2', 'A16', 'T4', 'V100', 'V100X', 'V100L'): _Q16C16,
    ('A10', 'L4', 'L2', 'RTXA5000', 'RTXA5500', 'RTX6000P'): _Q24C24,
    ('A40', 'L40', 'L40S', 'L20', 'RTX6000-Ada', 'RTX5880-Ada', 'RTXA6000'): _Q48 + ' ' + _C48,
    ('RTX8000P',): _Q48 + ' 4C8 6C8 8C6 12C4 16C3 24C2 48C1',
    ('V100D', 'V100DX', 'V100S', 'RTX5000-Ada'): _Q32C32,
    ('A30',): '4C6 6C4 8C3 12C2 24C1 1-6C4 1-6CME1 2-12C2 2-12CME1 4-24C1',
    ('A100', 'A100X', 'A800'): _A100_40,
    ('A100D', 'A100DX', 'A800D', 'A800DX'): _A100_80,
    ('H100', 'H100XM', 'H800', 'H800XM'): _H100_80,
    ('H100L', 'H100XL', 'H800L'): _H100_94,
    ('H100XS',): '4C16 8C8 16C4 32C2 64C1 1-8C7 1-8CME1 1-16C4 2-16C3 3-32C2 4-32C1 7-64C1',
    ('H20',): '4C24 6C16 8C12 12C8 16C6 24C4 32C3 48C2 96C1 1-12C7 1-12CME1 1-24C4 2-24C3 3-48C2 4-48C1 7-96C1',
    ('H200', 'H200X', 'H20X'): _H200,
    ('GH200',): '96C1 1-12C7 1-12CME1 1-24C4 2-24C3 3-48C2 4-48C1 7-96C1',
    ('GH200L',): '144C1 1-18C7 1-18CME1 1-36C4 2-36C3 3-72C2 4-72C1 7-144C1',
    ('B200X',): '180C1 1-23C7 1-23CME1 1-45C4 2-45C3 3-90C2 4-90C1 7-180C1',
    ('B300X',): '269C1 1-34C7 1-34CME1 1-67C4 2-67C3 3-135C2 4-135C1 7-269C1',
    ('GB200',): '189C1 1-24C7 1-24CME1 1-47C4 2-47C3 3-95C2 4-95C1 7-189C1',
    ('DC',): _DC,
    ('6000D',): '84Q1 84C1 1-42Q2 1-42QGFX2 2-84Q1 2-84QGFX1 1-42C2 1-42CGFX2 2-84C1 2-84CGFX1',
}
# The default label: device-filter -> the type chosen for it, and the subsystem id where two boards share the id.
DEFAULT_LABEL = [
    ('0x1DB110DE', 'V100X-8Q', 2), ('0x1DB310DE', 'V100L-8Q', 2), ('0x1DB410DE', 'V100-8Q', 2), ('0x1DB510DE', 'V100DX-16Q', 2),
    ('0x1DB610DE', 'V100D-16Q', 2), ('0x1DF610DE', 'V100S-16Q', 2), ('0x1E7810DE:13d8', 'RTX8000P-24Q', 2),
    ('0x1E7810DE:13d9', 'RTX6000P-12Q', 2), ('0x1EB810DE', 'T4-8Q', 2), ('0x20B010DE', 'A100X-20C', 2), ('0x20B210DE', 'A100DX-40C', 2),
    ('0x20B510DE', 'A100D-40C', 2), ('0x20B810DE', 'A100D-40C', 2), ('0x20B710DE', 'A30-12C', 2), ('0x20B910DE', 'A30-12C', 2),
    ('0x20F110DE', 'A100-20C', 2), ('0x20F310DE', 'A800DX-40C', 2), ('0x20F510DE', 'A800D-40C', 2), ('0x20FD10DE', 'A800D-40C', 2),
    ('0x20F610DE', 'A800-20C', 2), ('0x223010DE', 'RTXA6000-24Q', 2), ('0x223110DE', 'RTXA5000-12Q', 2), ('0x223310DE', 'RTXA5500-12Q', 2),
    ('0x223510DE', 'A40-24Q', 2), ('0x223610DE', 'A10-12Q', 2), ('0x232110DE', 'H100L-47C', 2), ('0x232210DE', 'H800-40C', 2),
    ('0x232410DE', 'H800XM-40C', 2), ('0x232910DE', 'H20-48C', 2), ('0x232C10DE', 'H20X-70C', 2), ('0x233010DE', 'H100XM-40C', 2),
    ('0x233610DE', 'H100XM-40C', 2), ('0x233110DE', 'H100-40C', 2), ('0x233510DE', 'H200X-70C', 2), ('0x233710DE', 'H100XS-32C', 2),
    ('0x233910DE', 'H100XL-47C', 2), ('0x233A10DE', 'H800L-47C', 2), ('0x233B10DE', 'H200-70C', 2), ('0x234210DE', 'GH200-96C', 1),
    ('0x234810DE', 'GH200L-144C', 1), ('0x25B610DE:14a9', 'A16-8Q', 2), ('0x25B610DE:157e', 'A2-8Q', 2),
    ('0x26B110DE', 'RTX6000-Ada-24Q', 2), ('0x26B210DE', 'RTX5000-Ada-16Q', 2), ('0x26B310DE', 'RTX5880-Ada-24Q', 2),
    ('0x26B510DE', 'L40-24Q', 2), ('0x26B910DE', 'L40S-24Q', 2), ('0x26BA10DE', 'L20-24Q', 2), ('0x27B610DE', 'L2-12Q', 2),
    ('0x27B810DE', 'L4-12Q', 2), ('0x290110DE', 'B200X-180C', 1), ('0x294110DE', 'GB200-189C', 1), ('0x2BB510DE', 'DC-48Q', 2),
    ('0x2BB910DE', '6000D-84Q', 1), ('0x2C3A10DE', 'DC-16Q', 2), ('0x318210DE', 'B300X-269C', 1),
]
_ENTRY = re.compile(r'^(?:(\d)-)?(\d+)([QCBA])(ME|GFX)?(\d+)$')


def default_names():
    """{type name: max per GPU} from DEFAULT_CONFIG."""
    result = {}
    for gpus, text in DEFAULT_CONFIG.items():
        for gpu in gpus:
            for entry in text.split():
                slices, gb, series, suffix, count = _ENTRY.match(entry).groups()
                result['%s-%s%s%s%s' % (gpu, (slices + '-') if slices else '', gb, series, suffix or '')] = int(count)
    return result


@pytest.fixture(name='config_file')
def fixture_config_file(tmp_path):
    """A vgpu-device-manager configuration of the same form as NVIDIA's default, written from the facts above."""
    configs = dict((name, [{'devices': 'all', 'vgpu-devices': {name: count}}]) for name, count in default_names().items())
    configs['default'] = [{'device-filter': device.split(':')[0], 'devices': 'all', 'vgpu-devices': {name: count}}
                          for device, name, count in DEFAULT_LABEL]
    path = tmp_path / 'config.yaml'
    path.write_text(yaml.safe_dump({'version': 'v1', 'vgpu-configs': configs}, sort_keys=False))
    return path


def read_config(path):
    """(name -> count of every label but default, the default label's entries), as vgpu-device-manager reads the file."""
    with open(str(path)) as handle:
        data = yaml.safe_load(handle)
    assert data['version'] == 'v1'
    names = {}
    for label, entries in data['vgpu-configs'].items():
        if label != 'default':
            for entry in entries:
                assert entry['devices'] == 'all'
                names.update(entry['vgpu-devices'])
    return names, data['vgpu-configs']['default']


def test_the_fixture_has_all_710_names(config_file):
    names, default = read_config(config_file)
    assert len(names) == 710
    assert len(default) == len(DEFAULT_LABEL) == 56
    tokens = [gpu for gpus in DEFAULT_CONFIG for gpu in gpus]
    assert len(tokens) == len(set(tokens)) == 51
    # every catalog GPU but the M60 (no longer in NVIDIA's default configuration); DC stands for two boards
    assert set(tokens) | {'M60'} == {m.token for m in all_gpu_models()}


def test_every_name_parses_and_counts_match(config_file):
    names, _default = read_config(config_file)
    wrong = []
    for name, count in sorted(names.items()):
        profile = vgpu_profile(name)
        if (profile['canonical'].upper(), profile['max_instances'], vgpu_max_instances(name)) != (name.upper(), count, count):
            wrong.append((name, count, profile['max_instances'], vgpu_max_instances(name)))
    assert wrong == []


def test_every_name_fits_at_its_count_and_not_above(config_file):
    names, _default = read_config(config_file)
    for name, count in sorted(names.items()):
        board = parse(name).model
        assert vgpu_fits(board, {name: count})['ok'], name
        over = vgpu_fits(board, {name: count + 1})
        assert not over['ok'] and over['reasons'], name


def test_every_spelling_of_every_name_gives_the_same_board(config_file):
    names, _default = read_config(config_file)
    for name in names:
        vtype = parse(name)
        for ecosystem, spelling in vtype.names().items():
            again = parse(spelling)
            assert (again.canonical, again.max_instances) == (vtype.canonical, vtype.max_instances), (name, ecosystem, spelling)


def test_default_label_device_filters_resolve_to_one_board_each(config_file):
    _names, default = read_config(config_file)
    for entry, (device, name, count) in zip(default, DEFAULT_LABEL):
        subsystem = device.split(':')[1] if ':' in device else None
        model = gpu_model(entry['device-filter'], subsystem_id=subsystem)
        assert entry['device-filter'] in model.device_filters
        assert model.max_instances(name) >= count, (device, model.name, name)
        assert vgpu_max_instances(name, model.name) == model.max_instances(name)
        if subsystem is None:
            assert len(gpu_models(entry['device-filter'])) == 1, device


def test_the_4500_names_need_its_product_words_or_id():
    """DC-16Q is 6 on the RTX PRO 6000 Blackwell SE and 2 on the RTX PRO 4500 Blackwell SE (its default entry)."""
    assert vgpu_max_instances('DC-16Q') == 6
    assert vgpu_max_instances('NVIDIA RTX PRO 4500 Blackwell DC-16Q') == 2
    assert vgpu_max_instances('nvidia.com/NVIDIA_RTX_PRO_4500_Blackwell_DC-16Q') == 2
    assert vgpu_max_instances('DC-16Q', '0x2C3A10DE') == 2
    assert vgpu_max_instances('DC-1-16C') == 2
    assert vgpu_profile('NVIDIA RTX PRO 6000 Blackwell DC-48C')['names']['kubevirt'] == 'NVIDIA_RTX_PRO_6000_Blackwell_DC-48C'
