"""Which TCP connections this test process holds open, read from Linux's /proc."""

from __future__ import annotations

import os
from pathlib import Path

_PROC_NET = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_TIME_WAIT = "06"


def can_inspect_sockets() -> bool:
    return Path("/proc/self/fd").is_dir() and _PROC_NET[0].exists()


def _own_socket_inodes() -> set[str]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the fd closed while we looked
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def open_connections_to(port: int) -> int:
    """Count this process's TCP sockets whose remote end is ``port`` (in any live state)."""
    own = _own_socket_inodes()
    count = 0
    for table in _PROC_NET:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], fields[9]
            if inode in own and state != _TIME_WAIT and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count
