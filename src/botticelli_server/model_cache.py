"""What the Hugging Face cache holds: one entry per model file and revision (``botticelli models --local``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from botticelli_server.hub import hub_settings

__all__ = ["CachedModelFile", "list_cached_models"]


@dataclass(frozen=True, slots=True)
class CachedModelFile:
    """One file of one cached revision of a model repository.

    Attributes:
        repo_id: ``org/repo``.
        filename: The file's path inside the repository.
        size: Bytes on disk.
        commit: The revision's commit hash.
        refs: The branch or tag names that point at that commit (``("main",)``), may be empty.
        path: The file's path in the snapshot (a link to its blob).
    """

    repo_id: str
    filename: str
    size: int
    commit: str
    refs: tuple[str, ...]
    path: Path

    @property
    def revision(self) -> str:
        """The refs, comma-joined, or the short commit when no ref points at it."""
        return ",".join(self.refs) if self.refs else self.commit[:12]

    @property
    def ref(self) -> str:
        """The reference that names this file exactly (``hf:org/repo/file@commit``).

        Examples:
            >>> CachedModelFile("o/r", "m.gguf", 1, "abc", ("main",), Path("m.gguf")).ref
            'hf:o/r/m.gguf@abc'
        """
        return f"hf:{self.repo_id}/{self.filename}@{self.commit}"


def list_cached_models(cache_dir: Path | None = None) -> list[CachedModelFile]:
    """The model files in the cache, sorted by repository, file and commit.

    Args:
        cache_dir: The cache to read; the one the ``HF_*`` variables name when omitted.

    Returns:
        Every file of every cached model revision (datasets and spaces are left out); an
        empty list when the cache does not exist yet.
    """
    from huggingface_hub import scan_cache_dir  # noqa: PLC0415 - slow to import; only a listing needs it

    directory = cache_dir if cache_dir is not None else hub_settings().cache_dir
    if not directory.is_dir():
        return []
    found = [
        CachedModelFile(
            repo_id=repo.repo_id,
            filename=file.file_path.relative_to(revision.snapshot_path).as_posix(),
            size=file.size_on_disk,
            commit=revision.commit_hash,
            refs=tuple(sorted(revision.refs)),
            path=file.file_path,
        )
        for repo in scan_cache_dir(directory).repos
        if repo.repo_type == "model"
        for revision in repo.revisions
        for file in revision.files
    ]
    return sorted(found, key=lambda f: (f.repo_id, f.filename, f.commit))
