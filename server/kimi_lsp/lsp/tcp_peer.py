"""Which local user a loopback TCP peer runs as (Linux: the kernel's socket table in /proc)."""

from __future__ import annotations

import os
from pathlib import Path

PROC_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def peer_uid(peer_port: int, our_port: int, tables: tuple[Path, ...] = PROC_TABLES) -> int | None:
    """The uid owning the socket whose local port is `peer_port` and remote port `our_port`
    (the client's end of a loopback connection to us), or None when it cannot be told.

    Only a loopback peer has its end in this machine's table; ports are matched, not
    addresses, because the table's address bytes are in host order and the two ports of one
    loopback connection already name it."""
    want = (f"{peer_port:04X}", f"{our_port:04X}")
    for table in tables:
        try:
            lines = table.read_text(encoding="ascii", errors="replace").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 8:
                continue
            local, remote = fields[1].rpartition(":")[2], fields[2].rpartition(":")[2]
            if (local, remote) == want and fields[7].isdigit():
                return int(fields[7])
    return None


def foreign_user(peer_port: int, our_port: int, tables: tuple[Path, ...] = PROC_TABLES) -> bool:
    """Whether the peer is known to run as another user than this process (root included:
    the key is this user's, not the machine's)."""
    uid = peer_uid(peer_port, our_port, tables)
    return uid is not None and uid != os.getuid()
