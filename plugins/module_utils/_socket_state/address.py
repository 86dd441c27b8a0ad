# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address families and the text of a socket address, shared by both socket backends.

An IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) is shown as the IPv4 address it carries, so
a destination reached over both families is one destination. A destination is merged, ranked and
looked up as its ``identity`` (a few bytes) and turned into text only when it is shown. Standard library only; uses the
``_socket`` C module directly, which costs nothing to import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import _socket

AF_INET = 2
AF_INET6 = 10
_MAPPED_PREFIX = b"\0" * 10 + b"\xff\xff"


def address_text(family, packed):
    """Text form of a packed address in network byte order, 16 bytes for IPv6, 4 for IPv4;
    ``ValueError`` for any other length."""
    if family == AF_INET6:
        if packed[:12] == _MAPPED_PREFIX:
            return _socket.inet_ntop(_socket.AF_INET, packed[12:])
        return _socket.inet_ntop(_socket.AF_INET6, packed)
    return _socket.inet_ntop(_socket.AF_INET, packed)


_LOOPBACK6 = b"\x10" + b"\0" * 15 + b"\x01"


def identity(family, packed, port_bytes):
    """A destination as bytes that sort as address, then port: the address length (4 or 16), the packed
    address (IPv4-mapped IPv6 as IPv4), the port in network byte order."""
    if family == AF_INET6 and packed[:12] == _MAPPED_PREFIX:
        packed = packed[12:]
    return bytes((len(packed),)) + packed + port_bytes


def identity_endpoint(destination):
    """(address text, port) of an ``identity``."""
    size = destination[0]
    return (_socket.inet_ntop(_socket.AF_INET if size == 4 else _socket.AF_INET6, destination[1:1 + size]),
            (destination[1 + size] << 8) | destination[2 + size])


def identity_is_loopback(destination):
    """127.0.0.0/8 or ::1."""
    return destination[:2] == b"\x04\x7f" or destination[:17] == _LOOPBACK6
