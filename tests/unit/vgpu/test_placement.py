"""Placement rules: equal-size mode, heterogeneous same-size types (vGPU 17), mixed-size mode, no mixing of
time-sliced and MIG-backed ([S4] "cannot mix time-sliced and MIG-backed vGPU devices on the same GPU"), MIG
slices, the 32-per-GPU cap and per-type maxima (reference section 4; [S1] sections 2.11-2.12; [S5] A2 dump)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import (
    FitResult,
    VgpuError,
    all_gpu_models,
    check_fit,
    count_types,
    gpu_model,
    mixed_size_limit,
    parse,
    remaining,
)


def fits(gpu, vgpus, mixed_size=False):
    result = check_fit(gpu, vgpus, mixed_size=mixed_size)
    assert isinstance(result, FitResult)
    assert bool(result) is result.ok
    assert result.ok is (not result.reasons)
    return result


def test_empty_set_fits():
    assert fits('A10', []).ok
    assert fits('A10', None).ok
    assert fits('A10', {}).ok


def test_per_type_maximum():
    assert fits('A10', ['A10-4Q'] * 6).ok
    result = fits('A10', ['A10-4Q'] * 7)
    assert result.reasons == ['A10-4Q x7: at most 6 fit on one A10']
    assert fits('A10', {'NVIDIA A10-24Q': 1}).ok
    assert not fits('A10', {'A10-24Q': 2}).ok


def test_equal_size_mode_refuses_two_sizes():
    result = fits('A10', ['A10-4Q', 'A10-8Q'])
    assert not result.ok
    assert len(result.reasons) == 1
    assert 'equal-size mode' in result.reasons[0]
    assert 'A10-4Q' in result.reasons[0] and 'A10-8Q' in result.reasons[0]


def test_same_size_series_may_mix():
    """vGPU 17 heterogeneous types: the real A2 host runs A2-4C, A2-4Q and A2-4A side by side [S5]."""
    assert fits('A2', ['A2-4C', 'A2-4Q', 'A2-4A']).ok
    assert fits('A2', ['A2-4C', 'A2-4Q', 'A2-4A', 'A2-4Q']).ok
    result = fits('A2', ['A2-4C', 'A2-4Q', 'A2-4A', 'A2-4Q', 'A2-4C'])
    assert result.reasons == ['5 vGPUs of 4096 MiB (A2-4C x2, A2-4Q x2, A2-4A x1) exceed the 4 that fit on one A2']


def test_time_sliced_and_mig_backed_never_mix():
    result = fits('A100', ['A100-4C', 'A100-3-20C'])
    assert result.reasons == ['time-sliced (A100-4C x1) and MIG-backed (A100-3-20C x1) vGPUs cannot share one A100']


def test_mig_backed_types_may_differ_within_the_slices():
    assert fits('A100', ['A100-4-20C', 'A100-3-20C']).ok                  # 4g + 3g: 7 compute, 8 memory slices
    assert fits('A100', ['A100-3-20C', 'A100-2-10C', 'A100-1-5C', 'A100-1-5C']).ok
    assert fits('A100D', {'grid_a100d-2-20c': 3, 'A100D-1-10C': 1}).ok
    result = fits('A100', ['A100-4-20C', 'A100-3-20C', 'A100-1-5C'])
    assert result.reasons == [
        'MIG-backed A100-4-20C x1, A100-3-20C x1, A100-1-5C x1 need 8 compute slices, A100 has 7',
        'MIG-backed A100-4-20C x1, A100-3-20C x1, A100-1-5C x1 need 9 memory slices, A100 has 8',
    ]


def test_mig_memory_slices_alone_can_be_the_limit():
    result = fits('A100', {'A100-1-10C': 4, 'A100-1-5C': 1})
    assert result.reasons == ['MIG-backed A100-1-10C x4, A100-1-5C x1 need 9 memory slices, A100 has 8']


def test_a30_has_four_slices():
    assert fits('A30', ['A30-2-12C', 'A30-1-6C', 'A30-1-6C']).ok
    assert 'need 5 compute slices, A30 has 4' in fits('A30', ['A30-4-24C', 'A30-1-6C']).reasons[0]


def test_only_one_media_extension_profile():
    result = fits('A30', ['A30-1-6CME', 'A30-2-12CME'])
    assert result.reasons == ['only one media-extension (+me) MIG profile fits on one A30, got A30-1-6CME x1, A30-2-12CME x1']
    assert fits('A100', ['A100-1-5CME', 'A100-1-5C', 'A100-1-5C']).ok


def test_type_of_another_gpu_is_named():
    result = fits('L40S', ['A10-4Q', 'L40S-4Q'])
    assert len(result.reasons) == 1
    assert result.reasons[0].startswith('A10-4Q is not offered by L40S')


def test_type_not_offered_by_its_own_gpu_is_named():
    result = fits('A10', ['A10-5Q'])
    assert result.reasons[0].startswith('A10-5Q is not offered by A10')


def test_32_vgpu_cap_per_gpu():
    assert fits('L40S', ['L40S-1Q'] * 32).ok
    assert fits('L40S', {'L40S-1Q': 16, 'L40S-1B': 16}).ok
    result = fits('L40S', {'L40S-1Q': 30, 'L40S-2Q': 3}, mixed_size=True)   # 36 GB of 48: only the cap is broken
    assert result.reasons == ['33 vGPUs (L40S-1Q x30, L40S-2Q x3) exceed the limit of 32 per physical GPU']


def test_mixed_size_mode_allows_different_sizes_within_the_framebuffer():
    assert fits('A10', ['A10-4Q', 'A10-8Q', 'A10-12Q'], mixed_size=True).ok           # 24 of 24 GB
    result = fits('A10', ['A10-4Q', 'A10-8Q', 'A10-12Q', 'A10-1Q'], mixed_size=True)
    assert result.reasons == ['mixed-size mode: A10-4Q x1, A10-8Q x1, A10-12Q x1, A10-1Q x1 need 25600 MiB of framebuffer, A10 has 24576 MiB']


def test_mixed_size_limits_are_conservative():
    """NVIDIA's H100 NVL mixed-size column: 4C 16, 6C 8, 15C 4 (equal-size 23, 15, 6) [S14 Hopper page]."""
    h100l = gpu_model('H100L')
    assert [mixed_size_limit(h100l, parse(n)) for n in ('H100L-4C', 'H100L-6C', 'H100L-11C', 'H100L-15C', 'H100L-23C')] == [16, 8, 8, 4, 4]
    h100 = gpu_model('H100')
    assert [mixed_size_limit(h100, parse(n)) for n in ('H100-4C', 'H100-5C', 'H100-8C', 'H100-16C')] == [16, 16, 8, 4]
    for model in all_gpu_models():
        for vtype in model.vgpu_types():
            assert mixed_size_limit(model, vtype) <= vtype.max_instances
    assert mixed_size_limit(gpu_model('A10'), parse('L40S-4Q')) == 0
    result = fits('H100L', ['H100L-4C'] * 17, mixed_size=True)
    assert result.reasons == ['H100L-4C x17: at most 16 fit on one H100L in mixed-size mode (conservative)']


