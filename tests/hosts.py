"""Worker "hosts" for the tests: Linux network namespaces, each joined to this machine by a veth
pair on a /30 of its own, with PostgreSQL and Redis reachable from it only at its host-side
address (relayed to the loopback services by this process). A process started in a namespace
sees nothing else: no loopback of this machine, no other route. Cutting a host off is taking its
link down; everything created is removed when the context ends.

Needs root (CAP_NET_ADMIN), as CI and the development machines run."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import re
import selectors
import socket
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

# Services the workers use, relayed from each host's gateway address to this machine's loopback.
RELAYED_PORTS = (5432, 6379)
SUBNETS = ipaddress.ip_network("10.231.0.0/16")


@dataclass
class Host:
    namespace: str
    link: str  # this machine's end of the veth pair
    address: str  # the host's own address, inside its namespace
    gateway: str  # this machine's address on the link: where the host finds PostgreSQL and Redis
    relays: list[socketserver.BaseServer] = field(default_factory=list)

    def command(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *argv]

    def cut_off(self) -> None:
        ip("link", "set", self.link, "down")


def ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)  # noqa: S603, S607 (iproute2)


class _Relay(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.target = target
        super().__init__(listen, _Pipe)


class _Pipe(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: _Relay = self.server  # type: ignore[assignment]
        with (
            contextlib.suppress(OSError),
            socket.create_connection(server.target) as upstream,
            selectors.DefaultSelector() as selector,
        ):
            selector.register(self.request, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, self.request)
            while True:
                for key, _ in selector.select():
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)


def _free_subnets(count: int) -> list[ipaddress.IPv4Network]:
    """Subnets no interface of this machine is on (another test run's hosts, say)."""
    listing = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True, check=True).stdout  # noqa: S607
    used = [ipaddress.ip_interface(found).network for found in re.findall(r"inet (\S+)", listing)]
    candidates = list(SUBNETS.subnets(new_prefix=30))
    random.shuffle(candidates)
    return [net for net in candidates if not any(net.overlaps(other) for other in used)][:count]


@contextlib.contextmanager
def worker_hosts(count: int = 2) -> Iterator[list[Host]]:
    tag = f"bw{os.getpid() % 100000}"
    hosts: list[Host] = []
    try:
        for index, subnet in enumerate(_free_subnets(count), start=1):
            gateway, address = (str(a) for a in list(subnet.hosts())[:2])
            host = Host(f"{tag}h{index}", f"{tag}h{index}a", address, gateway)
            hosts.append(host)
            ip("netns", "add", host.namespace)
            ip("link", "add", host.link, "type", "veth", "peer", "name", f"{tag}h{index}b")
            ip("link", "set", f"{tag}h{index}b", "netns", host.namespace)
            ip("addr", "add", f"{gateway}/30", "dev", host.link)
            ip("link", "set", host.link, "up")
            inside = ["-n", host.namespace]
            ip(*inside, "addr", "add", f"{address}/30", "dev", f"{tag}h{index}b")
            ip(*inside, "link", "set", f"{tag}h{index}b", "up")
            ip(*inside, "link", "set", "lo", "up")
            for port in RELAYED_PORTS:
                relay = _Relay((gateway, port), ("127.0.0.1", port))
                threading.Thread(target=relay.serve_forever, daemon=True).start()
                host.relays.append(relay)
        yield hosts
    finally:
        for host in hosts:
            for relay in host.relays:
                relay.shutdown()
                relay.server_close()
            # Deleting the namespace deletes the veth pair, both ends, and the addresses on them.
            with contextlib.suppress(subprocess.CalledProcessError):
                ip("netns", "delete", host.namespace)
            with contextlib.suppress(subprocess.CalledProcessError):
                ip("link", "delete", host.link)
