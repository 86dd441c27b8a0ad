"""A service for the tuning_profiles scenario: listens on every port given, accepts nothing, runs until killed."""

import socket
import sys
import time

socks = []
for port in sys.argv[1:]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", int(port)))
    sock.listen(16)
    socks.append(sock)
time.sleep(10 ** 7)
