"""The Kubernetes test world's own tests: ``kube`` (the seeded world, reset for each test) and ``kube_factory``
(worlds with other options), started through the world's stable command line."""
from tests.integration.worlds.kube import kube, kube_factory, kube_session  # noqa: F401  pylint: disable=unused-import
