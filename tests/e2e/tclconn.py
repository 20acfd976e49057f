# SPDX-License-Identifier: GPL-2.0-only
"""A loopback connection from the test process to its own listener, with
known bytes each way and closed in a known way: what the --top and the
lifecycle (-l, -A) tests check the tool against."""
import socket
import struct
import time

import tcltest


def recv_exactly(sock, n):
    got = 0
    while got < n:
        chunk = sock.recv(min(65536, n - got))
        assert chunk, "the peer closed after %d of %d bytes" % (got, n)
        got += len(chunk)


# offsets in struct tcp_info (linux/tcp.h), stable since Linux 4.6
TCP_INFO_FIELDS = {"total_retrans": (100, "I"), "bytes_acked": (120, "Q"),
                   "bytes_received": (128, "Q"), "segs_out": (136, "I"),
                   "segs_in": (140, "I"), "min_rtt": (148, "I")}


def tcp_info(sock):
    """What the kernel says of a socket, the fields the close records carry."""
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 192)
    return {k: struct.unpack_from("=" + f, raw, off)[0]
            for k, (off, f) in TCP_INFO_FIELDS.items()}


def thread_comm(tid):
    with open("/proc/self/task/%d/comm" % tid) as f:
        return f.read().rstrip("\n")


class Conn:
    """Connected, accepted, and to_server then to_client bytes exchanged;
    open until close()."""

    def __init__(self, listeners, fam, to_server, to_client):
        self.fam = fam
        self.host = "127.0.0.1" if fam == 4 else "::1"
        self.to_server, self.to_client = to_server, to_client
        self.listener = listeners.one(self.host)
        self.c = tcltest.connect(fam, self.host, self.listener.port)
        assert self.c["errno"] is None, "connect to our own listener: %s" % self.c["errno"]
        self.client = self.c["_sock"]
        self.server = self._accepted()
        self.t_accepted = time.time()
        self.client.sendall(b"c" * to_server)
        recv_exactly(self.server, to_server)
        self.server.sendall(b"s" * to_client)
        recv_exactly(self.client, to_client)
        self.t_done = time.time()
        # the process an accept record names: the listener's accepting thread
        self.accept_tid = self.listener.thread.native_id
        self.accept_comm = thread_comm(self.accept_tid)

    def _accepted(self):
        want = (tcltest.canon(self.c["saddr"]), self.c["sport"])
        found = []

        def ready():
            for s in list(self.listener.conns):
                peer = s.getpeername()
                if (tcltest.canon(peer[0]), peer[1]) == want:
                    found.append(s)
                    return True
            return False
        tcltest.wait_until(ready, 10, "the listener to accept %s:%s" % want)
        return found[0]

    def close(self, first="client"):
        """first: "client" sends its FIN first, the server closes on
        seeing it; "server" the other way round; "reset": the server
        aborts (RST), the client sees the reset, then closes. The
        kernel's own counters of each end are kept from just before."""
        self.info_client = tcp_info(self.client)
        self.info_server = tcp_info(self.server)
        self.t_close = time.time()
        if first == "client":
            self.client.close()
            assert self.server.recv(1) == b"", "the client's FIN"
            self.server.close()
        elif first == "server":
            self.server.close()
            assert self.client.recv(1) == b"", "the server's FIN"
            self.client.close()
        elif first == "reset":
            self.server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.server.close()
            try:
                got = self.client.recv(1)
            except ConnectionResetError:
                got = None
            assert got is None, "expected a reset, got %r" % got
            self.client.close()
        else:
            raise ValueError(first)
        self.t_closed = time.time()
