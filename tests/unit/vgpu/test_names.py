"""The type-name grammar ([S4] pkg/types/vgpu_type.go semantics, reference section 4) and every spelling in use
(reference sections 1, 5, 6 and 8; seeds 000 and 003)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import (
    VgpuError,
    VgpuType,
    all_vgpu_type_names,
    parse,
    parse_name,
)

SPELLINGS = [
    # (spelling, canonical) -- each one seen in a source
    ('A10-4Q', 'A10-4Q'),                          # vgpu-device-manager config key [S4]
    ('NVIDIA A10-4Q', 'A10-4Q'),                   # mdev name file, current drivers [S1]
    ('NVIDIA A10-4Q\n', 'A10-4Q'),                 # the name file as read, with its newline
    ('GRID T4-1Q', 'T4-1Q'),                       # mdev name file, older drivers [S1]
    ('GRID V100S-1Q', 'V100S-1Q'),
    ('NVIDIA A2-4C', 'A2-4C'),                     # real A2 dump [S5]
    ('grid_v100d-4c', 'V100D-4C'),                 # vSphere profile, seed 000
    ('grid_t4-1a', 'T4-1A'),                       # seed 000 VSphereMachineTemplate
    ('grid_a100-3-20c', 'A100-3-20C'),             # vSphere MIG-backed profile
    ('grid_a100d-8c', 'A100D-8C'),                 # reference section 8
    ('nvidia_l40s-8q', 'L40S-8Q'),                 # newer vSphere prefix [UNVERIFIED in reference]
    ('nvidia.com/NVIDIA_A10-4Q', 'A10-4Q'),        # sandbox device plugin resource [S8]
    ('nvidia.com/NVIDIA_A10-12Q', 'A10-12Q'),      # seed 003
    ('nvidia.com/GRID_T4-1Q', 'T4-1Q'),
    ('NVIDIA_A10-4Q', 'A10-4Q'),                   # KubeVirt selector [S6]
    ('GRID_T4-1Q', 'T4-1Q'),
    ('A100-3-20C', 'A100-3-20C'),
    ('A100-1-5CME', 'A100-1-5CME'),                # 1g.5gb+me
    ('a100-1-5cme', 'A100-1-5CME'),
    ('A30-2-12CME', 'A30-2-12CME'),
    ('NVIDIA H200X-1-18C', 'H200X-1-18C'),         # vendor VFIO creatable_vgpu_types [S4b]
    ('NVIDIA H200X-141C', 'H200X-141C'),
    ('NVIDIA L40S-3B', 'L40S-3B'),                 # L40S testdata [S5]
    ('M60-0Q', 'M60-0Q'),                          # GB 0 = 512 MiB
    ('Tesla M60-0B', 'M60-0B'),
    ('RTX6000-Ada-4Q', 'RTX6000-Ada-4Q'),          # GPU token with a dash-separated suffix
    ('grid_rtx6000-ada-48q', 'RTX6000-Ada-48Q'),
    ('  nvidia.com/nvidia_a10-4q ', 'A10-4Q'),
]


@pytest.mark.parametrize('spelling,canonical', SPELLINGS)
def test_every_spelling_parses(spelling, canonical):
    vtype = parse(spelling)
    assert isinstance(vtype, VgpuType)
    assert vtype.canonical == canonical
    assert str(vtype) == canonical
    assert parse(vtype) is vtype


def test_attributes_time_sliced():
    vtype = parse('NVIDIA A10-4Q')
    assert (vtype.gpu, vtype.framebuffer_mib, vtype.series, vtype.mig, vtype.slices, vtype.suffix) == ('A10', 4096, 'Q', False, None, '')
    assert vtype.max_instances == 6
    assert parse('M60-0Q').framebuffer_mib == 512
    assert parse('M60-0B').max_instances == 16


def test_attributes_mig():
    vtype = parse('grid_a100-3-20c')
    assert (vtype.gpu, vtype.framebuffer_mib, vtype.series, vtype.mig, vtype.slices, vtype.suffix) == ('A100', 20480, 'C', True, 3, '')
    cme = parse('A100-1-5CME')
    assert (cme.slices, cme.framebuffer_mib, cme.suffix, cme.max_instances) == (1, 5120, 'ME', 1)


@pytest.mark.parametrize('canonical,expected', [
    ('A10-4Q', {'short': 'A10-4Q', 'driver': 'NVIDIA A10-4Q', 'kubernetes': 'nvidia.com/NVIDIA_A10-4Q',
                'kubevirt': 'NVIDIA_A10-4Q', 'vsphere': 'grid_a10-4q'}),
    ('T4-1Q', {'short': 'T4-1Q', 'driver': 'GRID T4-1Q', 'kubernetes': 'nvidia.com/GRID_T4-1Q',
               'kubevirt': 'GRID_T4-1Q', 'vsphere': 'grid_t4-1q'}),
    ('V100D-4C', {'short': 'V100D-4C', 'driver': 'GRID V100D-4C', 'kubernetes': 'nvidia.com/GRID_V100D-4C',
                  'kubevirt': 'GRID_V100D-4C', 'vsphere': 'grid_v100d-4c'}),
    ('M60-8Q', {'short': 'M60-8Q', 'driver': 'GRID M60-8Q', 'kubernetes': 'nvidia.com/GRID_M60-8Q',
                'kubevirt': 'GRID_M60-8Q', 'vsphere': 'grid_m60-8q'}),
    ('A100-3-20C', {'short': 'A100-3-20C', 'driver': 'NVIDIA A100-3-20C', 'kubernetes': 'nvidia.com/NVIDIA_A100-3-20C',
                    'kubevirt': 'NVIDIA_A100-3-20C', 'vsphere': 'grid_a100-3-20c'}),
    ('L40S-48Q', {'short': 'L40S-48Q', 'driver': 'NVIDIA L40S-48Q', 'kubernetes': 'nvidia.com/NVIDIA_L40S-48Q',
                  'kubevirt': 'NVIDIA_L40S-48Q', 'vsphere': 'grid_l40s-48q'}),
])
def test_ecosystem_names(canonical, expected):
    assert parse(canonical).names() == expected


def test_as_dict_is_the_filter_result():
    assert parse('nvidia.com/NVIDIA_A10-4Q').as_dict() == {
        'canonical': 'A10-4Q', 'gpu': 'A10', 'framebuffer_mib': 4096, 'series': 'Q', 'mig': False, 'slices': None,
        'suffix': '', 'max_instances': 6, 'names': parse('A10-4Q').names(),
    }


def test_equality_and_hash_follow_the_canonical_name():
    assert parse('GRID T4-1Q') == parse('nvidia.com/GRID_T4-1Q')
    assert len({parse(s) for s in ('A10-4Q', 'NVIDIA A10-4Q', 'grid_a10-4q')}) == 1
    assert parse('A10-4Q') != parse('A10-4C')
    assert parse('A10-4Q') != 'A10-4Q'


# ---- malformed and unknown names ----------------------------------------------------------------

@pytest.mark.parametrize('bad,why', [
    ('A10-4X', "unknown series 'X'"),
    ('A10-', 'ends with'),
    ('-4Q', 'GPU name is missing'),
    ('A10-4', 'series letter is missing'),
    ('', 'empty'),
    ('   ', 'empty'),
    (None, 'must be a string'),
    (42, 'must be a string'),
    ('A10-4Q-', 'ends with'),
    ('A10-04Q', 'leading zero'),
    ('A100-0-5C', 'compute slices'),
    ('A100-10-5C', 'compute slices'),
    ('A100-1-5CXX', "unknown MIG suffix 'XX'"),
    ('A10-4QME', 'only MIG-backed'),
    ('A10', 'expected <GPU>-<GB><series>'),
    ('A10 4Q', "unexpected word 'A10'"),
    ('foo A10-4Q', "unexpected word 'foo'"),
    ('example.com/NVIDIA_A10-4Q', 'Kubernetes resource name'),
    ('nvidia.com/', 'Kubernetes resource name'),
    ('nvidia-558', 'mdev type id'),
    ('A10--4Q', 'expected'),
    ('_', 'no type name'),
    ('nvidia.com/__', 'no type name'),
])
def test_malformed_names_are_rejected_naming_the_input(bad, why):
    with pytest.raises(VgpuError) as err:
        parse(bad)
    message = str(err.value)
    assert repr(bad) in message
    assert why in message
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize('bad,suggested', [
    ('A10-4X', 'A10-4Q'),
    ('A10-4', 'A10-4Q'),
    ('A10-4Q-', 'A10-4Q'),
    ('A11-4Q', 'A10-4Q'),          # unknown GPU
    ('L40SX-4Q', 'L40S-4Q'),
    ('A100-4Q', 'A100-4C'),        # no Q-series on A100
    ('A10-5Q', 'A10-6Q'),          # not offered by that GPU
    ('A10-3C', 'A10-4C'),          # C-series starts at 4 GB
    ('A100-3-21C', 'A100-3-20C'),
])
def test_nearest_valid_names_are_suggested(bad, suggested):
    with pytest.raises(VgpuError) as err:
        parse(bad)
    message = str(err.value)
    assert repr(bad) in message
    assert 'did you mean' in message
    assert suggested in message.split('did you mean', 1)[1]


def test_unknown_gpu_message():
    # RTX5000-Ada was the example of an unknown GPU until issue 15 added it; RTX4000-Ada is not a vGPU board.
    with pytest.raises(VgpuError) as err:
        parse('RTX4000-Ada-4Q')
    assert "GPU 'RTX4000-ADA' is not in the catalog" in str(err.value)


def test_non_strict_parse_accepts_grammatical_names_of_unknown_gpus():
    vtype = parse('NVIDIA RTX4000-Ada-4Q', strict=False)
    assert (vtype.canonical, vtype.gpu, vtype.framebuffer_mib, vtype.max_instances) == ('RTX4000-ADA-4Q', 'RTX4000-ADA', 4096, None)
    assert parse('A10-5Q', strict=False).max_instances is None
    assert parse('A10-4Q', strict=False).max_instances == 6
    with pytest.raises(VgpuError):
        parse('A10-4X', strict=False)
    with pytest.raises(VgpuError):
        parse(vtype)  # strict again: the GPU is still unknown


def test_grammar_fields():
    name = parse_name('GRID A100DX-7-80CMEALL')
    assert (name.gpu, name.slices, name.gb, name.series, name.suffix, name.mig) == ('A100DX', 7, 80, 'C', 'MEALL', True)
    assert parse_name('DC-1-24QGFX').suffix == 'GFX'
    assert parse_name('H100-1-10CNOME').suffix == 'NOME'
    assert parse_name('RTX6000-Ada-4Q').gpu == 'RTX6000-ADA'


# ---- property-based ---------------------------------------------------------------------------------

CANONICAL = st.sampled_from(all_vgpu_type_names())


def _case_variants(draw, text):
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return ''.join(c.swapcase() if flip else c for c, flip in zip(text, flips))


@given(canonical=CANONICAL, ecosystem=st.sampled_from(['short', 'driver', 'kubernetes', 'kubevirt', 'vsphere']), data=st.data())
@settings(max_examples=400, deadline=None)
def test_round_trip_canonical_to_every_spelling_and_back(canonical, ecosystem, data):
    vtype = parse(canonical)
    spelling = vtype.names()[ecosystem]
    assert parse(spelling).canonical == canonical
    assert parse(_case_variants(data.draw, spelling)).canonical == canonical
    padded = data.draw(st.sampled_from(['', ' ', '\n', '\t'])) + spelling + data.draw(st.sampled_from(['', '\n', ' ']))
    assert parse(padded) == vtype


_TOKEN = st.from_regex(r'\A[A-Z][A-Z0-9]{0,5}(-[A-Z][a-z0-9]{0,3})?\Z')


@given(gpu=_TOKEN, gb=st.integers(min_value=0, max_value=200), series=st.sampled_from('QCBA'),
       slices=st.one_of(st.none(), st.integers(min_value=1, max_value=9)), suffix=st.sampled_from(['', 'ME', 'NOME', 'MEALL', 'GFX']))
@settings(max_examples=300, deadline=None)
def test_grammar_round_trip(gpu, gb, series, slices, suffix):
    if slices is None:
        suffix = ''
        text = '%s-%d%s' % (gpu, gb, series)
    else:
        text = '%s-%d-%d%s%s' % (gpu, slices, gb, series, suffix)
    name = parse_name(text)
    assert (name.gpu, name.gb, name.series, name.slices, name.suffix) == (gpu.upper(), gb, series, slices, suffix)
    assert name.short() == text.upper()
    vtype = parse(text, strict=False)
    nominal = 512 if gb == 0 else gb * 1024
    if slices is None or vtype.max_instances is None:
        assert vtype.framebuffer_mib == nominal
    else:  # a catalog MIG-backed type: the driver's GPU instance memory where known (issue 15), else nominal
        assert vtype.framebuffer_mib <= nominal


@given(text=st.one_of(st.text(max_size=30), st.from_regex(r'\A[A-Za-z0-9_ ./-]{0,20}\Z')))
@settings(max_examples=400, deadline=None)
def test_arbitrary_input_gives_a_type_or_a_clear_error(text):
    try:
        vtype = parse(text)
    except VgpuError as err:
        assert repr(text) in str(err)
    else:
        assert vtype.canonical in all_vgpu_type_names()