@pytest.mark.parametrize('gpu', ['V100', 'V100S', 'M60'])
def test_mixed_size_mode_refused_before_turing(gpu):
    vtype = gpu_model(gpu).vgpu_types()[0]
    result = fits(gpu, [vtype], mixed_size=True)
    assert 'mixed-size mode is not available on %s' % gpu in result.reasons[0]


def test_mixed_size_does_not_apply_to_mig():
    assert fits('A100', ['A100-4-20C', 'A100-3-20C'], mixed_size=True).ok


def test_inputs_are_flexible():
    assert fits('2236', {'A10-4Q': '6'}).ok                   # Kubernetes quantities are strings
    assert fits(8758, [('A10-4Q', 3), ['NVIDIA A10-4Q', 3]]).ok
    assert fits(gpu_model('A10'), 'A10-4Q').ok
    assert fits('A10', parse('A10-4Q')).ok
    assert check_fit('A10', {'A10-4Q': 2, 'nvidia.com/NVIDIA_A10-4Q': 1}).counts == {'A10-4Q': 3}
    assert count_types({'A10-4Q': 0}) == []


@pytest.mark.parametrize('bad', [{'A10-4Q': -1}, {'A10-4Q': 'six'}, {'A10-4Q': True}, {'A10-4Q': 1.5}, 42])
def test_bad_counts_raise(bad):
    with pytest.raises(VgpuError) as err:
        check_fit('A10', bad)
    assert repr(bad if not isinstance(bad, dict) else list(bad.values())[0]) in str(err.value)


