"""The affinity rules as pure functions: the ring, the load bound, the fall-through, the key."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botticelli.routing._affinity import Ring, affinity_order, load_bound, point_of, request_key
from botticelli_core import GenerateRequest, Message

NAMES = st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=8, unique=True)
KEYS = st.lists(st.binary(min_size=1, max_size=16), min_size=1, max_size=40)
FACTORS = st.floats(min_value=0.01, max_value=3.0)


def home(ring: Ring, names: list[str], key: bytes) -> str:
    return names[ring.walk(point_of(key))[0]]


@given(names=NAMES, keys=KEYS, data=st.data())
def test_a_replica_removed_moves_only_its_own_keys(names: list[str], keys: list[bytes], data: st.DataObject) -> None:
    gone = data.draw(st.sampled_from(names))
    rest = [n for n in names if n != gone]
    before, after = Ring(names), Ring(rest)
    for key in keys:
        was = home(before, names, key)
        now = home(after, rest, key)
        if was != gone:
            assert now == was
        else:
            # Its keys go to the next replica on the ring, not anywhere.
            assert now == names[before.walk(point_of(key))[1]]


@given(names=NAMES, keys=KEYS, data=st.data())
def test_a_replica_added_takes_keys_only_for_itself(names: list[str], keys: list[bytes], data: st.DataObject) -> None:
    new = data.draw(st.text(min_size=1, max_size=12).filter(lambda n: n not in names))
    before, after = Ring(names), Ring([*names, new])
    for key in keys:
        now = home(after, [*names, new], key)
        assert now in (new, home(before, names, key))


@given(names=NAMES)
def test_a_walk_meets_every_replica_once(names: list[str]) -> None:
    ring = Ring(names, virtual_nodes=3)
    for key in (b"a", b"b", b"c"):
        assert sorted(ring.walk(point_of(key))) == list(range(len(names)))


def test_repeated_names_are_distinct_replicas() -> None:
    ring = Ring(["a", "a", "b"])
    assert sorted(ring.walk(point_of(b"k"))) == [0, 1, 2]
    homes = {ring.walk(point_of(bytes([i])))[0] for i in range(200)}
    assert homes == {0, 1, 2}


def test_the_ring_spreads_keys_near_evenly_over_three_replicas() -> None:
    ring = Ring(["http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080"])
    counts = [0, 0, 0]
    for i in range(3000):
        counts[ring.walk(point_of(f"conversation-{i}".encode()))[0]] += 1
    # 64 points each: every share within a third of the fair 1000.
    assert all(667 < c < 1333 for c in counts), counts


def test_a_ring_needs_replicas_and_points() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Ring([])
    with pytest.raises(ValueError, match="at least 1"):
        Ring(["a"], virtual_nodes=0)


def test_points_are_the_same_in_another_process() -> None:
    # hash() would differ between interpreters (PYTHONHASHSEED); the ring must not.
    code = "from botticelli.routing._affinity import point_of; print(point_of(b'conversation'))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert int(out) == point_of(b"conversation")


@given(in_flight=st.integers(0, 10_000), replicas=st.integers(1, 64), factor=FACTORS)
def test_the_bound_is_the_average_raised_by_the_factor(in_flight: int, replicas: int, factor: float) -> None:
    bound = load_bound(in_flight, replicas, factor)
    assert bound >= 1
    assert bound >= (in_flight + 1) / replicas  # room for the new request somewhere
    assert bound <= math.ceil((1 + factor) * (in_flight + 1) / replicas)


@given(
    loads=st.lists(st.integers(0, 20), min_size=1, max_size=8),
    data=st.data(),
    factor=FACTORS,
)
def test_no_replica_goes_above_its_bound_while_another_has_room(
    loads: list[int], data: st.DataObject, factor: float
) -> None:
    n = len(loads)
    walk = data.draw(st.permutations(range(n)))
    available = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    order = affinity_order(walk, loads, available, factor)
    assert sorted(order) == list(range(n))
    up = [i for i in range(n) if available[i]]
    if not up:
        assert order == list(walk)
        return
    bound = load_bound(sum(loads[i] for i in up), len(up), factor)
    chosen = order[0]
    # Some available replica is always under the bound, and the choice is one of them:
    # the first such on the ring.
    assert available[chosen]
    assert loads[chosen] < bound
    assert chosen == next(i for i in walk if available[i] and loads[i] < bound)


@given(keys=st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=200), factor=FACTORS)
def test_requests_that_all_stay_in_flight_never_exceed_the_bound(keys: list[bytes], factor: float) -> None:
    # Every request stays in flight: the worst case for a hot key, which must still spill over.
    ring = Ring(["a", "b", "c", "d"])
    loads = [0, 0, 0, 0]
    for key in keys:
        bound = load_bound(sum(loads), 4, factor)
        chosen = affinity_order(ring.walk(point_of(key)), loads, [True] * 4, factor)[0]
        loads[chosen] += 1
        assert loads[chosen] <= bound


@given(names=NAMES, keys=KEYS, data=st.data())
def test_an_ejected_home_falls_through_to_the_next_replica_on_the_ring(
    names: list[str], keys: list[bytes], data: st.DataObject
) -> None:
    ejected = data.draw(st.sampled_from(range(len(names))))
    ring = Ring(names)
    available = [i != ejected for i in range(len(names))]
    without = Ring([n for i, n in enumerate(names) if i != ejected])
    rest = [n for i, n in enumerate(names) if i != ejected]
    for key in keys:
        walk = ring.walk(point_of(key))
        order = affinity_order(walk, [0] * len(names), available, 0.25)
        # Exactly where the key would live were the replica removed; the ejected one is tried last.
        assert names[order[0]] == home(without, rest, key)
        assert order[-1] == ejected
        if walk[0] != ejected:
            assert order[0] == walk[0]


def test_an_idle_pool_sends_every_key_home() -> None:
    assert affinity_order([1, 2, 0], [0, 0, 0], [True] * 3, 0.25) == [1, 2, 0]


def test_a_full_home_passes_its_request_on_and_is_tried_after_those_with_room() -> None:
    # Five in flight over three: the bound is ceil(1.25 * 6 / 3) = 3.
    assert load_bound(5, 3, 0.25) == 3
    assert affinity_order([1, 2, 0], [1, 3, 1], [True] * 3, 0.25) == [2, 0, 1]


# -- the key -----------------------------------------------------------------------------------

SYSTEM = Message.system("You are a careful assistant. " * 20)


def conversation(opening: str, turns: int) -> GenerateRequest:
    messages = [SYSTEM, Message.user(opening)]
    for turn in range(turns):
        messages += [Message.assistant(f"answer {turn}"), Message.user(f"follow-up {turn}")]
    return GenerateRequest(messages=messages)


def test_every_turn_of_a_conversation_has_the_key_of_the_first() -> None:
    keys = {request_key(conversation("Plan a trip to Rome.", turns)) for turns in range(6)}
    assert len(keys) == 1


def test_conversations_under_one_system_prompt_have_different_keys() -> None:
    assert request_key(conversation("Plan a trip to Rome.", 0)) != request_key(conversation("Write a poem.", 0))


def test_a_different_system_prompt_is_a_different_key() -> None:
    one = GenerateRequest(messages=[Message.system("Be brief."), Message.user("Hi")])
    other = GenerateRequest(messages=[Message.system("Be verbose."), Message.user("Hi")])
    assert request_key(one) != request_key(other)


def test_a_session_overrides_the_messages() -> None:
    one = conversation("Plan a trip to Rome.", 0).model_copy(update={"session": "user-7"})
    other = conversation("Write a poem.", 3).model_copy(update={"session": "user-7"})
    assert request_key(one) == request_key(other) == b"session:user-7"


def test_message_boundaries_count() -> None:
    joined = GenerateRequest(messages=[Message.system("ab"), Message.user("c")])
    split = GenerateRequest(messages=[Message.system("a"), Message.system("b"), Message.user("c")])
    assert request_key(joined) != request_key(split)


def test_a_request_without_a_user_message_is_keyed_by_all_of_it() -> None:
    one = GenerateRequest(messages=[Message.system("Summarise.")])
    two = GenerateRequest(messages=[Message.system("Summarise."), Message.assistant("Sure")])
    assert request_key(one) != request_key(two)
