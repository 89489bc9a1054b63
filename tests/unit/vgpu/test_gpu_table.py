"""Every GPU of the catalog against the reference facts, section 4.

The expected table below is transcribed from the reference text (its capacity table, exceptions and
decimal-id list, written in the reference's own ``1Q16 2Q8`` notation) and from the sources it cites for
rows the reference abbreviates: [S4] examples/config-example.yaml for MIG +me profiles of 80 GB GPUs and for
every GPU added in issue 15 (its type names and counts, written here in the same notation; the RTX PRO 4500
Blackwell row from NVIDIA's Blackwell vGPU type page, per GPU), device ids from [S4] device-filters and pci.ids,
the NVIDIA Hopper vGPU types page [S14] for the H200 counts the reference elides ("4C32 7C20 ... 141C1"),
and M60 driver description files (reference section 1 example of M60-0Q = 512 MiB). It is NOT derived
from the catalog code: a typo on either side fails the test.
"""
import re

import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import (
    MAX_VGPUS_PER_GPU,
    VgpuError,
    all_gpu_models,
    gpu_model,
    gpu_models,
    max_instances,
    parse,
)

Q16, C16 = '1Q16 2Q8 4Q4 8Q2 16Q1', '4C4 8C2 16C1'
A16_, B16 = '1A16 2A8 4A4 8A2 16A1', '1B16 2B8'
Q24, C24 = '1Q24 2Q12 3Q8 4Q6 6Q4 8Q3 12Q2 24Q1', '4C6 6C4 8C3 12C2 24C1'
A24, B24 = '1A24 2A12 3A8 4A6 6A4 8A3 12A2 24A1', '1B24 2B12'
Q48, C48 = '1Q32 2Q24 3Q16 4Q12 6Q8 8Q6 12Q4 16Q3 24Q2 48Q1', '4C12 6C8 8C6 12C4 16C3 24C2 48C1'
A48, B48 = '1A32 2A24 3A16 4A12 6A8 8A6 12A4 16A3 24A2 48A1', '1B32 2B24'
Q32, C32 = '1Q32 2Q16 4Q8 8Q4 16Q2 32Q1', '4C8 8C4 16C2 32C1'
A32, B32 = '1A32 2A16 4A8 8A4 16A2 32A1', '1B32 2B16'
MIG40 = '1-5C7 1-10C4 2-10C3 3-20C2 4-20C1 7-40C1 1-5CME1'
MIG80 = '1-10C7 1-20C4 2-20C3 3-40C2 4-40C1 7-80C1 1-10CME1'
MIG94 = '1-12C7 1-24C4 2-24C3 3-47C2 4-47C1 7-94C1 1-12CME1'
MIG141 = '1-18C7 1-35C4 2-35C3 3-71C2 4-71C1 7-141C1 1-18CME1'
MIG64 = '1-8C7 1-16C4 2-16C3 3-32C2 4-32C1 7-64C1 1-8CME1'
MIG96 = '1-12C7 1-24C4 2-24C3 3-48C2 4-48C1 7-96C1 1-12CME1'
MIG144 = '1-18C7 1-36C4 2-36C3 3-72C2 4-72C1 7-144C1 1-18CME1'
Q24QC = Q24 + ' ' + C24
Q48QC = Q48 + ' ' + C48
H80 = '4C20 5C16 8C10 10C8 16C5 20C4 40C2 80C1 ' + MIG80
H94 = '4C23 6C15 11C8 15C6 23C4 47C2 94C1 ' + MIG94
# RTX PRO 6000 Blackwell SE ([S4] DC names): time-sliced, then MIG-backed (every MIG-backed one also with GFX).
DC_TS = '3Q32 4Q24 6Q16 8Q12 12Q8 16Q6 24Q4 32Q3 48Q2 96Q1 8C12 12C8 16C6 24C4 32C3 48C2 96C1'
DC_MIG = ('1-2Q48 1-3Q32 1-4Q24 1-6Q16 1-8Q12 1-12Q8 1-24Q4 2-12Q8 2-16Q6 2-24Q4 2-48Q2 4-24Q4 4-32Q3 4-48Q2 4-96Q1 '
          '1-8C12 1-12C8 1-24C4 2-12C8 2-16C6 2-24C4 2-48C2 4-24C4 4-32C3 4-48C2 4-96C1')

