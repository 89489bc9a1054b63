"""The test worlds as the integration and emulator tests drive them (plain modules, not conftests): ``sysfs`` (the
sysfs emulator), ``kube`` (the Kubernetes test world) and ``vsphere`` (vcsim-gpu). Each holds the helpers that start
and stop its world through the world's stable command line and the pytest fixtures built on them; a conftest that
needs a fixture imports it from here."""
import socket


def free_port():
    """A TCP port on 127.0.0.1 that is free now (the worlds listen on 127.0.0.1 only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
