"""The test worlds' start helper: a port picked free may be taken before the world binds it; the world is started
again on a fresh port then, and only then."""
import pytest

from tests.integration.worlds import start_on_a_free_port


def _starts(*outcomes):
    ports = []
    answers = iter(outcomes)

    def start(port):
        ports.append(port)
        returncode, output = next(answers)
        return returncode, output, ('world', port)
    return start, ports


def test_a_taken_port_is_replaced_by_a_fresh_one():
    start, ports = _starts((1, 'listen tcp 127.0.0.1:1: bind: address already in use'), (0, 'ready'))
    assert start_on_a_free_port(start, 'world') == ('world', ports[-1])
    assert len(ports) == 2 and all(ports)


def test_another_failure_is_not_retried_and_names_the_world():
    start, ports = _starts((1, 'etcd exited'), (0, 'ready'))
    with pytest.raises(RuntimeError, match='^the world did not start: etcd exited$'):
        start_on_a_free_port(start, 'the world')
    assert len(ports) == 1


def test_it_gives_up_after_the_attempts():
    start, ports = _starts(*[(1, 'something already answers on 127.0.0.1:5')] * 3)
    with pytest.raises(RuntimeError, match='already answers'):
        start_on_a_free_port(start, 'w', attempts=3)
    assert len(ports) == 3
