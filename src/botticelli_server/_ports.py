"""Who holds a TCP port: is it free before a server starts, and is our server the one listening after.

The second question is answered from Linux's ``/proc`` (``/proc/net/tcp*`` list the
listening sockets, ``/proc/<pid>/fd`` who holds them); elsewhere it has no answer, and
the launcher relies on the port having been free and its child still running.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from pathlib import Path

__all__ = ["find_free_port", "foreign_listener", "port_in_use"]

_PROC = Path("/proc")
_LISTEN = "0A"  # the TCP state code of a listening socket in /proc/net/tcp
_CONNECT_PROBE_TIMEOUT = 1.0


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def find_free_port(host: str = "127.0.0.1") -> int:
    """Ask the OS for a TCP port that is free on ``host`` right now.

    Args:
        host: The address the port must be free on.

    Returns:
        A port number. Another process could take it before the server binds it,
        which is rare enough on a loopback address to accept.

    Examples:
        >>> 0 < find_free_port() < 65536
        True
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(host: str, port: int) -> bool:
    """Whether another process already listens on ``host:port`` (so a server started there would fail).

    Two probes: binding the address as a server would (with ``SO_REUSEADDR``, so
    connections of an earlier run in ``TIME_WAIT`` do not count), and connecting to it
    (which also sees a listener bound with ``SO_REUSEPORT``, or one that a port
    forwarder answers for).

    Args:
        host: The address the server will listen on.
        port: The port it will listen on.

    Examples:
        >>> with socket.socket() as taken:
        ...     taken.bind(("127.0.0.1", 0))
        ...     taken.listen()
        ...     port_in_use("127.0.0.1", taken.getsockname()[1])
        True
        >>> port_in_use("127.0.0.1", find_free_port())
        False
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            # Any other error is not ours to judge (an address of another machine, say): the server reports it.
            return exc.errno == errno.EADDRINUSE
    connect_to = "::1" if host == "::" else "127.0.0.1" if host == "0.0.0.0" else host  # noqa: S104
    with socket.socket(_family(connect_to), socket.SOCK_STREAM) as sock:
        sock.settimeout(_CONNECT_PROBE_TIMEOUT)
        try:
            sock.connect((connect_to, port))
        except OSError:
            return False
        return True


def foreign_listener(port: int, *, group: int, started_before: float) -> int | None:
    """The pid of a process outside ``group`` that listens on ``port`` and is older than our server.

    A process that listened there before our server started cannot be one it spawned, so
    when one holds the port, it is that process, not ours, that answers. (A process our
    server started later, in another session, such as a container runtime's port proxy,
    is not reported.)

    Args:
        port: The TCP port, on any local address.
        group: Our server's process group; its processes are ours.
        started_before: Our server's start, as a ``time.time()`` timestamp.

    Returns:
        The pid, or ``None`` when no such process is found, or this system has no
        ``/proc`` to tell.
    """
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    boot, ticks = _boot_time(), os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid_dir in _PROC.glob("[0-9]*"):
        stat = _stat_fields(pid_dir)
        if stat is None or int(stat[2]) == group:
            continue
        if not inodes & _socket_inodes(pid_dir):
            continue
        started = boot + int(stat[19]) / ticks if boot is not None else None
        # The boot time is whole seconds: only a clear second older counts.
        if started is not None and started < started_before - 1.0:
            return int(pid_dir.name)
    return None


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (_PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def _stat_fields(pid_dir: Path) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name (which may hold spaces): state, ppid, pgrp, ..."""
    try:
        return (pid_dir / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _socket_inodes(pid_dir: Path) -> set[str]:
    found: set[str] = set()
    with contextlib.suppress(OSError):  # another user's process: its descriptors are not ours to read
        for fd in (pid_dir / "fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    found.add(target[len("socket:[") : -1])
    return found


def _boot_time() -> float | None:
    with contextlib.suppress(OSError, ValueError):
        for line in (_PROC / "stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    return None
