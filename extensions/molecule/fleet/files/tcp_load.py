"""Planted TCP load for the fleet scenario. Loopback only, inside the test container.

timewait:  a listener on 127.0.0.1:PORT and a client that keeps about COUNT outbound TIME_WAIT
           sockets toward it (it tops up from /proc/net/sockstat as the old ones expire).
closewait: a process named COMM that accepts COUNT connections on 127.0.0.1:PORT and never closes
           them; the peers close, so COUNT CLOSE_WAIT sockets stay held by COMM.
"""

import argparse
import selectors
import socket
import threading
import time


def sockstat_tw():
    with open("/proc/net/sockstat") as handle:
        for line in handle:
            if line.startswith("TCP:"):
                fields = line.split()
                return int(fields[fields.index("tw") + 1])
    return 0


def listener(port):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(4096)
    return server


def serve_and_close(server):
    """Accept, greet, wait for the client's FIN, close: the client closes first and keeps the TIME_WAIT.

    The greeting makes the client wait until its connection is accepted, so no closed connection
    ever waits in the accept queue (where it would show up as an ownerless CLOSE_WAIT).
    """
    poller = selectors.DefaultSelector()
    poller.register(server, selectors.EVENT_READ)
    while True:
        for key, dummy_mask in poller.select():
            if key.fileobj is server:
                conn = server.accept()[0]
                conn.sendall(b"x")
                poller.register(conn, selectors.EVENT_READ)
            elif not key.fileobj.recv(64):
                poller.unregister(key.fileobj)
                key.fileobj.close()


def time_wait(port, count, fill_seconds=20.0):
    """Keep about COUNT TIME_WAIT. The first fill is spread over FILL_SECONDS so that the sockets
    do not all expire in the same instant 60 s later."""
    server = listener(port)
    threading.Thread(target=serve_and_close, args=(server,), daemon=True).start()
    started = time.time()
    while True:
        target = min(count, int(count * (time.time() - started) / fill_seconds))
        missing = target - sockstat_tw()
        for dummy in range(max(0, min(missing, 200))):
            client = socket.create_connection(("127.0.0.1", port))
            client.recv(1)
            client.close()
        time.sleep(0.1)


def close_wait(port, count, comm):
    with open("/proc/self/comm", "w") as handle:
        handle.write(comm)
    server = listener(port)
    held = []
    clients = [socket.create_connection(("127.0.0.1", port)) for dummy in range(count)]
    for dummy in range(count):
        held.append(server.accept()[0])  # never closed: the leak
    for client in clients:
        client.close()
    while True:
        time.sleep(3600)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["timewait", "closewait"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--comm", default="leaky-server")
    args = parser.parse_args()
    if args.mode == "timewait":
        time_wait(args.port, args.count)
    else:
        close_wait(args.port, args.count, args.comm)


if __name__ == "__main__":
    main()
