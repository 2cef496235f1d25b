"""Checkpoints: safetensors weights plus a JSON file that says how to rebuild the model.

A checkpoint called ``runs/unet`` is two (or three) files:

    runs/unet.safetensors          the model's weights, nothing else
    runs/unet.json                 model class, its config dataclass as a dict, dfkit version,
                                   step, sha256 of every tensor file, JSON-able extra state
    runs/unet.state.safetensors    optional: extra tensors (EMA weights, optimizer, RNG states)

>>> path = save_checkpoint("runs/unet", model, step=500)
>>> model, meta = load_checkpoint("runs/unet", expected_model=UNet)

Nothing is ever unpickled: tensors are read with safetensors, everything else is JSON. A model
class becomes loadable by name once it is registered (:mod:`dfkit.models.registry`):

    @register_model(UNetConfig)
    class UNet(nn.Module): ...

The course's reference models live under :func:`checkpoint_root`: ``$DFKIT_CHECKPOINTS`` when it
is set, else ``checkpoints/`` at the top of a source checkout (or of an unpacked student bundle),
else ``~/.cache/dfkit/checkpoints``. Inside it, ``<profile>/`` holds one profile's models and
``shared/`` the profile-free ones (the metric digit classifier). ``DFKIT_TRAINING=never`` turns a
missing reference model into :class:`MissingModelError` instead of a training run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import typing
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import dfkit.models  # noqa: F401  (the built-in models register themselves)
from dfkit.models.registry import MODEL_REGISTRY

FORMAT = "dfkit-checkpoint"
FORMAT_VERSION = 1
DEFAULT_NAME = "model"

# ----------------------------------------------------------------------------- where reference models live

CHECKPOINTS_ENV = "DFKIT_CHECKPOINTS"
TRAINING_ENV = "DFKIT_TRAINING"
INSTALL_HINT = "dfkit checkpoints install PACK"


class MissingModelError(FileNotFoundError):
    """A reference model is not installed and training it is switched off (``DFKIT_TRAINING=never``)."""


def checkpoint_root() -> Path:
    """The folder of the reference models: ``$DFKIT_CHECKPOINTS``, else ``checkpoints/`` of a source
    checkout or student bundle (the folder with ``pyproject.toml`` above this package), else
    ``~/.cache/dfkit/checkpoints``."""
    if os.environ.get(CHECKPOINTS_ENV):
        return Path(os.environ[CHECKPOINTS_ENV]).expanduser()
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "dfkit").is_dir():
        return checkout / "checkpoints"
    return Path.home() / ".cache" / "dfkit" / "checkpoints"


def training_allowed() -> bool:
    """False when ``$DFKIT_TRAINING`` is ``never``: a missing reference model is then an error."""
    value = os.environ.get(TRAINING_ENV, "").strip().lower()
    if value not in ("", "never", "allowed"):
        raise ValueError(f"expected {TRAINING_ENV} to be 'never' or 'allowed' (or unset), got {value!r}")
    return value != "never"


def refuse_training_unless_allowed(what: str, path: Path) -> None:
    """Raise :class:`MissingModelError` for the missing model ``what`` (expected at ``path``) when training is off."""
    if not training_allowed():
        raise MissingModelError(f"{what} is not installed (expected {path}.json) and {TRAINING_ENV}=never forbids "
                                f"training it; install the course's model pack with `{INSTALL_HINT}`")


def announce_training(what: str, path: Path, steps: int) -> None:
    """The line printed before a reference model trains: what, why, and how to avoid it."""
    print(f"Training {what} ({steps:,} steps): no checkpoint at {path}. The progress bar shows the time left; "
          f"`{INSTALL_HINT}` installs the course's trained models instead.", flush=True)


def training_folder(path: Path) -> Path:
    """Where the training of the checkpoint ``path`` keeps its resumable state until it is done."""
    return Path(path).parent / ".training" / Path(path).name


# ----------------------------------------------------------------------------- paths


def checkpoint_paths(path: str | Path) -> dict[str, Path]:
    """The files of the checkpoint at ``path``.

    ``path`` is a directory (files ``model.*`` inside it), a prefix (``runs/unet`` ->
    ``runs/unet.json`` ...) or one of the files themselves (``runs/unet.json``).
    """
    path = Path(path)
    name = path.name
    if path.is_dir() or str(path).endswith(("/", "\\")):
        path = path / DEFAULT_NAME
    else:
        for suffix in (".state.safetensors", ".safetensors", ".json"):
            if name.endswith(suffix) and len(name) > len(suffix):
                path = path.with_name(name[: -len(suffix)])
                break
    return {
        "json": path.with_name(path.name + ".json"),
        "weights": path.with_name(path.name + ".safetensors"),
        "state": path.with_name(path.name + ".state.safetensors"),
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- configs


def config_to_dict(config) -> dict | None:
    """A config dataclass as a JSON-able dict (tuples become lists)."""
    if config is None:
        return None
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ValueError(f"expected a config dataclass instance, got {type(config).__name__}")
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_from_dict(config_class: type, data: dict):
    """Rebuild ``config_class`` from :func:`config_to_dict`'s output (lists back to tuples)."""
    if not isinstance(data, dict):
        raise ValueError(f"expected the config of {config_class.__name__} as a JSON object, got {type(data).__name__}")
    fields = {field.name: field for field in dataclasses.fields(config_class)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"checkpoint config has fields {unknown} that {config_class.__name__} does not know; expected some of {sorted(fields)}")
    try:
        hints = typing.get_type_hints(config_class)
    except Exception:  # unresolvable annotations: fall back to plain values
        hints = {}
    values = {}
    for name, value in data.items():
        kind = hints.get(name)
        if isinstance(value, dict) and dataclasses.is_dataclass(kind):
            values[name] = config_from_dict(kind, value)
        else:
            values[name] = _lists_to_tuples(value)
    try:
        config = config_class(**values)
        if hasattr(config, "validate"):
            config.validate()
    except (TypeError, ValueError) as error:
        raise ValueError(f"checkpoint config is not a valid {config_class.__name__}: {error}") from None
    return config


