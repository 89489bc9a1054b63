"""plugins/module_utils/args.py: one shared spec per doc fragment, merged one way."""
import importlib

import yaml

from ansible_collections.gpuvirt.core.plugins.module_utils import args


def test_each_shared_spec_matches_its_doc_fragment():
    for name, spec in args.SPECS.items():
        fragment, _dot, part = name.partition('.')
        module = importlib.import_module('ansible_collections.gpuvirt.core.plugins.doc_fragments.%s' % fragment)
        doc = yaml.safe_load(getattr(module.ModuleDocFragment, part or 'DOCUMENTATION'))
        assert set(doc['options']) == set(spec), name
        for option, entry in spec.items():
            assert doc['options'][option]['type'] == entry['type'], (name, option)
            assert doc['options'][option].get('default') == entry.get('default'), (name, option)


def test_argument_spec_merges_fragments_and_module_options():
    spec = args.argument_spec('vsphere', 'vsphere.HOST_SCOPE', timeout=dict(type='int', default=5), name=dict(type='str'))
    assert spec['timeout'] == {'type': 'int', 'default': 5} and 'cluster' in spec and 'password' in spec
    assert args.SPECS['vsphere']['timeout']['default'] == 600  # the shared spec is copied, never changed
    assert args.constraints('vsphere', 'vsphere.HOST_SCOPE') == {
        'required_one_of': [['cluster', 'esxi_hostname']], 'mutually_exclusive': [['cluster', 'esxi_hostname']]}


def test_secrets_are_no_log():
    assert args.SPECS['kube']['kubeconfig']['no_log'] and args.SPECS['kube']['api_key']['no_log']
    assert args.SPECS['vsphere']['password']['no_log']
