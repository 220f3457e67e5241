"""``EmbedResponse`` and ``TokenCount``: rectangular vectors, numpy only on demand."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from typing import Any

import pytest

from botticelli_core import EmbedResponse, TokenCount, Usage
from botticelli_error import ConfigurationError


def test_vectors_keep_their_order_and_report_their_dimensions() -> None:
    response = EmbedResponse(vectors=[[1, 2, 3], [4, 5, 6]], model="m", usage=Usage(input_tokens=3, output_tokens=0))
    assert response.vectors == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert response.dimensions == 3
    assert EmbedResponse(vectors=[]).dimensions == 0


def test_a_ragged_list_of_vectors_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="vectors 0 and 2 differ in length"):
        EmbedResponse(vectors=[[1.0], [2.0], [3.0, 4.0]])


def test_a_token_level_list_is_not_a_vector() -> None:
    with pytest.raises(ConfigurationError):
        EmbedResponse(vectors=[[[1.0, 2.0], [3.0, 4.0]]])


def test_as_numpy_builds_a_float32_matrix_through_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []

    class FakeArray:
        def __init__(self, rows: Any, dtype: Any) -> None:
            calls.append((rows, dtype))
            self.shape: tuple[int, ...] = ()

        def reshape(self, *shape: int) -> FakeArray:
            self.shape = shape
            return self

    fake = types.ModuleType("numpy")
    fake.array = FakeArray  # type: ignore[attr-defined]
    fake.float32 = "float32"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "numpy", fake)
    array = EmbedResponse(vectors=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).as_numpy()
    assert calls == [([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "float32")]
    assert array.shape == (3, 2)


def test_as_numpy_without_numpy_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # makes "import numpy" raise ImportError
    with pytest.raises(ConfigurationError, match="needs numpy"):
        EmbedResponse(vectors=[[1.0]]).as_numpy()


def test_importing_botticelli_core_does_not_import_numpy() -> None:
    code = textwrap.dedent(
        """
        import sys
        import botticelli_core
        botticelli_core.EmbedResponse(vectors=[[1.0]]).dimensions
        print("numpy" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


def test_token_count_is_non_negative_and_says_whether_it_is_exact() -> None:
    assert TokenCount(input_tokens=0, exact=False).exact is False
    with pytest.raises(ConfigurationError):
        TokenCount(input_tokens=-1, exact=True)


def test_a_token_count_compares_hashes_and_converts_like_its_int() -> None:
    count = TokenCount(input_tokens=31, exact=True)
    assert count == 31
    assert count != 30
    assert hash(count) == hash(31)
    assert int(count) == 31
    assert [10, 20, 30, 40][:count] == [10, 20, 30, 40]  # __index__
    assert count < 32
    assert count <= 31
    assert count >= 31
    assert count > TokenCount(input_tokens=30, exact=False)
    assert count != TokenCount(input_tokens=31, exact=False)
    assert count != True  # noqa: E712 - a bool is not a count
    with pytest.raises(TypeError):
        _ = count < 31.5  # type: ignore[operator]