def _lists_to_tuples(value):
    if isinstance(value, list):
        return tuple(_lists_to_tuples(item) for item in value)
    return value


# ----------------------------------------------------------------------------- save


def save_checkpoint(path: str | Path, model: torch.nn.Module, config=None, *, step: int | None = None, extra_state: dict | None = None) -> Path:
    """Write ``model``'s weights and the JSON that rebuilds it; return the JSON path.

    ``config`` defaults to ``model.config``. ``extra_state`` is a flat dict: tensor values go to
    ``<name>.state.safetensors``, every other value must be JSON-able and goes to the JSON file.
    """
    import dfkit

    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"expected an nn.Module to save, got {type(model).__name__}")
    if config is None:
        config = getattr(model, "config", None)
    files = checkpoint_paths(path)
    files["json"].parent.mkdir(parents=True, exist_ok=True)

    weights = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    save_file(_unshare(weights), str(files["weights"]))
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_class": type(model).__name__,
        "model_module": type(model).__module__,
        "config_class": type(config).__name__ if config is not None else None,
        "config": config_to_dict(config),
        "dfkit_version": dfkit.__version__,
        "step": None if step is None else int(step),
        "weights_file": files["weights"].name,
        "weights_sha256": _sha256(files["weights"]),
    }

    tensors, values = {}, {}
    for key, value in (extra_state or {}).items():
        if not isinstance(key, str):
            raise ValueError(f"expected string keys in extra_state, got {key!r}")
        if isinstance(value, torch.Tensor):
            tensors[key] = value.detach().cpu().contiguous()
        else:
            values[key] = value
    if tensors:
        save_file(_unshare(tensors), str(files["state"]))
        meta["state_file"] = files["state"].name
        meta["state_sha256"] = _sha256(files["state"])
    elif files["state"].exists():
        files["state"].unlink()  # a stale state file from an earlier save under this name
    meta["extra"] = values
    try:
        text = json.dumps(meta, indent=2, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"extra_state values that are not tensors must be JSON-able: {error}") from None
    temporary = files["json"].with_name(files["json"].name + ".tmp")
    temporary.write_text(text + "\n")
    temporary.replace(files["json"])  # the JSON appears last, once the tensor files are complete
    return files["json"]


