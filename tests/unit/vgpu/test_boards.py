"""Issue 15: boards by (device id, subsystem id), names as tools print them, driver-reported MIG memory and the
per-architecture placement rules (Blackwell: 48 per GPU, several vGPUs per MIG GPU instance)."""
import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import (
    ARCHITECTURES,
    VgpuError,
    all_gpu_models,
    check_fit,
    gpu_model,
    gpu_models,
    parse,
    remaining,
)


def test_nvidia_smi_product_name_of_the_sxm_h200():
    """A real H200 SXM (10de:2335) prints Product Name "NVIDIA H200" (reference real-gpu-h200.md)."""
    assert gpu_model('NVIDIA H200').name == 'H200X'
    assert gpu_model('nvidia  h200 ').name == 'H200X'
    assert gpu_model(0x2335).name == 'H200X'
    assert gpu_model('H200').name == 'H200', 'the bare token is the vGPU type token, the H200 NVL'
    assert gpu_model('NVIDIA H200 NVL').name == 'H200'


# NVIDIA's table of supported GPUs in its open kernel modules' README (595.45.04) [S15]: Product Name by device id
@pytest.mark.parametrize('product,name', [
    ('NVIDIA A16', 'A16'), ('NVIDIA H100', 'H100XL'), ('NVIDIA H100 PCIe', 'H100'), ('NVIDIA H20-3e', 'H20X'),
    ('NVIDIA H800 NVL', 'H800L'), ('NVIDIA A800 40GB Active', 'A800'), ('NVIDIA A800 80GB PCIe LC', 'A800D'),
    ('NVIDIA AX800', 'A800D'), ('NVIDIA A800-SXM4-80GB', 'A800DX'), ('NVIDIA A100-PG509-200', 'A100X'),
    ('NVIDIA PG509-210', 'A100DX'), ('NVIDIA GH200 120GB', 'GH200'), ('NVIDIA GH200 144G HBM3e', 'GH200L'),
    ('NVIDIA B300 SXM6 AC', 'B300X'), ('NVIDIA GB200', 'GB200'), ('NVIDIA RTX 6000D', '6000D'),
])
def test_driver_product_names_resolve(product, name):
    assert gpu_model(product).name == name


def test_a_product_name_and_its_label_form_name_their_gpu():
    """Each product name, and GPU Feature Discovery's label form of it (spaces as dashes), finds its own row."""
    for model in all_gpu_models():
        for product in model.product_names:
            assert gpu_model(product).name == model.name, product
            assert gpu_model(product.replace(' ', '-')).name == model.name, product


def test_real_h200_identity_forms():
    modalias = 'pci:v000010DEd00002335sv000010DEsd000018BFbc03sc02i00'
    assert gpu_model(modalias).name == 'H200X'
    assert gpu_model('0x233510DE', subsystem_id='0x18BF10DE').name == 'H200X'


@pytest.mark.parametrize('device,subsystem,name', [
    ('25b6', '157e', 'A2'), ('0x25B610DE', '0x157E10DE', 'A2'), (0x25B6, 0x157E, 'A2'), ('10de:25b6', '10de:14a9', 'A16'),
    ('1e78', '13d8', 'RTX8000P'), ('1e78', '13d9', 'RTX6000P'),
])
def test_shared_device_ids_resolve_by_subsystem(device, subsystem, name):
    assert gpu_model(device, subsystem_id=subsystem).name == name


def test_shared_device_id_without_subsystem_names_the_candidates():
    assert [m.name for m in gpu_models('1e78')] == ['RTX6000P', 'RTX8000P']
    with pytest.raises(VgpuError) as err:
        gpu_model('10de:1e78')
    assert "'10de:1e78'" in str(err.value) and 'RTX6000P: 13d9' in str(err.value)
    assert gpu_model('10de:25b6:10de:157e').name == 'A2'
    with pytest.raises(VgpuError):
        gpu_model('25b6', subsystem_id='zz')


@pytest.mark.parametrize('device,name', [('20b8', 'A100D'), ('20b9', 'A30'), ('2336', 'H100XM'), ('20fd', 'A800D'), ('2bb5', 'DC'),
                                         ('2c3a', 'RTXPRO4500-DC'), ('2bb9', '6000D'), ('3182', 'B300X'), ('1db3', 'V100L')])
