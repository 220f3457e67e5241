"""``ensure_model`` with the real huggingface_hub client against the fake hub on 127.0.0.1."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import constants
from huggingface_hub.errors import LocalEntryNotFoundError

from botticelli_core import ModelRef
from botticelli_error import (
    AuthenticationError,
    ConfigurationError,
    ModelAccessError,
    ModelChecksumError,
    ModelDownloadError,
    ModelNotCachedError,
    ModelNotFoundError,
    NotFoundError,
)
from botticelli_server._hub_errors import translate_hub_error
from botticelli_server.hub import HubSettings, ensure_model, hub_settings
from botticelli_server.model_cache import list_cached_models
from tests.local.hub._fake_hub import COMMIT, FakeHub
from tests.local.hub.conftest import FILE, GATED, REPO, TOKEN

REF = f"hf:{REPO}/{FILE}"


def test_a_download_lands_in_the_hub_cache_layout(hub: FakeHub, gguf_bytes: bytes, tmp_path: Path) -> None:
    path = ensure_model(REF, progress=False)
    assert path.read_bytes() == gguf_bytes
    repo_dir = tmp_path / "hf" / "hub" / "models--botticelli-test--tiny-GGUF"
    assert path == repo_dir / "snapshots" / COMMIT / FILE
    assert path.resolve() == repo_dir / "blobs" / hashlib.sha256(gguf_bytes).hexdigest()
    assert (repo_dir / "refs" / "main").read_text() == COMMIT
    assert [r.range for r in hub.requests("GET")] == [None]


def test_a_cached_file_is_not_downloaded_again(hub: FakeHub) -> None:
    first = ensure_model(REF, progress=False)
    second = ensure_model(REF, progress=False)
    assert first == second
    assert len(hub.requests("GET")) == 1


def test_a_pinned_revision_is_asked_for_and_kept(hub: FakeHub) -> None:
    path = ensure_model(f"{REF}@{COMMIT}", progress=False)
    assert path.parent.name == COMMIT
    assert all(f"/resolve/{COMMIT}/" in r.path for r in hub.seen)


def test_a_cut_connection_is_resumed_with_a_range_request(
    hub: FakeHub, gguf_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client writes whole chunks (10 MB by default): smaller ones let a cut in a tiny file leave some on disk.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 1 << 16)
    hub.cut_once.add((REPO, FILE))
    path = ensure_model(REF, progress=False)
    assert path.read_bytes() == gguf_bytes
    first, second = (r.range for r in hub.requests("GET"))
    assert first is None
    assert second is not None
    resumed_at = int(second.removeprefix("bytes=").removesuffix("-"))
    assert 0 < resumed_at <= len(gguf_bytes) // 2


def test_a_wrong_checksum_is_a_typed_error_and_the_copy_is_removed(hub: FakeHub, gguf_bytes: bytes) -> None:
    hub.corrupt.add((REPO, FILE))
    with pytest.raises(ModelChecksumError) as caught:
        ensure_model(REF, progress=False)
    err = caught.value
    assert err.expected == hashlib.sha256(gguf_bytes).hexdigest()
    assert err.actual != err.expected
    assert (err.repo_id, err.filename, err.retryable) == (REPO, FILE, True)
    # The bad copy is gone: once the hub serves good bytes, the next call downloads again.
    hub.corrupt.clear()
    assert ensure_model(REF, progress=False).read_bytes() == gguf_bytes
    assert len(hub.requests("GET")) == 2


def test_offline_uses_the_cached_copy_without_asking_the_hub(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    online = ensure_model(REF, progress=False)
    asked = len(hub.seen)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert ensure_model(REF, progress=False) == online
    assert len(hub.seen) == asked


def test_offline_without_a_cached_copy_is_a_typed_error(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotCachedError) as caught:
        ensure_model(REF, progress=False)
    assert caught.value.repo_id == REPO
    assert "HF_HUB_OFFLINE" in caught.value.message
    assert hub.seen == []


def test_a_gated_repo_without_a_token_is_an_access_error(hub: FakeHub) -> None:
    with pytest.raises(ModelAccessError) as caught:
        ensure_model(f"hf:{GATED}/{FILE}", progress=False)
    err = caught.value
    assert (err.gated, err.token_sent, err.status_code) == (True, False, 401)
    assert isinstance(err, AuthenticationError)
    assert "HF_TOKEN" in err.message


def test_a_wrong_token_is_refused_and_never_shown(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "hf_wrong_token_abcdef0123456789"
    monkeypatch.setenv("HF_TOKEN", wrong)
    with pytest.raises(ModelAccessError) as caught:
        ensure_model(f"hf:{GATED}/{FILE}", progress=False)
    assert caught.value.token_sent
    assert hub.seen[0].authorization == f"Bearer {wrong}"
    for text in (str(caught.value), repr(caught.value), caught.value.message):
        assert wrong not in text


def test_the_right_token_opens_a_gated_repo(hub: FakeHub, gguf_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert ensure_model(f"hf:{GATED}/{FILE}", progress=False).read_bytes() == gguf_bytes


@pytest.mark.parametrize(
    ("ref", "missing"),
    [
        (f"hf:nobody/none/{FILE}", "repository"),
        (f"hf:{REPO}/other.gguf", "file"),
        (f"hf:{REPO}/{FILE}@v9", "revision"),
    ],
)
def test_what_does_not_exist_is_named(hub: FakeHub, ref: str, missing: str) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        ensure_model(ref, progress=False)
    assert caught.value.missing == missing
    assert isinstance(caught.value, NotFoundError)


def test_an_unreachable_hub_without_a_cached_copy_is_a_retryable_download_error(tmp_path: Path) -> None:
    # What hf_hub_download raises once its own retries on a refused connection are spent (about 20 s
    # of backoff against a closed port, too slow to wait for here).
    settings = HubSettings(endpoint="http://127.0.0.1:9", cache_dir=tmp_path, token=None, offline=False)
    err = translate_hub_error(LocalEntryNotFoundError("connection refused"), ModelRef.parse(REF), settings)
    assert type(err) is ModelDownloadError
    assert err.retryable
    assert "cannot reach http://127.0.0.1:9" in err.message


def test_a_local_path_is_returned_as_it_is_and_a_repo_is_refused() -> None:
    assert ensure_model("./models/m.gguf") == Path("models/m.gguf")
    with pytest.raises(ConfigurationError, match="whole repository"):
        ensure_model("microsoft/Phi-3.5-mini-instruct")


def test_settings_are_read_at_each_call(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_0123456789")
    settings = hub_settings()
    assert settings.cache_dir == tmp_path / "c"
    assert "hf_secret_value" not in repr(settings)
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert hub_settings().cache_dir == tmp_path / "x" / "huggingface" / "hub"


def test_importing_botticelli_does_not_import_huggingface_hub() -> None:
    code = (
        "import sys, botticelli, botticelli_server, botticelli_server.hub, botticelli_server.model_cache\n"
        "print('huggingface_hub' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_cache_lists_each_file_with_its_revision_and_size(hub: FakeHub, gguf_bytes: bytes, tmp_path: Path) -> None:
    assert list_cached_models() == []
    ensure_model(REF, progress=False)
    ensure_model(f"{REF}@{COMMIT}", progress=False)
    (entry,) = list_cached_models()
    assert (entry.repo_id, entry.filename, entry.size, entry.commit) == (REPO, FILE, len(gguf_bytes), COMMIT)
    assert entry.revision == "main"
    assert entry.ref == f"hf:{REPO}/{FILE}@{COMMIT}"
    assert list_cached_models(tmp_path / "elsewhere") == []
