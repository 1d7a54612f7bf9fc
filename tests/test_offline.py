"""The test suite runs with the network cut (scripts/offline), proving nothing downloads."""
import os
import socket

import pytest


@pytest.mark.skipif(os.environ.get("PLAYML_OFFLINE") != "unshared",
                    reason="run through scripts/offline (make test) to cut the network")
def test_only_loopback_is_reachable():
    names = [name for _, name in socket.if_nameindex()]
    assert names == ["lo"], names
    with pytest.raises(OSError):
        socket.getaddrinfo("pypi.org", 443)
    s = socket.socket()
    s.settimeout(2)
    with pytest.raises(OSError):  # TEST-NET-1 address: unroutable with no interface but lo
        s.connect(("192.0.2.1", 80))
    s.close()


def test_ci_runs_offline():
    """In CI the suite must really be offline, not silently fall back."""
    if os.environ.get("CI"):
        assert os.environ.get("PLAYML_OFFLINE") == "unshared"
