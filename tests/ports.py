"""Free loopback ports for servers the tests start."""
import os
import random
import socket
import time

# Ports a child process binds later are taken below the kernel's ephemeral range
# (net.ipv4.ip_local_port_range, 32768-60999 by default): an outgoing connection
# (to a TCP proxy, RabbitMQ, PostgreSQL...) made meanwhile can take any port in that
# range, and then the child's bind fails with "address already in use".
LISTEN_PORTS = range(20000, 32000)


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(block: int = 1) -> int:
    """The first of ``block`` consecutive free ports outside the ephemeral range."""
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        first = rng.randrange(LISTEN_PORTS.start, LISTEN_PORTS.stop - block)
        if all(_bindable(port) for port in range(first, first + block)):
            return first
    raise RuntimeError("no free block of %d ports" % block)