def test_malformed_type_or_unknown_gpu_raise():
    with pytest.raises(VgpuError, match="'A10-4X'"):
        check_fit('A10', ['A10-4X'])
    with pytest.raises(VgpuError, match="'Z9'"):
        check_fit('Z9', ['A10-4Q'])
    with pytest.raises(VgpuError, match="'Z9'"):
        remaining('Z9', [])


def test_as_dict():
    assert check_fit('A10', ['A10-4Q']).as_dict() == {'ok': True, 'reasons': [], 'gpu': 'A10', 'counts': {'A10-4Q': 1}}


# ---- what still fits --------------------------------------------------------------------------------

def test_remaining_on_an_empty_gpu_is_every_type_at_its_maximum():
    for name in ('A10', 'A100', 'T4', 'M60'):
        model = gpu_model(name)
        assert remaining(name, []) == {t.canonical: t.max_instances for t in model.vgpu_types()}


def test_remaining_follows_the_size_in_use():
    assert remaining('A10', ['A10-4Q', 'A10-4C']) == {'A10-4Q': 4, 'A10-4A': 4, 'A10-4C': 4}
    assert remaining('L40S', {'L40S-1B': 31}) == {'L40S-1Q': 1, 'L40S-1B': 1, 'L40S-1A': 1}


def test_remaining_mig():
    assert remaining('A100', ['A100-3-20C']) == {
        'A100-1-5C': 4, 'A100-1-5CME': 1, 'A100-1-10C': 2, 'A100-2-10C': 2, 'A100-3-20C': 1, 'A100-4-20C': 1}
    assert remaining('A100', ['A100-7-40C']) == {}


def test_remaining_is_empty_when_full_or_invalid():
    assert remaining('A10', ['A10-24Q']) == {}
    assert remaining('A10', ['A10-4Q'] * 7) == {}
    assert remaining('A10', ['A10-4Q', 'A10-8Q']) == {}


def test_remaining_mixed_size():
    left = remaining('L40S', {'L40S-8Q': 2}, mixed_size=True)
    assert left['L40S-8Q'] == 2                       # conservative limit 4 (largest power of two <= 6)
    assert left['L40S-24Q'] == 1
    assert 'L40S-48Q' not in left
    assert left['L40S-1Q'] == 30                      # 32-per-GPU cap


_GPUS = st.sampled_from([m.name for m in all_gpu_models()])


@given(gpu=_GPUS, data=st.data(), mixed_size=st.booleans())
@settings(max_examples=150, deadline=None)
def test_remaining_is_exactly_the_largest_addition_that_fits(gpu, data, mixed_size):
    model = gpu_model(gpu)
    offered = model.vgpu_types()
    existing = data.draw(st.dictionaries(st.sampled_from(offered), st.integers(min_value=1, max_value=4), max_size=2))
    left = remaining(model, existing, mixed_size=mixed_size)
    base_ok = check_fit(model, existing, mixed_size=mixed_size).ok
    if not base_ok:
        assert left == {}
        return
    for vtype in offered:
        more = left.get(vtype.canonical, 0)
        assert more >= 0
        with_more = dict(existing)
        with_more[vtype] = with_more.get(vtype, 0) + more
        assert check_fit(model, with_more, mixed_size=mixed_size).ok
        with_more[vtype] += 1
        assert not check_fit(model, with_more, mixed_size=mixed_size).ok


@given(gpu=_GPUS, data=st.data())
@settings(max_examples=150, deadline=None)
def test_any_single_type_fits_up_to_its_maximum_and_not_beyond(gpu, data):
    vtype = data.draw(st.sampled_from(gpu_model(gpu).vgpu_types()))
    assert check_fit(gpu, {vtype: vtype.max_instances}).ok
    over = check_fit(gpu, {vtype: vtype.max_instances + 1})
    assert not over.ok
    assert all(vtype.canonical in reason for reason in over.reasons)
