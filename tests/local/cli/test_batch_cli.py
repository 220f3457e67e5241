"""``botticelli generate --batch``: a few hundred prompts, resuming, failures, bad lines, the progress bar."""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from botticelli.cli import main
from botticelli.cli._progress import Progress
from botticelli_interface import current_call_options
from tests.local.hybrid.fakes import completion

BASE = "http://batch.test"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "botticelli.toml"
    path.write_text(f'[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\nmax_retries = 0\n')
    return path


def answer(request: httpx.Request) -> httpx.Response:
    """Echo the last message upper-cased; a prompt "reject" is refused with a 400."""
    sent = json.loads(request.content)
    prompt = sent["messages"][-1]["content"]
    if prompt == "reject":
        return httpx.Response(400, json={"error": {"message": "no, thank you", "type": "invalid_request_error"}})
    return httpx.Response(200, json=completion(prompt.upper(), completion_tokens=2))


@pytest.fixture
def server() -> Iterator[respx.Route]:
    with respx.mock(using="httpx", base_url=BASE, assert_all_mocked=True) as router:
        yield router.post("/v1/chat/completions").mock(side_effect=answer)


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def read_out(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_few_hundred_prompts_all_answered(
    tmp_path: Path, config: Path, server: respx.Route, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"prompt {i}"} for i in range(300)])
    out = tmp_path / "out.jsonl"
    code = main(["generate", "--batch", str(source), "--out", str(out), "--concurrency", "16"])
    assert code == 0
    lines = read_out(out)
    assert sorted(line["id"] for line in lines) == sorted(f"q{i}" for i in range(300))
    by_id = {line["id"]: line for line in lines}
    assert by_id["q7"] == {
        "id": "q7",
        "text": "PROMPT 7",
        "finish_reason": "stop",
        "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    }
    assert server.call_count == 300
    captured = capsys.readouterr()
    assert captured.out == ""
    # Standard error is not a terminal here: a summary line, and no progress bar.
    assert captured.err == "botticelli: 300 answered, 0 failed, 0 already in out.jsonl, 0 bad lines\n"


def test_a_rerun_skips_finished_ids_and_drops_a_half_written_line(
    tmp_path: Path, config: Path, server: respx.Route
) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"id": i, "prompt": f"p{i}"} for i in range(10)])
    out = tmp_path / "out.jsonl"
    finished = "".join(
        json.dumps({"id": i, "text": f"P{i}", "finish_reason": "stop", "usage": None}) + "\n" for i in range(4)
    )
    out.write_text(finished + '{"id": 4, "text": "P')  # killed mid-write
    assert main(["generate", "--batch", str(source), "--out", str(out)]) == 0
    assert server.call_count == 6
    text = out.read_text()
    assert text.startswith(finished)  # finished lines are never rewritten
    assert sorted(line["id"] for line in read_out(out)) == list(range(10))
    # A third run has nothing left to do.
    assert main(["generate", "--batch", str(source), "--out", str(out)]) == 0
    assert server.call_count == 6
    assert out.read_text() == text


def test_failures_are_lines_with_the_error_and_are_retried_on_rerun(
    tmp_path: Path, config: Path, server: respx.Route, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"id": "ok", "prompt": "fine"}, {"id": "no", "prompt": "reject"}])
    out = tmp_path / "out.jsonl"
    assert main(["generate", "--batch", str(source), "--out", str(out)]) == 1
    by_id = {line["id"]: line for line in read_out(out)}
    assert by_id["ok"]["text"] == "FINE"
    assert by_id["no"]["error"]["type"] == "BadRequestError"
    assert by_id["no"]["error"]["retryable"] is False
    assert "no, thank you" in by_id["no"]["error"]["message"]
    assert "1 answered, 1 failed" in capsys.readouterr().err
    # The rerun sends only the failed one again, and appends its new result.
    assert main(["generate", "--batch", str(source), "--out", str(out)]) == 1
    assert server.call_count == 3
    assert [line["id"] for line in read_out(out)].count("no") == 2


def test_bad_lines_are_reported_by_number_and_the_others_run(
    tmp_path: Path, config: Path, server: respx.Route, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "prompt": "one"},
            "{not json",
            {"id": "b"},
            {"id": "a", "prompt": "again"},
            {"id": "c", "prompt": "three", "max_tokens": -5},
            "",
            [1, 2],
            {"id": True, "prompt": "x"},
            {"id": "d", "messages": [{"role": "user", "content": "four"}], "temperature": 0.5},
        ],
    )
    out = tmp_path / "out.jsonl"
    assert main(["generate", "--batch", str(source), "--out", str(out), "--max-tokens", "9"]) == 1
    err = capsys.readouterr().err
    for number in (2, 3, 4, 5, 7, 8):
        assert f"in.jsonl line {number}:" in err
    assert "line 4: id 'a' repeats line 1" in err
    assert "line 3: needs exactly one of" in err
    assert "max_tokens" in err
    assert "2 answered, 0 failed, 0 already in out.jsonl, 6 bad lines" in err
    assert sorted(line["id"] for line in read_out(out)) == ["a", "d"]
    sent = [json.loads(call.request.content) for call in server.calls]
    assert {s["messages"][-1]["content"]: (s.get("max_tokens"), s.get("temperature")) for s in sent} == {
        "one": (9, None),
        "four": (9, 0.5),
    }


def test_ids_default_to_line_numbers_and_system_applies_to_prompts(
    tmp_path: Path, config: Path, server: respx.Route
) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": "first"}, {"prompt": "second", "system": "Be brief."}])
    out = tmp_path / "out.jsonl"
    assert main(["generate", "--batch", str(source), "--out", str(out), "--system", "Be kind."]) == 0
    assert sorted(line["id"] for line in read_out(out)) == [1, 2]
    systems = sorted(json.loads(c.request.content)["messages"][0]["content"] for c in server.calls)
    assert systems == ["Be brief.", "Be kind."]


