"""The test worlds as the integration and emulator tests drive them (plain modules, not conftests): ``sysfs`` (the
sysfs emulator), ``kube`` (the Kubernetes test world) and ``vsphere`` (vcsim-gpu). Each holds the helpers that start
and stop its world through the world's stable command line and the pytest fixtures built on them; a conftest that
needs a fixture imports it from here."""
import socket


PORT_TAKEN = ('address already in use', 'already answers on')  # a server's bind error; the kube world's own check


def free_port():
    """A TCP port on 127.0.0.1 that is free now (the worlds listen on 127.0.0.1 only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start_on_a_free_port(start, what, attempts=3):
    """``start(port)`` -> ``(returncode, output, value)`` on a port picked free; again on a fresh port when the
    one picked was taken before the world bound it, ``attempts`` times in all."""
    output = ''
    for _attempt in range(attempts):
        returncode, output, value = start(free_port())
        if returncode == 0:
            return value
        if not any(taken in output for taken in PORT_TAKEN):
            break
    raise RuntimeError('%s did not start: %s' % (what, output))