def _unshare(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses tensors that share memory; give each its own copy."""
    seen, out = set(), {}
    for key, tensor in tensors.items():
        pointer = (tensor.untyped_storage().data_ptr(), tensor.storage_offset()) if tensor.numel() else None
        out[key] = tensor.clone() if pointer in seen else tensor
        if pointer is not None:
            seen.add(pointer)
    return out


# ----------------------------------------------------------------------------- load


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read and verify a checkpoint without building a model: ``(weights, meta)``.

    ``meta`` is the JSON dict, plus ``meta["extra_state"]``: the extra tensors and JSON values
    that were saved with it. A missing file raises FileNotFoundError; a corrupted, truncated or
    foreign file raises ValueError.
    """
    files = checkpoint_paths(path)
    if not files["json"].exists():
        raise FileNotFoundError(f"no checkpoint at {path}: expected {files['json']}")
    try:
        meta = json.loads(files["json"].read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"checkpoint file {files['json']} is not valid JSON (corrupted or truncated?): {error}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{files['json']} is not a dfkit checkpoint (expected \"format\": \"{FORMAT}\")")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{files['json']} has checkpoint format {meta.get('format_version')}; this dfkit reads up to {FORMAT_VERSION}, upgrade dfkit")

    weights = _read_tensors(files["weights"], meta.get("weights_sha256"))
    extra = dict(meta.get("extra") or {})
    if meta.get("state_file"):
        extra.update(_read_tensors(files["state"], meta.get("state_sha256")))
    meta["extra_state"] = extra
    return weights, meta


def _read_tensors(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    if not path.exists():
        raise FileNotFoundError(f"checkpoint tensor file {path} is missing")
    if expected_sha256 is None:
        raise ValueError(f"checkpoint JSON records no sha256 for {path.name}; refusing to read it")
    actual = _sha256(path)
    if actual != expected_sha256:
        raise ValueError(
            f"checkpoint file {path} is corrupted or truncated: its sha256 is {actual[:12]}..., "
            f"the checkpoint JSON expects {expected_sha256[:12]}..."
        )
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, RuntimeError, ValueError) as error:
        raise ValueError(f"cannot read tensors from {path}: {error}") from None


def load_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor], source: str = "checkpoint") -> torch.nn.Module:
    """Copy ``weights`` into ``model`` after checking that names and shapes match exactly."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = [
        f"{name}: {tuple(weights[name].shape)} in {source}, {tuple(expected[name].shape)} in the model"
        for name in expected
        if name in weights and weights[name].shape != expected[name].shape
    ]
    if missing or unexpected or wrong:
        problems = []
        if missing:
            problems.append(f"missing {len(missing)} tensor(s), e.g. {missing[:3]}")
        if unexpected:
            problems.append(f"{len(unexpected)} unexpected tensor(s), e.g. {unexpected[:3]}")
        if wrong:
            problems.append(f"{len(wrong)} shape mismatch(es), e.g. {wrong[:3]}")
        raise ValueError(f"{source} does not fit {type(model).__name__} (wrong model or config?): " + "; ".join(problems))
    with torch.no_grad():
        for name, tensor in expected.items():
            tensor.copy_(weights[name])
    return model


def load_checkpoint(path: str | Path, expected_model: type | str | None = None, device: str | torch.device | None = None, ema: bool = False):
    """Rebuild the model saved at ``path``; return ``(model, meta)`` with the model in eval mode.

    ``expected_model`` (a class or its name) makes loading anything else a ValueError.
    ``ema=True`` loads the exponential-moving-average weights of a training checkpoint instead.
    ``meta`` is the checkpoint JSON plus ``meta["config"]`` as the rebuilt config dataclass
    and ``meta["extra_state"]`` (see :func:`read_checkpoint`).
    """
    weights, meta = read_checkpoint(path)
    name = meta.get("model_class")
    wanted = expected_model if isinstance(expected_model, str) or expected_model is None else expected_model.__name__
    if wanted is not None and name != wanted:
        raise ValueError(f"checkpoint {path} holds a {name}, expected a {wanted}")

    if name not in MODEL_REGISTRY:
        _import_registering_module(meta.get("model_module"))
    if name not in MODEL_REGISTRY:
        raise ValueError(f"checkpoint {path} holds a {name}, which is not a registered dfkit model; known: {sorted(MODEL_REGISTRY)}")
    model_class, config_class = MODEL_REGISTRY[name]
    if meta.get("config_class") not in (None, config_class.__name__):
        raise ValueError(f"checkpoint {path} has a {meta.get('config_class')} config, expected {config_class.__name__}")
    config = config_from_dict(config_class, meta.get("config") or {})
    model = model_class(config)
    if ema:
        weights = {key[len("ema/"):]: value for key, value in meta["extra_state"].items() if key.startswith("ema/")}
        if not weights:
            raise ValueError(f"checkpoint {path} has no EMA weights (ema=True needs a checkpoint written by train() with ema_decay set)")
    load_weights(model, weights, source=f"checkpoint {path}")
    meta["config"] = config
    if device is not None:
        model.to(device)
    return model.eval(), meta


def _import_registering_module(module: str | None) -> None:
    """Import the dfkit module that defines (and registers) a model class; never anything else."""
    if isinstance(module, str) and (module == "dfkit" or module.startswith("dfkit.")):
        try:
            importlib.import_module(module)
        except ImportError:
            pass