# name: (hex device id, decimal device id or None, framebuffer GB, SR-IOV, types offered)
EXPECTED = {
    'A2': ('25b6', 9654, 16, True, ' '.join((Q16, C16, A16_, B16))),
    'A16': ('25b6', 9654, 16, True, ' '.join((Q16, C16, A16_, B16))),
    'A10': ('2236', 8758, 24, True, ' '.join((Q24, C24, A24, B24))),
    'L4': ('27b8', 10168, 24, True, ' '.join((Q24, C24, A24, B24))),
    'A30': ('20b7', 8375, 24, True, C24 + ' 1-6C4 2-12C2 4-24C1 1-6CME1 2-12CME1'),
    'A40': ('2235', 8757, 48, True, ' '.join((Q48, C48, A48, B48))),
    'L40': ('26b5', 9909, 48, True, ' '.join((Q48, C48, A48, B48))),
    'L40S': ('26b9', 9913, 48, True, ' '.join((Q48, C48, A48, B48, '3B16'))),
    'RTX6000-Ada': ('26b1', None, 48, True, ' '.join((Q48, C48))),
    'A100': ('20f1', 8433, 40, True, '4C10 5C8 8C5 10C4 20C2 40C1 ' + MIG40),
    'A100X': ('20b0', None, 40, True, '4C10 5C8 8C5 10C4 20C2 40C1 ' + MIG40),
    'A100D': ('20b5', 8373, 80, True, '4C20 8C10 10C8 16C5 20C4 40C2 80C1 ' + MIG80),
    'A100DX': ('20b2', None, 80, True, '4C20 8C10 10C8 16C5 20C4 40C2 80C1 ' + MIG80),
    'H100': ('2331', 9009, 80, True, '4C20 5C16 8C10 10C8 16C5 20C4 40C2 80C1 ' + MIG80),
    'H100XM': ('2330', 9008, 80, True, '4C20 5C16 8C10 10C8 16C5 20C4 40C2 80C1 ' + MIG80),
    'H100L': ('2321', None, 94, True, '4C23 6C15 11C8 15C6 23C4 47C2 94C1 ' + MIG94),
    'H200': ('233b', None, 141, True, '4C32 7C20 8C16 14C10 17C8 28C5 35C4 70C2 141C1 ' + MIG141),
    'H200X': ('2335', None, 141, True, '4C32 7C20 8C16 14C10 17C8 28C5 35C4 70C2 141C1 ' + MIG141),
    'T4': ('1eb8', 7864, 16, False, ' '.join((Q16, C16, A16_, B16))),
    'V100': ('1db4', 7604, 16, False, ' '.join((Q16, C16, A16_, B16))),
    'V100X': ('1db1', None, 16, False, ' '.join((Q16, C16, A16_, B16))),
    'V100D': ('1db6', 7606, 32, False, ' '.join((Q32, C32, A32, B32))),
    'V100DX': ('1db5', None, 32, False, ' '.join((Q32, C32, A32, B32))),
    'V100S': ('1df6', None, 32, False, ' '.join((Q32, C32, A32, B32))),
    'M60': ('13f2', None, 8, False, '0Q16 1Q8 2Q4 4Q2 8Q1 1A8 2A4 4A2 8A1 0B16 1B8 2B4'),
    # issue 15: every other GPU of [S4]; ids from its device-filters (pci.ids names in gpus.py)
    'RTX5000-Ada': ('26b2', None, 32, True, Q32 + ' ' + C32),
    'RTX5880-Ada': ('26b3', None, 48, True, Q48QC),
    'L2': ('27b6', None, 24, True, Q24QC),
    'L20': ('26ba', None, 48, True, Q48QC),
    'RTXA5000': ('2231', None, 24, True, Q24QC),
    'RTXA5500': ('2233', None, 24, True, Q24QC),
    'RTXA6000': ('2230', None, 48, True, Q48QC),
    'A800': ('20f6', None, 40, True, '4C10 5C8 8C5 10C4 20C2 40C1 ' + MIG40),
    'A800D': (('20f5', '20fd'), None, 80, True, '4C20 8C10 10C8 16C5 20C4 40C2 80C1 ' + MIG80),
    'A800DX': ('20f3', None, 80, True, '4C20 8C10 10C8 16C5 20C4 40C2 80C1 ' + MIG80),
    'H100XL': ('2339', None, 94, True, H94),
    'H100XS': ('2337', None, 64, True, '4C16 8C8 16C4 32C2 64C1 ' + MIG64),
    'H800': ('2322', None, 80, True, H80),
    'H800XM': ('2324', None, 80, True, H80),
    'H800L': ('233a', None, 94, True, H94),
    'H20': ('2329', None, 96, True, '4C24 6C16 8C12 12C8 16C6 24C4 32C3 48C2 96C1 ' + MIG96),
    'H20X': ('232c', None, 141, True, '4C32 7C20 8C16 14C10 17C8 28C5 35C4 70C2 141C1 ' + MIG141),
    'GH200': ('2342', None, 96, True, '96C1 ' + MIG96),
    'GH200L': ('2348', None, 144, True, '144C1 ' + MIG144),
    'B200X': ('2901', None, 180, True, '180C1 1-23C7 1-45C4 2-45C3 3-90C2 4-90C1 7-180C1 1-23CME1'),
    'B300X': ('3182', None, 269, True, '269C1 1-34C7 1-67C4 2-67C3 3-135C2 4-135C1 7-269C1 1-34CME1'),
    'GB200': ('2941', None, 189, True, '189C1 1-24C7 1-47C4 2-47C3 3-95C2 4-95C1 7-189C1 1-24CME1'),
    'DC': ('2bb5', None, 96, True, ' '.join((DC_TS, DC_MIG, re.sub(r'([QC])(\d+)\b', r'\1GFX\2', DC_MIG)))),
    'RTXPRO4500-DC': ('2c3a', None, 32, True, '16Q2 8C4 16C2 32C1 1-8Q4 1-16Q2 2-8Q4 2-16Q2 2-32Q1 1-8C4 1-16C2 2-8C4 2-16C2 2-32C1'),
    '6000D': ('2bb9', None, 84, True, '84Q1 84C1 1-42Q2 2-84Q1 1-42C2 2-84C1 1-42QGFX2 2-84QGFX1 1-42CGFX2 2-84CGFX1'),
    'RTX6000P': ('1e78', None, 24, False, Q24QC),
    'RTX8000P': ('1e78', None, 48, False, Q48 + ' 4C8 6C8 8C6 12C4 16C3 24C2 48C1'),
    'V100L': ('1db3', None, 16, False, Q16 + ' ' + C16),
}
EXPECTED['A30'] = (('20b7', '20b9'),) + EXPECTED['A30'][1:]      # 20b9 A30X (issue 15, [S4] device-filter)
EXPECTED['A100D'] = (('20b5', '20b8'),) + EXPECTED['A100D'][1:]  # 20b8 A100X converged card uses the A100D types
EXPECTED['H100XM'] = (('2330', '2336'),) + EXPECTED['H100XM'][1:]
# Driver type names with the product before the short name (issue 15: "NVIDIA RTX PRO 6000 Blackwell DC-48C").
PRODUCT_WORDS = {'DC': 'NVIDIA RTX PRO 6000 Blackwell', 'RTXPRO4500-DC': 'NVIDIA RTX PRO 4500 Blackwell'}
REQUIRED = ('A2', 'A16', 'A10', 'L4', 'A30', 'A40', 'L40', 'L40S', 'A100', 'A100X', 'A100D', 'A100DX', 'H100', 'H100XM',
            'H100L', 'H200', 'V100', 'V100D', 'V100S', 'T4', 'M60')
