"""``ModelRef``: one textual syntax for a local path, a hub file, or a hub repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from botticelli_core import ModelRef
from botticelli_error import ConfigurationError


@pytest.mark.parametrize(
    ("text", "kind", "repo_id", "filename", "revision"),
    [
        ("hf:org/repo/model.Q4_K_M.gguf", "hub-file", "org/repo", "model.Q4_K_M.gguf", None),
        ("hf:org/repo/sub/dir/m.gguf@v1.2", "hub-file", "org/repo", "sub/dir/m.gguf", "v1.2"),
        ("hf:org/repo@refs/pr/1", "hub-repo", "org/repo", None, "refs/pr/1"),
        ("microsoft/Phi-3.5-mini-instruct", "hub-repo", "microsoft/Phi-3.5-mini-instruct", None, None),
        ("Qwen/Qwen2.5-0.5B-Instruct@main", "hub-repo", "Qwen/Qwen2.5-0.5B-Instruct", None, "main"),
    ],
)
def test_hub_references(text: str, kind: str, repo_id: str, filename: str | None, revision: str | None) -> None:
    ref = ModelRef.parse(text)
    assert (ref.kind, ref.repo_id, ref.filename, ref.revision, ref.path) == (kind, repo_id, filename, revision, None)
    assert ModelRef.parse(str(ref)) == ref


@pytest.mark.parametrize(
    "text",
    ["models/tiny.gguf", "./models/phi", "../m", "/srv/models/phi", "tiny", "a/b/c", "org/model.safetensors"],
)
def test_local_paths(text: str) -> None:
    ref = ModelRef.parse(text)
    assert ref.kind == "path"
    assert ref.path == Path(text)
    assert ref.is_local
    assert not ref.needs_download


def test_a_path_object_is_always_local() -> None:
    assert ModelRef.parse(Path("org/repo")).kind == "path"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("hf:org", "not a repository id"),
        ("hf:org/re po/m.gguf", "not a repository id"),
        ("hf:-org/repo/m.gguf", "not a repository id"),
        ("hf:org/repo/", "not a file name"),
        ("hf:org/repo/../secret", "not a file name"),
        ("hf:org/repo/m.gguf@", "not a revision"),
        ("org/repo@a..b", "not a revision"),
    ],
)
def test_malformed_references_name_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        ModelRef.parse(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # The bug of issue 12: Path.stem cut this id at the ".5".
        ("microsoft/Phi-3.5-mini-instruct", "Phi-3.5-mini-instruct"),
        ("./models/Phi-3.5-mini-instruct", "Phi-3.5-mini-instruct"),
        ("models/Phi-3.5-mini-instruct-Q4_K_M.gguf", "Phi-3.5-mini-instruct-Q4_K_M"),
        ("hf:org/repo/sub/v2.5.GGUF", "v2.5"),
    ],
)
def test_the_default_name_keeps_dots_that_are_not_a_model_suffix(text: str, name: str) -> None:
    assert ModelRef.parse(text).default_name == name


def test_a_field_accepts_the_text_form_and_names_its_key_when_wrong() -> None:
    class Settings(BaseModel):
        model: ModelRef

    assert Settings(model="hf:org/repo/m.gguf").model.kind == "hub-file"
    assert Settings.model_validate({"model": {"kind": "hub-repo", "repo_id": "o/r"}}).model.repo_id == "o/r"
    with pytest.raises(ValidationError) as caught:
        Settings(model="hf:org")
    assert caught.value.errors()[0]["loc"] == ("model",)
    with pytest.raises(ValidationError, match="do not fit"):
        Settings.model_validate({"model": {"kind": "path", "repo_id": "o/r"}})
