"""Cache affinity for replica pools: a hash ring with bounded loads, as pure functions.

A local inference server keeps the KV cache of the prompts it has seen (llama.cpp reuses
the longest common prefix of a slot's last prompt), so each turn of a conversation is
cheapest on the replica that served the turn before. Requests are keyed (:func:`request_key`)
and the key is placed on a ring of virtual nodes (:class:`Ring`): the first replica met
walking clockwise from the key is its home. Adding or removing a replica moves only the
keys whose home it is or becomes (consistent hashing).

A home that is too busy passes the request on ("consistent hashing with bounded loads",
Mirrokni, Thorup and Zadimoghaddam, 2016): no replica takes a request while it has
``bound`` or more in flight, ``bound = ceil((1 + e) * (in_flight + 1) / n)`` over the ``n``
replicas that can take requests. Some replica is always under that bound, so a busy home
costs a cache miss, never a queue behind one hot conversation.

Everything here is deterministic: :func:`hashlib.blake2b`, not :func:`hash`, whose value
changes with every interpreter (``PYTHONHASHSEED``), so two processes (or a restarted
one) place the same conversation on the same replica.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_left
from collections.abc import Sequence

from botticelli_core import GenerateRequest, Role

__all__ = ["VIRTUAL_NODES", "Ring", "affinity_order", "load_bound", "point_of", "request_key"]

VIRTUAL_NODES = 64
"""Points per replica on the ring: with 64, each of a few replicas owns close to 1/n of the
keys (the spread of one replica's share shrinks as the square root of the points)."""


def point_of(data: bytes) -> int:
    """Where ``data`` sits on the ring: a stable 64-bit hash (the same in every process).

    Examples:
        >>> point_of(b"conversation-1") == point_of(b"conversation-1")
        True
        >>> 0 <= point_of(b"x") < 2**64
        True
    """
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class Ring:
    """The replicas' virtual nodes, sorted by their points.

    Each replica's points depend on its name alone, never on its position in the list, so a
    replica added or removed leaves every other replica's points where they were. Names
    that repeat are told apart by how often they came before (``"a"``, then ``"a#2"``).

    Args:
        names: The replicas' names, in the pool's order.
        virtual_nodes: Points per replica.

    Raises:
        ValueError: No name, or ``virtual_nodes`` below 1.

    Examples:
        >>> ring = Ring(["http://a:8080", "http://b:8080", "http://c:8080"])
        >>> walk = ring.walk(point_of(b"session:alice"))
        >>> sorted(walk)
        [0, 1, 2]
        >>> walk == ring.walk(point_of(b"session:alice"))
        True
    """

    def __init__(self, names: Sequence[str], virtual_nodes: int = VIRTUAL_NODES) -> None:
        if not names:
            raise ValueError("a ring needs at least one replica")
        if virtual_nodes < 1:
            raise ValueError(f"virtual_nodes must be at least 1, not {virtual_nodes}")
        self.size = len(names)
        seen: dict[str, int] = {}
        nodes: list[tuple[int, int]] = []
        for index, name in enumerate(names):
            seen[name] = seen.get(name, 0) + 1
            label = name if seen[name] == 1 else f"{name}#{seen[name]}"
            nodes.extend(
                (point_of(f"{label}\x00{v}".encode("utf-8", "surrogatepass")), index) for v in range(virtual_nodes)
            )
        # Ties between points (astronomically rare with 64 bits) are broken by position, so the
        # order is still total and the same in every process.
        nodes.sort()
        self._points = [point for point, _ in nodes]
        self._owners = [index for _, index in nodes]

    def walk(self, point: int) -> list[int]:
        """Every replica's position, in the order met walking clockwise from ``point``.

        The first is the key's home; the rest are where it goes when the ones before cannot
        take it, so a replica that leaves hands its keys to the next ones on the ring only.
        """
        start = bisect_left(self._points, point)
        order: list[int] = []
        seen: set[int] = set()
        count = len(self._owners)
        for step in range(count):
            owner = self._owners[(start + step) % count]
            if owner not in seen:
                seen.add(owner)
                order.append(owner)
                if len(order) == self.size:
                    break
        return order


def load_bound(in_flight: int, replicas: int, load_factor: float) -> int:
    """The most requests one replica may have in flight before a new one passes it by.

    ``ceil((1 + load_factor) * (in_flight + 1) / replicas)``: the average load once the new
    request is counted, raised by the load factor. At least 1, so an idle pool always
    sends a key to its home.

    Args:
        in_flight: Requests in flight on the replicas that can take requests.
        replicas: How many replicas can take requests (at least 1).
        load_factor: ``e`` above; greater than 0.

    Examples:
        >>> load_bound(0, 3, 0.25)
        1
        >>> load_bound(11, 3, 0.25)
        5
    """
    # The small tolerance keeps a bound that is exactly an integer (1.25 * 4 / 5 = 1.0) from
    # being rounded up by a float error.
    return max(1, math.ceil((1 + load_factor) * (in_flight + 1) / replicas - 1e-9))


def affinity_order(
    walk: Sequence[int], loads: Sequence[int], available: Sequence[bool], load_factor: float
) -> list[int]:
    """The order to try the replicas for one key: the first in ``walk`` that can take it, then the rest.

    A replica can take the request when it is ``available`` (not ejected) and has fewer than
    :func:`load_bound` requests in flight; the bound is over the available replicas only.
    Those come first, in ring order; then the available ones at their bound, then the
    unavailable ones (a request that fails everywhere else still tries them, as every
    router does when all breakers are open).

    Args:
        walk: Positions in ring order from the key (:meth:`Ring.walk`).
        loads: Requests in flight, by position.
        available: Whether each position can take requests, by position.
        load_factor: The ``e`` of :func:`load_bound`.

    Examples:
        >>> affinity_order([2, 0, 1], loads=[0, 0, 0], available=[True, True, True], load_factor=0.25)
        [2, 0, 1]
        >>> affinity_order([2, 0, 1], loads=[0, 0, 3], available=[True, True, True], load_factor=0.25)
        [0, 1, 2]
        >>> affinity_order([2, 0, 1], loads=[0, 0, 0], available=[True, True, False], load_factor=0.25)
        [0, 1, 2]
    """
    up = [i for i in walk if available[i]]
    bound = load_bound(sum(loads[i] for i in up), max(1, len(up)), load_factor)
    room = [i for i in up if loads[i] < bound]
    full = [i for i in up if loads[i] >= bound]
    down = [i for i in walk if not available[i]]
    return room + full + down


def request_key(request: GenerateRequest) -> bytes:
    """The key a request is placed by: its ``session``, else the start every turn shares.

    Without a session, the key is the leading messages up to and including the first user
    message (the system prompt and the conversation's opening question, or only the
    question), or every message when there is no user message. Each later turn of a
    conversation repeats those messages and appends to them, so every turn has the key of
    the first; two conversations that open differently get different keys even under one
    long system prompt. Keyed by the system prompt alone, every conversation of an
    application would share one home.

    Examples:
        >>> from botticelli_core import Message
        >>> first = GenerateRequest(messages=[Message.system("Be brief."), Message.user("Hi")])
        >>> later = GenerateRequest(
        ...     messages=[*first.messages, Message.assistant("Hello!"), Message.user("How are you?")]
        ... )
        >>> request_key(first) == request_key(later)
        True
        >>> request_key(first.model_copy(update={"session": "alice"}))
        b'session:alice'
    """
    if request.session is not None:
        return b"session:" + request.session.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(digest_size=16)
    for message in request.messages:
        # One JSON document per message, each closed by a byte JSON never contains: the
        # messages ["ab"] and ["a", "b"] must not hash alike.
        digest.update(message.model_dump_json().encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
        if message.role is Role.USER:
            break
    return b"prefix:" + digest.digest()
