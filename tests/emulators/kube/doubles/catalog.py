"""The GPUs the emulated nodes carry, and what the GPU Operator makes of them.

This table is the emulator's own, written from the facts sheet (gpu-virtualization-facts.md), not imported
from the collection: the modules are checked against an independent description of the hardware.

- PCI device ids and pci.ids device names: [S4 config-example device-filter], [S8 utils/pci.ids], facts §4/§5.
- Framebuffer sizes, vGPU series and the capacity rule max = min(FB_GB / size_GB, 32): facts §4 (NVIDIA's
  default vgpu-device-manager config).
- Resource names advertised by the sandbox device plugin: facts §5 [S8]: passthrough = ``nvidia.com/`` + the
  pci.ids device name upper-cased with ``/``, ``.`` and spaces turned into ``_`` and any other
  non-alphanumeric character dropped; vGPU = ``nvidia.com/`` + the mdev type name with spaces turned into ``_``.
"""
import re
from dataclasses import dataclass

NVIDIA_VENDOR_ID = '10de'
MAX_VGPUS_PER_GPU = 32  # facts §4: 1Q on 48 GB GPUs is 32, not 48


@dataclass(frozen=True)
class GpuModel:
    """One GPU model as the emulated nodes report it."""
    token: str            # the name used in vGPU type names (A10, L40S, T4, A100D...)
    device_id: str        # PCI device id, lower-case hex
    pci_name: str         # pci.ids device name, what the sandbox device plugin builds its resource name from
    framebuffer_gb: int
    family: str           # GPU Feature Discovery's nvidia.com/gpu.family
    product: str          # GPU Feature Discovery's nvidia.com/gpu.product
    series: str = 'QBAC'  # time-sliced series offered; A100/A30/H100 offer C only
    b_sizes: tuple = (1, 2)  # B-series exist only as 1B/2B (L40S adds 3B)

    @property
    def memory_mib(self):
        return self.framebuffer_gb * 1024

    @property
    def passthrough_resource(self):
        """The resource name the sandbox device plugin advertises for this GPU bound to vfio-pci [S8]."""
        name = re.sub(r'[/. ]', '_', self.pci_name.upper())
        return 'nvidia.com/' + re.sub(r'[^A-Z0-9_]', '', name)

    def vgpu_sizes(self, series):
        """Framebuffer sizes (GB) of the time-sliced types of ``series`` this GPU offers (facts §4 table)."""
        if series not in self.series:
            return ()
        if series == 'B':
            return tuple(s for s in self.b_sizes if self.framebuffer_gb % s == 0)
        divisors = [s for s in range(1, self.framebuffer_gb + 1) if self.framebuffer_gb % s == 0]
        if series == 'C':
            return tuple(s for s in divisors if s >= 4)  # C-series minimum profile is 4 GB
        return tuple(divisors)

    def max_vgpus(self, size_gb):
        return min(self.framebuffer_gb // size_gb, MAX_VGPUS_PER_GPU)

    def default_vgpu_type(self):
        """The operator's ``default`` config: Q-series at half the framebuffer, two per GPU (seed 003);
        C-series for GPUs without Q types."""
        series = 'Q' if 'Q' in self.series else 'C'
        return '%s-%d%s' % (self.token, self.framebuffer_gb // 2, series)


MODELS = {
    'a2': GpuModel('A2', '25b6', 'GA107GL [A2 / A16]', 16, 'ampere', 'NVIDIA-A2'),
    'a10': GpuModel('A10', '2236', 'GA102GL [A10]', 24, 'ampere', 'NVIDIA-A10'),
    'a16': GpuModel('A16', '25b6', 'GA107GL [A2 / A16]', 16, 'ampere', 'NVIDIA-A16'),
    'a30': GpuModel('A30', '20b7', 'GA100GL [A30 PCIe]', 24, 'ampere', 'NVIDIA-A30', series='C'),
    'a40': GpuModel('A40', '2235', 'GA102GL [A40]', 48, 'ampere', 'NVIDIA-A40'),
    'a100': GpuModel('A100', '20f1', 'GA100 [A100 PCIe 40GB]', 40, 'ampere', 'NVIDIA-A100-PCIE-40GB', series='C'),
    'a100-80': GpuModel('A100D', '20b5', 'GA100 [A100 PCIe 80GB]', 80, 'ampere', 'NVIDIA-A100-80GB-PCIe', series='C'),
    'h100': GpuModel('H100', '2331', 'GH100 [H100 PCIe]', 80, 'hopper', 'NVIDIA-H100-PCIe', series='C'),
    'l4': GpuModel('L4', '27b8', 'AD104GL [L4]', 24, 'ada-lovelace', 'NVIDIA-L4'),
    'l40': GpuModel('L40', '26b5', 'AD102GL [L40]', 48, 'ada-lovelace', 'NVIDIA-L40'),
    'l40s': GpuModel('L40S', '26b9', 'AD102GL [L40S]', 48, 'ada-lovelace', 'NVIDIA-L40S', b_sizes=(1, 2, 3)),
    't4': GpuModel('T4', '1eb8', 'TU104GL [Tesla T4]', 16, 'turing', 'Tesla-T4'),
    'v100': GpuModel('V100', '1db4', 'GV100GL [Tesla V100 PCIe 16GB]', 16, 'volta', 'Tesla-V100-PCIE-16GB'),
}

_TIME_SLICED = re.compile(r'^(?P<gpu>[A-Z0-9]+)-(?P<size>\d+)(?P<series>[QBAC])$')
_MIG_BACKED = re.compile(r'^(?P<gpu>[A-Z0-9]+)-(?P<slices>\d+)-(?P<size>\d+)(?P<series>C)(ME|NOME|MEALL|GFX)?$')


def model(name):
    """The model for a ``--nodes`` spelling (``a10``, ``L40S``); KeyError names the known ones."""
    try:
        return MODELS[name.lower()]
    except KeyError:
        raise KeyError('unknown GPU model %r; known: %s' % (name, ', '.join(sorted(MODELS)))) from None


def resolve_vgpu_config(config, gpu):
    """What vgpu-device-manager does with the named config on a node with GPUs of model ``gpu``.

    Returns ``(vgpu_type, per_gpu)`` on success or raises ValueError with the reason the state goes to
    ``failed``. Config names in the operator's default ConfigMap are ``default`` and one per vGPU type, each
    creating the most instances of that type on every GPU (facts §5, seed 003). MIG-backed vGPUs are not
    supported with KubeVirt (seed 003, "MIG-backed vGPUs are not supported").
    """
    if config == 'default':
        vgpu_type = gpu.default_vgpu_type()
        return vgpu_type, 2
    if _MIG_BACKED.match(config):
        raise ValueError('MIG-backed vGPU type %s is not supported by the sandbox device plugin' % config)
    match = _TIME_SLICED.match(config)
    if not match:
        raise ValueError('no vGPU config named %r in the vgpu-device-manager ConfigMap' % config)
    if match.group('gpu') != gpu.token:
        raise ValueError('vGPU type %s is not offered by the %s GPUs of this node' % (config, gpu.token))
    size, series = int(match.group('size')), match.group('series')
    if size not in gpu.vgpu_sizes(series):
        raise ValueError('no vGPU config named %r in the vgpu-device-manager ConfigMap' % config)
    return config, gpu.max_vgpus(size)


def vgpu_resource(vgpu_type):
    """``A10-4Q`` -> ``nvidia.com/NVIDIA_A10-4Q``: the mdev type name ``NVIDIA A10-4Q`` with ``_`` for spaces [S8]."""
    return 'nvidia.com/NVIDIA_' + vgpu_type