def test_ids_of_issue_15_resolve(device, name):
    assert gpu_model(device).name == name


def test_mig_memory_as_the_driver_reports_it():
    h200x = gpu_model('H200X')
    memory = dict((p.instance_profile, p.memory_mib) for p in h200x.mig_profiles())
    assert memory == {'1g.18gb': 16384, '1g.18gb+me': 16384, '1g.35gb': 33280, '2g.35gb': 33280, '3g.71gb': 71424, '4g.71gb': 71424,
                      '7g.141gb': 143360}
    vtype = parse('H200X-1-18C')
    assert (vtype.gb, vtype.framebuffer_mib) == (18, 16384)
    assert parse('A100-3-20C').framebuffer_mib == 20480, 'no driver capture for the A100: nominal'
    assert parse('H200X-141C').framebuffer_mib == 141 * 1024, 'time-sliced types keep their size'


def test_architecture_rules():
    assert ARCHITECTURES['Blackwell'].max_vgpus == 48
    assert ARCHITECTURES['Hopper'].max_vgpus == 32
    assert not gpu_model('V100').mixed_size_capable
    assert gpu_model('A10').mixed_size_capable and gpu_model('DC').mixed_size_capable
    assert gpu_model('DC').sriov and not gpu_model('RTX8000P').sriov


def test_blackwell_48_per_gpu_and_shared_gpu_instances():
    assert check_fit('DC', {'DC-1-2Q': 48}).ok
    assert check_fit('DC', {'DC-1-2QGFX': 48}).ok
    assert not check_fit('DC', {'DC-1-2Q': 49}).ok
    assert check_fit('DC', {'DC-1-8Q': 6, 'DC-2-24Q': 2}).ok            # two 1g + one 2g = 4 slices
    result = check_fit('DC', {'DC-1-8Q': 7, 'DC-2-24Q': 2})               # three 1g + one 2g = 5 slices
    assert result.reasons == ['MIG-backed DC-1-8Q x7, DC-2-24Q x2 need 5 compute slices, DC has 4',
                              'MIG-backed DC-1-8Q x7, DC-2-24Q x2 need 5 memory slices, DC has 4']
    assert not check_fit('DC', ['DC-8Q', 'DC-1-8Q']).ok, 'time-sliced and MIG-backed never share a GPU'
    assert remaining('DC', {'DC-1-8Q': 4})['DC-1-8Q'] == 8
    assert check_fit('A40', {'A40-1Q': 32}).ok and not check_fit('A40', {'A40-1Q': 16, 'A40-2Q': 17}, mixed_size=True).ok


def test_driver_names_with_product_words():
    six = parse('NVIDIA RTX PRO 6000 Blackwell DC-48C')
    assert (six.canonical, six.model, six.max_instances) == ('DC-48C', 'DC', 2)
    assert six.names()['driver'] == 'NVIDIA RTX PRO 6000 Blackwell DC-48C'
    assert six.names()['kubernetes'] == 'nvidia.com/NVIDIA_RTX_PRO_6000_Blackwell_DC-48C'
    four = parse('nvidia rtx pro 4500 blackwell DC-8C')
    assert (four.model, four.max_instances, gpu_model(four).name) == ('RTXPRO4500-DC', 4, 'RTXPRO4500-DC')
    with pytest.raises(VgpuError) as err:
        parse('NVIDIA RTX PRO 4500 Blackwell DC-96C')
    assert 'RTXPRO4500-DC does not offer DC-96C' in str(err.value)
    with pytest.raises(VgpuError) as err:
        parse('NVIDIA RTX PRO 5000 Blackwell DC-8C')
    assert "unexpected word 'RTX'" in str(err.value)


def test_passthrough_resource_names():
    """The sandbox device plugin's rule (reference section 5): GA102GL [A10] -> nvidia.com/GA102GL_A10."""
    assert gpu_model('A10').passthrough_resource_name == 'nvidia.com/GA102GL_A10'
    assert gpu_model('T4').passthrough_resource_name == 'nvidia.com/TU104GL_TESLA_T4'
    assert gpu_model('A100D').passthrough_resource_name == 'nvidia.com/GA100_A100_PCIE_80GB'
    assert gpu_model('L40S').as_dict()['product_names'] == ['NVIDIA L40S']
