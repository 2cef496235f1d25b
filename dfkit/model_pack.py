"""The reference-model pack: one archive with a profile's trained models, verified before it is installed.

    pack(profile, "dfkit-class-models.tar")                 # the instructor, after `dfkit checkpoints train`
    install("dfkit-class-models.tar")                       # a student: a file path ...
    install("https://example.org/dfkit-class-models.tar")   # ... or an http(s) URL

The archive is a plain tar file (safetensors do not compress) holding ``manifest.json`` and, for
every reference model, its checkpoint files under the paths they take below the checkpoint root
(``<profile>/<name>.json``, ``.safetensors``; ``shared/digit_classifier-<key>.*``). The manifest
names the pack's profile, the dfkit version that made it, and per model what the presets trained
(config, steps, objective), its training record and the sha256 of each of its files.

Install verifies everything before it places anything: the manifest against this dfkit's presets
(a pack of another profile, config, step count, objective or incompatible version is refused with
a message that says which), every file's sha256, and every checkpoint by loading it as a notebook
would. Files are staged beside the checkpoint root and moved in only once all of them passed, the
JSON of each checkpoint last; an interrupted download or a corrupted archive installs nothing and
leaves the existing checkpoints as they were. Nothing in a pack is ever unpickled or executed.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

import torch
from tqdm.auto import tqdm

import dfkit
from dfkit.checkpoint import checkpoint_paths, checkpoint_root
from dfkit.profiles import get_profile
from dfkit.reference_models import ReferenceModel, from_record, model_status, required

FORMAT = "dfkit-model-pack"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1 << 20


# ----------------------------------------------------------------------------- pack


def pack(profile, destination, lessons=None, log=print) -> Path:
    """Write the reference models of ``lessons`` (default: all) for ``profile`` into one tar archive.

    Every model must be present and accepted by the presets (``dfkit checkpoints train`` first);
    otherwise a ValueError lists what is missing. Returns the archive's path.
    """
    destination = Path(destination)
    models = required(lessons)
    problems = [status for status in (model_status(model, profile) for model in models) if status.state != "present"]
    if problems:
        listed = "; ".join(f"{status.model.label}: {status.state}" + (f" ({status.detail})" if status.detail else "")
                           for status in problems)
        raise ValueError(f"cannot pack the {profile.name} profile: {listed}. Train them first with "
                         f"`dfkit checkpoints train --profile {profile.name}`")
    root = checkpoint_root()
    entries, files = [], []
    for model in models:
        meta = json.loads(model.path(profile).with_suffix(".json").read_text())
        paths = [path for path in checkpoint_paths(model.path(profile)).values() if path.exists()]
        # tensor files first, the JSON last: the order install moves them in
        paths.sort(key=lambda path: path.suffix == ".json")
        names = {path.relative_to(root).as_posix(): _sha256_file(path) for path in paths}
        entries.append({"kind": model.kind, "name": model.name, "dataset": model.dataset, **model.record(profile),
                        "training": _training_summary(meta), "files": names})
        files += paths
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "profile": profile.name,
                "dfkit_version": dfkit.__version__, "torch_version": torch.__version__, "models": entries}
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
        _add_bytes(archive, MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
        for path in files:
            archive.add(path, arcname=path.relative_to(root).as_posix(), recursive=False, filter=_plain_member)
    partial.replace(destination)
    log(f"packed {len(models)} {profile.name} models ({destination.stat().st_size / 1e6:.1f} MB) into {destination}")
    return destination


def _training_summary(meta: dict) -> dict:
    """The JSON values of a checkpoint's training record (wall time, steps, final loss ...)."""
    extra = meta.get("extra") or {}
    return {"step": meta.get("step"), **{key: value for key, value in extra.items() if key != "objective"}}


def _plain_member(member: tarfile.TarInfo) -> tarfile.TarInfo:
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    member.mode = 0o644
    return member


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size, member.mode = len(data), 0o644
    archive.addfile(member, io.BytesIO(data))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- install


def install(source: str | os.PathLike, profile=None, log=print, timeout: float = 60.0, root: Path | None = None) -> list[ReferenceModel]:
    """Install the pack at ``source`` (a file path or an http(s) URL); see the module doc.

    ``profile``: the profile the pack must hold (a :class:`~dfkit.profiles.Profile`); None accepts
    the pack's own profile, whose presets it is then checked against. Raises ValueError (or
    FileNotFoundError for a missing file) and leaves the checkpoint root as it was when anything is
    wrong. ``root``: install there instead of :func:`~dfkit.checkpoint.checkpoint_root` (a student
    bundle's ``checkpoints/``). Returns the models installed.
    """
    target_root = Path(root) if root is not None else checkpoint_root()
    target_root.mkdir(parents=True, exist_ok=True)
    models_root = checkpoint_root()                        # the models' paths are relative to it, in the pack too
    with tempfile.TemporaryDirectory(prefix=".install-", dir=target_root) as work:
        work = Path(work)
        archive_path = _fetch(str(source), work / "pack.tar", log, timeout)
        staged, models, profile = _unpack_verified(archive_path, work / "staged", profile, str(source))
        for model in list(models):                             # load each one as a notebook would
            relative = model.path(profile).relative_to(models_root)
            if model.kind == "classifier" and f"{relative.as_posix()}.json" not in staged:
                log("skipping the pack's digit classifier: it was trained on another digit source than this "
                    "machine's (DFKIT_MNIST); it is trained here on first use")
                staged = [name for name in staged if not name.startswith("shared/digit_classifier-")]
                models.remove(model)
                continue
            try:
                model.load(profile, work / "staged" / relative)
            except (ValueError, FileNotFoundError) as error:
                raise ValueError(f"{source}: {model.label} does not load: {error}") from None
        for relative in staged:                                # tensor files before each JSON (pack order)
            target = target_root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(work / "staged" / relative, target)
    log(f"installed {len(models)} {profile.name} models into {target_root}")
    return models


