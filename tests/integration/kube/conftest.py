"""The Kubernetes tests: the Kubernetes test world (a real kube-apiserver) started and stopped through its stable
command line (``kube``, ``kube_factory``, from tests/integration/worlds/kube.py), and ansible-playbook runs with
text output: ``playbook(play_text, kube)``, the results being what the play saves to ``result_file``."""
from tests.integration.worlds.kube import kube, kube_factory, kube_session  # noqa: F401  pylint: disable=unused-import