@pytest.mark.parametrize(
    "extra",
    [
        [],  # no --out
        ["--out", "o.jsonl", "a prompt"],
        ["--out", "o.jsonl", "--stream"],
        ["--out", "o.jsonl", "--concurrency", "0"],
    ],
)
def test_usage_mistakes_exit_2(tmp_path: Path, config: Path, extra: list[str]) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": "x"}])
    assert main(["generate", "--batch", str(source), *extra]) == 2


def test_an_output_path_that_is_a_directory_is_a_usage_error(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": "x"}])
    (tmp_path / "out").mkdir()
    assert main(["generate", "--batch", str(source), "--out", str(tmp_path / "out")]) == 2
    assert "cannot read the answers already in" in capsys.readouterr().err


def test_a_missing_batch_file_is_a_usage_error(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--batch", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_on_a_terminal_only() -> None:
    terminal = Terminal()
    progress = Progress(3, stream=terminal)
    progress.update(failed=False, tokens=10)
    progress.update(failed=True, tokens=0)
    progress.close()
    drawn = terminal.getvalue()
    assert "2/3" in drawn
    assert "failed=1" in drawn
    assert "tok/s" in drawn
    piped = io.StringIO()
    quiet = Progress(3, stream=piped)
    quiet.update(failed=False, tokens=10)
    quiet.close()
    assert piped.getvalue() == ""
    assert (quiet.done, quiet.failed, quiet.tokens) == (1, 0, 10)


def test_timeout_and_max_retries_are_per_call_options(tmp_path: Path) -> None:
    config = tmp_path / "botticelli.toml"
    config.write_text(f'[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\nmax_retries = 3\nbackoff_max = 0\n')
    seen: list[object] = []

    def busy(request: httpx.Request) -> httpx.Response:
        seen.append(current_call_options().timeout)
        return httpx.Response(503, json={"error": {"message": "busy"}})

    with respx.mock(using="httpx", base_url=BASE, assert_all_mocked=True) as router:
        route = router.post("/v1/chat/completions").mock(side_effect=busy)
        assert main(["generate", "hi", "--max-retries", "0", "--timeout", "2.5"]) == 1
        assert route.call_count == 1
        assert seen == [2.5]
        assert main(["generate", "hi"]) == 1
        assert route.call_count == 5  # the configured three retries are back


@pytest.mark.parametrize("flag", [["--timeout", "0"], ["--timeout", "soon"], ["--max-retries", "-1"]])
def test_bad_per_call_options_are_usage_errors(config: Path, flag: list[str]) -> None:
    assert main(["generate", "hi", *flag]) == 2


def test_ctrl_c_says_how_far_the_batch_got_and_that_a_rerun_resumes(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"id": i, "prompt": f"p{i}"} for i in range(10)])
    out = tmp_path / "out.jsonl"
    calls = 0

    def answer_then_interrupt(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 4:
            # What Ctrl-C does: SIGINT, which asyncio.run turns into cancelling the command's task.
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler, "asyncio.run's handler"
            signal.raise_signal(signal.SIGINT)
        return answer(request)

    with respx.mock(using="httpx", base_url=BASE, assert_all_mocked=True) as router:
        router.post("/v1/chat/completions").mock(side_effect=answer_then_interrupt)
        code = main(["generate", "--batch", str(source), "--out", str(out), "--concurrency", "1"])
    assert code == 130
    done = len(read_out(out))
    assert 0 < done < 10
    err = capsys.readouterr().err
    assert err == (
        f"botticelli: interrupted with {done} of 10 lines answered in out.jsonl; "
        f"run the same command again to resume with the other {10 - done}\n"
    )
    # And it does.
    with respx.mock(using="httpx", base_url=BASE, assert_all_mocked=True) as router:
        route = router.post("/v1/chat/completions").mock(side_effect=answer)
        assert main(["generate", "--batch", str(source), "--out", str(out)]) == 0
    assert route.call_count == 10 - done
    assert sorted(line["id"] for line in read_out(out)) == list(range(10))


def test_a_configured_max_tokens_bounds_the_lines_that_set_none(tmp_path: Path, server: respx.Route) -> None:
    config = tmp_path / "botticelli.toml"
    config.write_text(f'[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\nmax_retries = 0\nmax_tokens = 64\n')
    lines = [{"id": "a", "prompt": "one"}, {"id": "b", "prompt": "two", "max_tokens": 8}]
    source = write_lines(tmp_path / "in.jsonl", lines)

    def bounds(calls: list[Any]) -> dict[str, int | None]:
        sent = [json.loads(call.request.content) for call in calls]
        return {body["messages"][-1]["content"]: body.get("max_tokens") for body in sent}

    assert main(["generate", "--batch", str(source), "--out", str(tmp_path / "out.jsonl")]) == 0
    assert bounds(server.calls) == {"one": 64, "two": 8}
    # The command line's --max-tokens is a line's default, so it wins over the configuration's too.
    assert main(["generate", "--batch", str(source), "--out", str(tmp_path / "o2.jsonl"), "--max-tokens", "16"]) == 0
    assert bounds(server.calls[-2:]) == {"one": 16, "two": 8}


def test_a_line_without_an_id_is_not_called_a_repeat(
    tmp_path: Path, config: Path, server: respx.Route, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"id": 2, "prompt": "first"}, {"prompt": "second"}])
    out = tmp_path / "out.jsonl"
    assert main(["generate", "--batch", str(source), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "repeats" not in err
    assert "in.jsonl line 2: has no id, and its line number 2 is already the id of line 1; give this line an id" in err
    assert [line["id"] for line in read_out(out)] == [2]
