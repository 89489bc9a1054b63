# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vGPU catalog: type-name grammar, GPU table and placement rules (pure, no I/O).

Public API (other module_utils and the filters code against these names):

    parse(spelling, strict=True) -> VgpuType
    gpu_model(token_or_pci_id, subsystem_id=None) -> GpuModel;  gpu_models(token_or_pci_id, subsystem_id=None) -> [GpuModel]
    max_instances(vgpu_type_or_spelling, gpu=None, subsystem_id=None) -> int
    ARCHITECTURES {name: Architecture}: per-architecture rules (max vGPUs per GPU, mixed-size, MIG)
    check_fit(gpu, vgpu_types, mixed_size=False) -> FitResult(ok, reasons)
    remaining(gpu, existing_vgpu_types, mixed_size=False) -> {canonical: int}
    VgpuError (a ValueError)

See docs/catalog.md.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu.names import (  # noqa: F401
    MIG_SUFFIXES,
    PRODUCT_PREFIXES,
    SERIES,
    VgpuError,
    VgpuType,
    ecosystem_names,
    parse_name,
)
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu.gpus import (  # noqa: F401
    ARCHITECTURES,
    MAX_VGPUS_PER_GPU,
    Architecture,
    GpuModel,
    MigProfile,
    all_gpu_models,
    all_vgpu_type_names,
    gpu_model,
    gpu_models,
    max_instances,
    parse,
)
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu.placement import (  # noqa: F401
    FitResult,
    check_fit,
    count_types,
    mixed_size_limit,
    remaining,
)

__all__ = (
    'ARCHITECTURES', 'MAX_VGPUS_PER_GPU', 'MIG_SUFFIXES', 'PRODUCT_PREFIXES', 'SERIES',
    'Architecture', 'FitResult', 'GpuModel', 'MigProfile', 'VgpuError', 'VgpuType',
    'all_gpu_models', 'all_vgpu_type_names', 'check_fit', 'count_types', 'ecosystem_names', 'gpu_model',
    'gpu_models', 'max_instances', 'mixed_size_limit', 'parse', 'parse_name', 'remaining',
)
