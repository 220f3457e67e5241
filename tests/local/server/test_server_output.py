"""The server's output: an exit report keeps the lines that explain the exit, and ``echo`` passes it through."""

from __future__ import annotations

import io
import sys

import pytest

from botticelli_server._child import NOTABLE, OutputTail
from botticelli_server.launcher import InferenceServer

# What llama-cpp-python writes while loading a model: hundreds of long lines, none of them news.
LOAD_NOISE = [f"llama_model_loader: - kv {i:3}: general.key{i} str = {'v' * 90}" for i in range(250)]


def drained(text: str, *, max_lines: int = 40, notable_lines: int = 0, echo: io.StringIO | None = None) -> OutputTail:
    tail = OutputTail(io.BytesIO(text.encode()), max_lines=max_lines, notable_lines=notable_lines, echo=echo)
    tail.close(5.0)  # joins the drain thread: everything is read
    return tail


def test_an_exit_report_keeps_the_last_lines_and_earlier_errors_and_says_so() -> None:
    lines = [
        *LOAD_NOISE[:100],
        "llama_model_load: error loading model: tensor 'blk.0' has wrong shape",
        *LOAD_NOISE[100:],
        "Traceback (most recent call last):",
        *[f'  File "server.py", line {n}, in load' for n in range(5)],
        "ValueError: Failed to load model from file: tiny.gguf",
    ]
    excerpt = drained("\n".join(lines) + "\n", notable_lines=8).excerpt(last=12, width=300)
    header, *kept = excerpt.splitlines()
    assert header == (
        f"the server's output ({len(lines)} lines; kept: 1 earlier line that mentions an error or a failure, "
        "then the last 12):"
    )
    assert kept[0] == "101 | llama_model_load: error loading model: tensor 'blk.0' has wrong shape"
    assert kept[-1] == f"{len(lines)} | ValueError: Failed to load model from file: tiny.gguf"
    assert len(kept) == 13
    assert sum("| llama_model_loader" in line for line in kept[1:]) == 12 - 7
    assert len(excerpt) < 2_000  # the 40-line tail of this output is over 4 KB


def test_long_lines_are_cut_and_the_header_says_so() -> None:
    excerpt = drained("short\n" + "y" * 1000 + "\n").excerpt(last=12, width=300)
    header, first, second = excerpt.splitlines()
    assert header == "the server's output (2 lines; kept: all 2; lines cut at 300 characters):"
    assert first == "1 | short"
    assert second == "2 | " + "y" * 300 + " ..."


def test_no_output_is_said_in_words() -> None:
    assert drained("").excerpt(last=12, width=300) == "the server wrote no output"
    assert InferenceServer(["my-server", "{port}"]).output_excerpt() == "the server has not been started"


CRASH_WORDS = ["ValueError: Failed to load", "ERROR:    Exception in ASGI application", "Aborted (core dumped)"]
CHATTER = ["set_abort_callback: call", "INFO:     Application startup complete.", *LOAD_NOISE[:3]]


@pytest.mark.parametrize("line", CRASH_WORDS)
def test_what_a_crash_says_is_notable(line: str) -> None:
    assert NOTABLE.search(line)


@pytest.mark.parametrize("line", CHATTER)
def test_llama_cpp_load_chatter_is_not(line: str) -> None:
    assert not NOTABLE.search(line)


def test_echo_passes_every_line_through_as_it_comes_and_keeps_the_tail() -> None:
    echo = io.StringIO()
    tail = drained("one\ntwo\nthree\n", max_lines=2, echo=echo)
    assert echo.getvalue() == "one\ntwo\nthree\n"
    assert tail.lines() == ["two", "three"]


def test_a_closed_echo_stops_echoing_but_the_pipe_is_still_drained() -> None:
    echo = io.StringIO()
    echo.close()
    tail = drained("".join(f"line {n}\n" for n in range(1000)), echo=echo)
    assert tail.line_count == 1000


@pytest.mark.anyio
async def test_a_started_server_echoes_its_output_to_echo_output() -> None:
    echo = io.StringIO()
    script = "import sys, time\nprint('hello from the server', flush=True)\nsys.exit(4)"
    server = InferenceServer([sys.executable, "-c", script, "{port}"], startup_timeout=10, echo_output=echo)
    with pytest.raises(Exception, match="exited with status 4"):
        await server.start()
    assert "hello from the server\n" in echo.getvalue()
