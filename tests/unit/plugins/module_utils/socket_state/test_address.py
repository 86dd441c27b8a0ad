"""Destination identities: merged, ranked and looked up as bytes, shown as text only at the end."""

import socket

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import address as _address
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import procnet as _procnet
from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import sockdiag as _sockdiag


def _v4(text, port):
    return _address.identity(2, socket.inet_pton(socket.AF_INET, text), port.to_bytes(2, "big"))


def _v6(text, port):
    return _address.identity(10, socket.inet_pton(socket.AF_INET6, text), port.to_bytes(2, "big"))


def test_identities_sort_by_address_numerically_then_port_ipv4_first():
    shuffled = [_v6("::1", 1), _v4("10.0.0.10", 80), _v6("2001:db8::1", 5432), _v4("10.0.0.9", 443),
                _v4("10.0.0.9", 80), _v4("9.255.255.255", 65535)]
    assert [_address.identity_endpoint(item) for item in sorted(shuffled)] == [
        ("9.255.255.255", 65535), ("10.0.0.9", 80), ("10.0.0.9", 443), ("10.0.0.10", 80), ("::1", 1),
        ("2001:db8::1", 5432)]


def test_an_ipv4_mapped_address_is_the_ipv4_destination():
    assert _v6("::ffff:192.0.2.1", 5432) == _v4("192.0.2.1", 5432)
    assert _address.identity_endpoint(_v6("::ffff:192.0.2.1", 5432)) == ("192.0.2.1", 5432)


@pytest.mark.parametrize("identity, loopback", [
    (_v4("127.0.0.1", 80), True), (_v4("127.255.0.9", 80), True), (_v6("::1", 80), True),
    (_v6("::ffff:127.0.0.2", 80), True), (_v4("128.0.0.1", 80), False), (_v6("::2", 80), False),
    (_v4("10.127.0.1", 80), False)])
def test_loopback(identity, loopback):
    assert _address.identity_is_loopback(identity) is loopback


def test_the_backends_agree_on_a_destination():
    # netlink key: destination port, source address (merged away), destination address
    key = (80).to_bytes(2, "big") + socket.inet_pton(socket.AF_INET6, "::ffff:10.0.0.7") + \
        socket.inet_pton(socket.AF_INET6, "::ffff:10.0.0.5")
    netlink = _sockdiag.destination_identity(10, key)
    assert netlink == _sockdiag.destination_identity(10, (key,)) == _procnet.destination_identity(2, "0500000A:0050")
    assert _sockdiag.destination_endpoint(netlink) == ("10.0.0.5", 80)


@pytest.mark.parametrize("key", ["ZZ:XX", "0100007F:FFFFF", "0100:0050", "no colon", "0100007F:\x00"])
def test_a_proc_key_no_kernel_writes_sorts_last_and_is_shown_as_read(key):
    identity = _procnet.destination_identity(2, key)
    assert identity > _v6("ffff::", 65535)
    address, port = _procnet.destination_endpoint(identity)
    assert port is None and address == _procnet.printable(key) and "\x00" not in address


def test_identities_in_bulk_are_the_identities_one_by_one():
    def v4_key(source, destination, port):
        # netlink IPv4 key: destination port, the 16-byte source field (4 used), the 4-byte destination
        return (port.to_bytes(2, "big") + socket.inet_pton(socket.AF_INET, source) + bytes(12)
                + socket.inet_pton(socket.AF_INET, destination))

    v4 = [v4_key("10.0.0.7", "10.0.0.5", 80), v4_key("10.0.0.8", "10.0.0.5", 80), v4_key("10.0.0.7", "192.0.2.1", 5432)]
    v4 = v4 + [(key,) for key in v4]  # live sockets' keys, and TIME_WAIT's 1-tuples
    v6 = [(80).to_bytes(2, "big") + socket.inet_pton(socket.AF_INET6, "::ffff:10.0.0.7")
          + socket.inet_pton(socket.AF_INET6, text) for text in ("::ffff:10.0.0.5", "2001:db8::1")]
    v6 = v6 + [(key,) for key in v6]
    for family, keys in ((2, v4), (10, v6)):
        assert _sockdiag.destination_identities(family, keys) == dict(
            (key, _sockdiag.destination_identity(family, key)) for key in keys)
    bulk = _sockdiag.destination_identities(2, v4)
    assert bulk[v4[0]] == bulk[v4[1]] == bulk[v4[3]] == _v4("10.0.0.5", 80) == _sockdiag.destination_identities(10, v6)[v6[0]]
    assert bulk[v4[2]] == _v4("192.0.2.1", 5432)
    proc = ["0500000A:0050", "ZZ:XX"]
    assert _procnet.destination_identities(2, proc) == dict((key, _procnet.destination_identity(2, key)) for key in proc)
