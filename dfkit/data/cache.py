"""On-disk cache of generated datasets, safe against truncated or corrupted files.

Each entry is an uncompressed ``.npz`` (never pickled) plus a JSON manifest with
the parameters, the sha256 and size of the ``.npz`` and the shape and dtype of
every array. An entry whose manifest is missing or does not match its file is
regenerated with a :class:`DatasetCacheWarning`. Files are written to a
temporary name and renamed, so a crash mid-write never leaves a half file in
place. The key is a hash of every parameter, so different parameters never share
an entry.

The cache lives in ``$DFKIT_CACHE`` when set, else ``datasets/cache/`` of a source
checkout, else ``~/.cache/dfkit``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

FORMAT_VERSION = 1
ENV_VAR = "DFKIT_CACHE"


class DatasetCacheWarning(UserWarning):
    """A cached dataset was unusable and has been regenerated."""


def cache_dir() -> Path:
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "datasets").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout / "datasets" / "cache"
    return Path.home() / ".cache" / "dfkit"


def cache_key(name: str, params: dict) -> str:
    text = json.dumps({"name": name, "params": params, "format": FORMAT_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached_arrays(name: str, params: dict, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Return the arrays for ``(name, params)``, from the cache when intact, else from ``build()``."""
    folder = cache_dir()
    key = cache_key(name, params)
    data_path = folder / f"{name}-{key}.npz"
    manifest_path = folder / f"{name}-{key}.json"
    if data_path.exists() or manifest_path.exists():
        problem, arrays = _read_entry(data_path, manifest_path)
        if problem is None:
            return arrays
        warnings.warn(f"dataset cache entry {data_path.name} is unusable ({problem}); regenerating it", DatasetCacheWarning, stacklevel=2)
    arrays = build()
    _write_entry(folder, data_path, manifest_path, name, params, arrays)
    return arrays


def _read_entry(data_path: Path, manifest_path: Path):
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        return "manifest missing", None
    except (OSError, ValueError) as error:
        return f"manifest unreadable: {error}", None
    if not data_path.exists():
        return "data file missing", None
    size = data_path.stat().st_size
    if size != manifest.get("bytes"):
        return f"file has {size} bytes, manifest says {manifest.get('bytes')}", None
    if sha256_file(data_path) != manifest.get("sha256"):
        return "sha256 does not match the manifest", None
    try:
        with np.load(data_path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as error:  # any decoding failure means the entry is bad
        return f"cannot be read: {error}", None
    expected = manifest.get("arrays", {})
    actual = {key: {"shape": list(value.shape), "dtype": str(value.dtype)} for key, value in arrays.items()}
    if actual != expected:
        return "arrays differ from the manifest", None
    return None, arrays


def _write_entry(folder: Path, data_path: Path, manifest_path: Path, name: str, params: dict, arrays: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".npz.partial")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        manifest = {
            "name": name,
            "params": params,
            "format": FORMAT_VERSION,
            "bytes": os.path.getsize(temporary),
            "sha256": sha256_file(Path(temporary)),
            "arrays": {key: {"shape": list(value.shape), "dtype": str(value.dtype)} for key, value in arrays.items()},
        }
        os.replace(temporary, data_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _atomic_write_text(manifest_path, json.dumps(manifest, indent=1, sort_keys=True, default=str))


def _atomic_write_text(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".partial")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    os.replace(temporary, path)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(chunk):
            digest.update(block)
    return digest.hexdigest()
