"""A loopback client for the tuning_profiles scenario that keeps outbound TIME_WAIT around.

Its server listens on 127.0.0.1:9000 and closes only after the client's FIN, so the client side
closes first and holds the TIME_WAIT; 20 connections a second keep about 1200 at any time.
"""

import socket
import threading
import time

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 9000))
server.listen(128)


def serve():
    while True:
        conn, _peer = server.accept()
        conn.recv(1)  # returns at the client's FIN: the client closed first
        conn.close()


threading.Thread(target=serve, daemon=True).start()
while True:
    for _ in range(20):
        socket.create_connection(("127.0.0.1", 9000)).close()
    time.sleep(1)
