"""Hold CLOSE_WAIT sockets under a process name that is not valid UTF-8.

Opens COUNT loopback connections, lets the peer side close each one (so the sockets kept here
sit in CLOSE_WAIT), renames this process to the bytes \\xff\\xfe plus a newline and an escape
character through /proc/self/comm, writes READY_FILE, then sleeps holding the sockets.
"""

import socket
import sys
import time

COUNT = int(sys.argv[1])
READY_FILE = sys.argv[2]

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(COUNT)
port = listener.getsockname()[1]
held = []
for _ in range(COUNT):
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _address = listener.accept()
    accepted.close()  # the peer closes: the client socket kept here goes to CLOSE_WAIT
    held.append(client)
listener.close()
with open("/proc/self/comm", "wb") as comm:
    comm.write(b"\xff\xfecw\n\x1b[2J")
with open(READY_FILE, "w") as ready:
    ready.write("%d\n" % port)
while True:
    time.sleep(3600)