_ENTRY = re.compile(r'^(?:(\d)-)?(\d+)([QCBA])(ME|GFX)?(\d+)$')


def expected_types(gpu, text):
    """'1Q16 1-5CME1' -> {'A10-1Q': 16, 'A100-1-5CME': 1}."""
    result = {}
    for entry in text.split():
        slices, gb, series, suffix, count = _ENTRY.match(entry).groups()
        token = 'DC' if gpu == 'RTXPRO4500-DC' else gpu
        name = '%s-%s%s%s' % (token, (slices + '-') if slices else '', gb, series) + (suffix or '')
        result[name] = int(count)
    return result


def test_every_required_gpu_is_in_the_catalog():
    names = {model.name for model in all_gpu_models()}
    assert set(REQUIRED) <= names
    assert names == set(EXPECTED), 'a catalog row without an expected row (or the reverse)'


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_gpu_row_matches_reference(name):
    device_hex, device_decimal, framebuffer_gb, sriov, types = EXPECTED[name]
    devices = device_hex if isinstance(device_hex, tuple) else (device_hex,)
    model = gpu_model(name)
    assert model.name == name
    assert model.vendor_id == 0x10DE
    assert model.device_ids_hex == devices
    assert model.device_ids == tuple(int(d, 16) for d in devices)
    if device_decimal is not None:
        assert model.device_ids[0] == device_decimal
    assert model.device_filters == tuple('0x%s10DE' % d.upper() for d in devices)
    assert model.framebuffer_mib == framebuffer_gb * 1024
    assert model.sriov is sriov
    assert model.legacy is not sriov
    assert model.driver_prefix == ('GRID' if not sriov else PRODUCT_WORDS.get(name, 'NVIDIA'))
    assert model.source, 'every row cites its source'
    offered = {t.canonical: t.max_instances for t in model.vgpu_types()}
    assert offered == expected_types(name, types)
    for canonical, count in offered.items():
        assert model.max_instances(canonical) == count
        if model.token == model.name:   # DC names go to the RTX PRO 6000 first; the 4500 needs its product words or id
            assert max_instances(canonical) == count
        assert max_instances(canonical, name) == count


