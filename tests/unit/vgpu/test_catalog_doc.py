"""docs/catalog.md shows the catalog as it is: its GPU tables and examples are checked against the code."""
import os
import re

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import all_gpu_models, check_fit, gpu_model, max_instances, remaining

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'docs', 'catalog.md')


def doc_gpu_rows():
    """{GPU: {column: cell}} from every markdown table of the doc whose first header is 'GPU'."""
    rows = {}
    header = None
    with open(DOC) as handle:
        for line in handle:
            cells = [c.strip() for c in line.strip().strip('|').split('|')] if line.startswith('|') else None
            if not cells:
                header = None
            elif cells[0] == 'GPU':
                header = cells
            elif header and not set(cells[0]) <= set('-'):
                rows[cells[0]] = dict(zip(header, cells))
    return rows


def expected_cell(model, column):
    entries = []
    for vtype in model.vgpu_types():
        if column == 'MIG' and vtype.mig:
            entries.append('%d-%d%s%s:%d' % (vtype.slices, vtype.gb, vtype.series, vtype.suffix, vtype.max_instances))
        elif column != 'MIG' and not vtype.mig and vtype.series == column:
            entries.append('%d:%d' % (vtype.gb, vtype.max_instances))
    return ' '.join(entries) or '-'


def test_doc_tables_match_the_catalog():
    rows = doc_gpu_rows()
    assert set(rows) == {m.name for m in all_gpu_models()}
    for model in all_gpu_models():
        row = rows[model.name]
        assert row['PCI id'] == model.device_ids_hex[0]
        assert int(row['decimal']) == model.device_ids[0]
        assert int(row['FB GB']) * 1024 == model.framebuffer_mib
        assert row['SR-IOV'].startswith('yes' if model.sriov else 'no')
        assert ('%d VFs' % model.max_vfs in row['SR-IOV']) if model.max_vfs else ('VFs' not in row['SR-IOV'])
        for column in ('Q', 'B', 'A', 'C', 'MIG'):
            if column in row:
                assert row[column] == expected_cell(model, column), (model.name, column)


def test_doc_api_examples():
    with open(DOC) as handle:
        text = handle.read()
    assert "remaining('A10', ['A10-8Q'])                  # {'A10-8Q': 2, 'A10-8A': 2, 'A10-8C': 2}" in text
    assert remaining('A10', ['A10-8Q']) == {'A10-8Q': 2, 'A10-8A': 2, 'A10-8C': 2}
    assert check_fit('A10', {'A10-4Q': 4, 'A10-4C': 2}).ok
    assert max_instances('A10-4Q', gpu='L40S') == 0
    assert gpu_model('0x223610DE').max_instances('nvidia.com/NVIDIA_A10-4Q') == 6
    for reason in (check_fit('A10', ['A10-4Q'] * 4 + ['A10-4C'] * 3).reasons + check_fit('A10', ['A10-4Q', 'A10-8Q']).reasons
                   + check_fit('A100', ['A100-4C', 'A100-3-20C']).reasons + check_fit('A100', ['A100-4-20C', 'A100-3-20C', 'A100-1-5C']).reasons[:1]):
        assert reason in text, reason
    assert re.search(r"did you mean A10-4Q", text)