def _fetch(source: str, target: Path, log, timeout: float) -> Path:
    """The archive as a local file: a path as it is, a URL downloaded completely into ``target``."""
    if not source.startswith(("http://", "https://")):
        path = Path(source).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no model pack at {source} (expected a file made by `dfkit checkpoints pack`, or an http(s) URL)")
        return path
    try:
        with urllib.request.urlopen(source, timeout=timeout) as response, open(target, "wb") as file:
            expected = response.headers.get("Content-Length")
            received = 0
            with tqdm(total=int(expected) if expected and expected.isdigit() else None, unit="B", unit_scale=True,
                      desc="download", leave=False) as bar:
                while chunk := response.read(CHUNK):
                    file.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:   # refused, reset, cut off, timed out
        raise ValueError(f"downloading {source} failed: {error}; nothing was installed") from None
    if expected is not None and expected.isdigit() and received != int(expected):
        raise ValueError(f"downloading {source} stopped after {received:,} of {int(expected):,} bytes; nothing was installed")
    log(f"downloaded {received / 1e6:.1f} MB from {source}")
    return target


def _unpack_verified(archive_path: Path, staging: Path, profile, source: str):
    """Check the manifest, then copy each listed file out of the archive into ``staging`` while
    hashing it. Returns the files (in install order), the models and the profile; raises ValueError
    on any problem."""
    try:
        archive = tarfile.open(archive_path, "r:")
    except (tarfile.TarError, OSError) as error:
        raise ValueError(f"{source} is not a dfkit model pack (not a readable tar archive: {error})") from None
    with archive:
        try:
            members = {member.name: member for member in archive.getmembers()}
            manifest = _read_manifest(archive, members, source)
            if profile is None:
                profile = get_profile(str(manifest.get("profile")))
            models = _check_manifest(manifest, profile, source)
            order = []
            for entry in manifest["models"]:
                for name, digest in entry["files"].items():
                    _check_member(name, members, source)
                    _copy_hashed(archive, members[name], staging / name, digest, source)
                    order.append(name)
        except (tarfile.TarError, OSError, EOFError) as error:       # truncated or damaged archive
            raise ValueError(f"{source} is truncated or corrupted ({error}); nothing was installed") from None
    return order, models, profile


def _read_manifest(archive: tarfile.TarFile, members: dict, source: str) -> dict:
    if MANIFEST not in members or not members[MANIFEST].isfile():
        raise ValueError(f"{source} has no {MANIFEST}: not a dfkit model pack")
    try:
        manifest = json.loads(archive.extractfile(members[MANIFEST]).read().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{source}: {MANIFEST} is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{source} is not a dfkit model pack (expected \"format\": \"{FORMAT}\" in {MANIFEST})")
    return manifest


def _check_manifest(manifest: dict, profile, source: str) -> list[ReferenceModel]:
    """The manifest's models, after checking the pack fits this dfkit and ``profile``; ValueError says what does not."""
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        raise ValueError(f"{source} is a model pack of format {manifest.get('format_version')!r}; this dfkit reads "
                         f"up to {FORMAT_VERSION}: upgrade dfkit")
    made_by = str(manifest.get("dfkit_version"))
    if not compatible_version(made_by):
        raise ValueError(f"{source} was made by dfkit {made_by}, this is dfkit {dfkit.__version__}: the versions "
                         f"differ in major or minor number; use a pack made for dfkit {_major_minor(dfkit.__version__)}.x")
    if manifest.get("profile") != profile.name:
        raise ValueError(f"{source} holds the models of the {manifest.get('profile')!r} profile, not of {profile.name!r}; "
                         f"install it with --profile {manifest.get('profile')} or use a pack of the {profile.name} profile")
    entries = manifest.get("models")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{source}: {MANIFEST} lists no models")
    models = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict) or not entry["files"]:
            raise ValueError(f"{source}: a model entry of {MANIFEST} has no files: {entry!r}"[:300])
        model = from_record(entry)
        for key, expected in model.record(profile).items():
            if entry.get(key) != expected:
                raise ValueError(f"{source}: {model.label} was trained with {key} {entry.get(key)}, but this dfkit's "
                                 f"{profile.name} presets train {expected}; use a pack made with these presets")
        models.append(model)
    return models


def compatible_version(version: str) -> bool:
    """A pack made by dfkit ``version`` fits this dfkit when major and minor numbers agree."""
    return _major_minor(version) == _major_minor(dfkit.__version__)


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _check_member(name: str, members: dict, source: str) -> None:
    """A listed file must be a plain file at a plain relative path inside the archive."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or name.startswith("/") or "\\" in name:
        raise ValueError(f"{source}: refusing the file name {name!r} (expected a relative path below the checkpoint root)")
    if name not in members:
        raise ValueError(f"{source} lists {name} in its manifest but does not contain it (truncated?); nothing was installed")
    if not members[name].isfile():
        raise ValueError(f"{source}: {name} is not a plain file")


def _copy_hashed(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path, digest: str, source: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    hasher = hashlib.sha256()
    with archive.extractfile(member) as stream, open(target, "wb") as file:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
            file.write(chunk)
    if hasher.hexdigest() != digest:
        raise ValueError(f"{source}: {member.name} is corrupted (sha256 {hasher.hexdigest()[:12]}..., the manifest "
                         f"expects {str(digest)[:12]}...); nothing was installed")