@pytest.mark.parametrize('name', ['A30', 'A100', 'A100X', 'A100D', 'A100DX', 'H100', 'H100XM', 'H100L', 'H200', 'H200X', 'A800', 'A800D',
                                  'A800DX', 'H800', 'H800XM', 'H800L', 'H100XL', 'H100XS', 'H20', 'H20X', 'GH200', 'GH200L', 'B200X',
                                  'B300X', 'GB200'])
def test_mig_gpus(name):
    model = gpu_model(name)
    assert model.mig_capable
    assert model.series == ('C',)
    assert (model.compute_slices, model.memory_slices) == ((4, 4) if name == 'A30' else (7, 8))


@pytest.mark.parametrize('name', ['A2', 'A10', 'L40S', 'T4', 'V100D', 'M60'])
def test_non_mig_gpus(name):
    assert not gpu_model(name).mig_capable


def test_memory_slices_per_mig_profile():
    """MIG user guide geometry: A100 40GB has 8 x 5 GB memory slices; 1g.10gb takes two, 7g.40gb all eight."""
    a100 = gpu_model('A100')
    assert [a100.mig_profile(n).memory_slices for n in ('A100-1-5C', 'A100-1-10C', 'A100-2-10C', 'A100-3-20C', 'A100-4-20C', 'A100-7-40C')] == \
        [1, 2, 2, 4, 4, 8]
    h200 = gpu_model('H200')
    assert [h200.mig_profile(n).memory_slices for n in ('H200-1-18C', 'H200-1-35C', 'H200-3-71C', 'H200-7-141C')] == [1, 2, 4, 8]
    a30 = gpu_model('A30')
    assert [a30.mig_profile(n).memory_slices for n in ('A30-1-6C', 'A30-2-12C', 'A30-4-24C')] == [1, 2, 4]
    assert a100.mig_profile('A100-4C') is None
    assert a100.mig_profile('A10-4Q') is None


def test_known_max_vfs():
    """sriov_totalvfs: A2 16 (real dump [S5]), A40 32 (NVIDIA example [S1]); unknown elsewhere."""
    assert gpu_model('A2').max_vfs == 16
    assert gpu_model('A40').max_vfs == 32
    assert gpu_model('A10').max_vfs is None
    assert gpu_model('T4').max_vfs is None


def test_boards_with_several_gpus():
    assert gpu_model('A16').gpus_per_board == 4
    assert gpu_model('M60').gpus_per_board == 2
    assert gpu_model('A10').gpus_per_board == 1


# ---- the exceptions named in the reference -----------------------------------------------------

@pytest.mark.parametrize('gpu', ['A40', 'L40', 'L40S', 'RTX6000-Ada'])
def test_1q_on_48gb_gpus_is_capped_at_32(gpu):
    assert max_instances('%s-1Q' % gpu) == 32


@pytest.mark.parametrize('gpu', ['A30', 'A100', 'A100X', 'A100D', 'A100DX', 'H100', 'H100XM', 'H100L', 'H200', 'H200X'])
@pytest.mark.parametrize('series', ['Q', 'A', 'B'])
def test_compute_gpus_offer_no_graphics_series(gpu, series):
    with pytest.raises(VgpuError) as err:
        parse('%s-8%s' % (gpu, series))
    assert "'%s-8%s'" % (gpu, series) in str(err.value)
    assert 'offers no %s-series' % series in str(err.value)


def test_h100_nvl_and_h200_counts():
    assert max_instances('H100L-4C') == 23
    assert max_instances('H100L-94C') == 1
    assert max_instances('H200-4C') == 32, 'floor(141 / 4) = 35, capped at 32'
    assert max_instances('H200X-8C') == 16
    assert max_instances('H200-141C') == 1
    assert gpu_model('H100 NVL').name == 'H100L'
    assert gpu_model('H200 NVL').name == 'H200'


def test_b_series_is_1b_2b_only_except_l40s_3b():
    for model in all_gpu_models():
        sizes = sorted(t.gb for t in model.vgpu_types() if t.series == 'B')
        if model.name == 'L40S':
            assert sizes == [1, 2, 3]
        elif model.name == 'M60':
            assert sizes == [0, 1, 2]
        else:
            assert sizes in ([], [1, 2]), model.name
    with pytest.raises(VgpuError):
        parse('A40-3B')


def test_c_series_starts_at_4gb():
    for model in all_gpu_models():
        for vtype in model.vgpu_types():
            if vtype.series == 'C' and not vtype.mig:
                assert vtype.gb >= 4, vtype
    for name in ('A10-1C', 'A10-2C', 'A10-3C', 'L40S-2C'):
        with pytest.raises(VgpuError):
            parse(name)


def test_a_series_counts_equal_q_counts():
    for model in all_gpu_models():
        offered = {t.canonical: t.max_instances for t in model.vgpu_types()}
        for name, count in offered.items():
            if name.endswith('A') and not parse(name).mig:
                assert offered[name[:-1] + 'Q'] == count


def test_per_architecture_vgpu_cap_and_framebuffer_bound():
    """32 per GPU up to Hopper, 48 on Blackwell (issue 15: [S4] DC-1-2Q = 48; the old single 32 cap was wrong there)."""
    assert MAX_VGPUS_PER_GPU == 32
    for model in all_gpu_models():
        assert model.max_vgpus == (48 if model.architecture == 'Blackwell' else 32)
        for vtype in model.vgpu_types():
            assert 1 <= vtype.max_instances <= model.max_vgpus
            if not vtype.mig:
                assert vtype.max_instances * vtype.framebuffer_mib <= model.framebuffer_mib


# ---- lookups ------------------------------------------------------------------------------------

@pytest.mark.parametrize('spelling', ['A10', 'a10', 'NVIDIA A10', 'nvidia a10', '2236', '0x2236', '10de:2236', '10DE:2236',
                                      '0x223610DE', '0x223610de', 8758, 0x2236, '8758', ' A10 '])
def test_gpu_lookup_forms(spelling):
    assert gpu_model(spelling).name == 'A10'


@pytest.mark.parametrize('name,decimal', [('T4', 7864), ('V100', 7604), ('V100D', 7606), ('A10', 8758), ('A30', 8375), ('A40', 8757),
                                          ('A100', 8433), ('A100D', 8373), ('H100', 9009), ('H100XM', 9008), ('L4', 10168),
                                          ('L40', 9909), ('L40S', 9913)])
def test_decimal_ids_from_reference(name, decimal):
    assert gpu_model(decimal).name == name
    assert decimal < 0x8000, "fits vSphere's signed 16-bit deviceId"


@pytest.mark.parametrize('token,name', [('a100dx', 'A100DX'), ('H100XM', 'H100XM'), ('rtx6000-ada', 'RTX6000-Ada'),
                                        ('RTX 6000 Ada', 'RTX6000-Ada'), ('Tesla T4', 'T4'), ('v100d', 'V100D'), ('h100nvl', 'H100L')])
def test_gpu_lookup_by_token_with_suffix(token, name):
    assert gpu_model(token).name == name


def test_shared_device_id_is_ambiguous():
    assert [m.name for m in gpu_models('25b6')] == ['A2', 'A16']
    with pytest.raises(VgpuError) as err:
        gpu_model('0x25b6')
    assert "'0x25b6'" in str(err.value) and 'A2' in str(err.value) and 'A16' in str(err.value)


def test_gpu_model_of_a_vgpu_type():
    assert gpu_model(parse('grid_a100d-4c')).name == 'A100D'
    assert gpu_model(gpu_model('A10')) is gpu_model('A10')


@pytest.mark.parametrize('bad,hint', [('A11', 'A10'), ('L40X', 'L40'), ('zzz', None), ('8086:2236', '8086'), ('', None),
                                      (None, None), (0x1234, None), (True, None), ('10de:ffff', None)])
def test_unknown_gpu_is_named(bad, hint):
    with pytest.raises(VgpuError) as err:
        gpu_model(bad)
    assert repr(bad) in str(err.value)
    if hint:
        assert hint in str(err.value)
