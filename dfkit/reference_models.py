"""The course's reference models: which notebook needs which, whether they are here, training them.

A reference model is a trained model that a notebook loads rather than trains: the image models of
lessons 01-03, the sequence models of lessons 04-07 and the metric digit classifier. The instructor
trains a profile's models once (``dfkit checkpoints train``), packs them (``dfkit checkpoints pack``,
:mod:`dfkit.model_pack`), and students install the pack (``dfkit checkpoints install``). They live
under :func:`dfkit.checkpoint.checkpoint_root`.

    profile = get_profile("class")
    announce("04_teacher_forcing", profile)        # what a notebook prints before it trains anything
    statuses = [model_status(model, profile) for model in required(profile)]
    train_missing(profile, lessons=["02_ddpm"])    # trains what is missing or stale, resumable

A model's estimate is measured here and now: a few timed training steps of the model on a batch
of its real shape, times its preset number of steps. A document's minutes would be wrong on a
slower or busier laptop.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from dfkit import recipes
from dfkit.checkpoint import INSTALL_HINT, config_to_dict
from dfkit.metrics import classifier as digit_classifier
from dfkit.sequence import recipes as sequence_recipes
from dfkit.train import TrainConfig, train

KINDS = ("image", "sequence", "classifier")
WARMUP_STEPS, TIMED_STEPS = 2, 3


@dataclass(frozen=True)
class ReferenceModel:
    """One trained model of the course: an image recipe, a sequence recipe on a dataset, or the classifier."""

    kind: str                      # "image" | "sequence" | "classifier"
    name: str                      # "ddpm", "teacher_forcing", "digit_classifier", ...
    dataset: str | None = None     # sequence models: "pendulum" | "moving_mnist"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"expected kind in {KINDS}, got {self.kind!r}")
        if (self.kind == "sequence") != (self.dataset is not None):
            raise ValueError(f"expected a dataset for sequence models only, got kind={self.kind!r}, dataset={self.dataset!r}")

    @property
    def label(self) -> str:
        """How the model is named to a person: ``ddpm``, ``pendulum teacher_forcing``, ``digit classifier``."""
        if self.kind == "classifier":
            return "digit classifier"
        return f"{self.dataset} {self.name}" if self.dataset else self.name

    def path(self, profile) -> Path:
        """The checkpoint prefix (``.json`` / ``.safetensors``) under the checkpoint root."""
        if self.kind == "image":
            return recipes.checkpoint_path(self.name, profile)
        if self.kind == "sequence":
            return sequence_recipes.checkpoint_path(self.name, self.dataset, profile)
        return digit_classifier.classifier_path()

    def training_config(self, profile) -> TrainConfig:
        if self.kind == "image":
            return recipes.training_config(self.name, profile)
        if self.kind == "sequence":
            return sequence_recipes.training_config(self.name, self.dataset, profile)
        return TrainConfig(steps=digit_classifier.CLASSIFIER_STEPS, batch_size=64)

    def record(self, profile) -> dict:
        """What the presets train, as JSON: the model config, the step count and (sequence models) the
        objective. A pack's manifest carries it, and an install compares it with this dfkit's presets."""
        if self.kind == "image":
            config = config_to_dict(recipes.model_config(self.name, profile))
        elif self.kind == "sequence":
            config = config_to_dict(sequence_recipes.backbone_config(self.name, self.dataset, profile))
        else:
            config = {"version": digit_classifier.CLASSIFIER_VERSION}
        record = {"config": config, "steps": self.training_config(profile).steps}
        if self.kind == "sequence":
            loss_fn = sequence_recipes.objective(self.name, self.dataset, profile)
            record["objective"] = sequence_recipes.objective_record(loss_fn)
        return record

    def load(self, profile, path: Path | None = None) -> torch.nn.Module:
        """The checkpoint at ``path`` (default :meth:`path`), verified and checked against the presets:
        FileNotFoundError when missing, ValueError (saying what differs) when stale or corrupted."""
        path = path if path is not None else self.path(profile)
        if self.kind == "image":
            return recipes.load_image_model(self.name, profile, path)
        if self.kind == "sequence":
            return sequence_recipes.load_sequence_model(self.name, self.dataset, profile, path=path, device="cpu")
        return digit_classifier.load_classifier(path)

    def train(self, profile, progress: bool = True) -> None:
        """Train the model with its recipe and save it at :meth:`path` (an interrupted training resumes)."""
        if self.kind == "image":
            recipes.image_model(self.name, profile, retrain=True, progress=progress)
        elif self.kind == "sequence":
            sequence_recipes.sequence_model(self.name, self.dataset, profile, retrain=True, progress=progress)
        else:
            digit_classifier.get_classifier(progress=progress, retrain=True)


def _image(name):
    return ReferenceModel("image", name)


def _pendulum(name):
    return ReferenceModel("sequence", name, "pendulum")


def _moving_mnist(name):
    return ReferenceModel("sequence", name, "moving_mnist")


CLASSIFIER = ReferenceModel("classifier", "digit_classifier")

# The models each notebook loads, in the order it loads them. tests/test_notebooks_execute.py runs every
# released notebook with only its own models installed and training switched off.
LESSONS: dict[str, tuple[ReferenceModel, ...]] = {
    "00_warmup": (),
    "01_vae": (_image("vae"),),
    "02_ddpm": (_image("ddpm"), CLASSIFIER),
    "03_flow_matching": (_image("flow"), _image("ddpm"), CLASSIFIER),
    "04_teacher_forcing": (_pendulum("teacher_forcing_1frame"), _pendulum("teacher_forcing_2frame"), _pendulum("teacher_forcing"),
                           _pendulum("regressor"), _moving_mnist("teacher_forcing"), _moving_mnist("regressor")),
    "05_full_sequence": (_pendulum("full_sequence"), _moving_mnist("full_sequence"), CLASSIFIER),
    "06_diffusion_forcing": (_pendulum("diffusion_forcing"), _pendulum("teacher_forcing"), _pendulum("regressor"),
                             _moving_mnist("teacher_forcing"), _moving_mnist("regressor"), _moving_mnist("diffusion_forcing"),
                             CLASSIFIER),
    "07_guidance": (_pendulum("diffusion_forcing"), _moving_mnist("diffusion_forcing"), CLASSIFIER),
}


def lesson_models(lesson: str) -> tuple[ReferenceModel, ...]:
    """The reference models notebook ``lesson`` loads; a ValueError names the known lessons otherwise."""
    if lesson not in LESSONS:
        raise ValueError(f"unknown lesson {lesson!r}; expected one of {sorted(LESSONS)}")
    return LESSONS[lesson]


def required(lessons=None) -> list[ReferenceModel]:
    """The reference models of ``lessons`` (default: every lesson), each once, in course order."""
    chosen = list(LESSONS) if not lessons else list(lessons)
    models: list[ReferenceModel] = []
    for lesson in chosen:
        models += [model for model in lesson_models(lesson) if model not in models]
    return models


def from_record(entry: dict) -> ReferenceModel:
    """The :class:`ReferenceModel` a pack manifest's entry names (its ``kind``, ``name``, ``dataset``)."""
    try:
        model = ReferenceModel(entry["kind"], entry["name"], entry.get("dataset"))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"expected a model entry with kind, name and dataset, got {entry!r} ({error})") from None
    if model not in required():
        raise ValueError(f"{model.label} is not a reference model of this dfkit; expected one of "
                         f"{[known.label for known in required()]}")
    return model


# ----------------------------------------------------------------------------- status


@dataclass(frozen=True)
class ModelStatus:
    model: ReferenceModel
    state: str                           # "present" | "missing" | "stale" (a checkpoint the presets refuse)
    detail: str = ""                     # why a checkpoint is stale
    seconds: float | None = None         # estimated training time on this machine (missing or stale models)


def model_status(model: ReferenceModel, profile, estimate: bool = False) -> ModelStatus:
    """Whether ``model`` is installed and usable; ``estimate``: also time its training on this machine."""
    path = model.path(profile)
    if not path.with_suffix(".json").exists():
        state, detail = "missing", ""
    else:
        try:
            model.load(profile, path)
            state, detail = "present", ""
        except (ValueError, FileNotFoundError) as error:
            state, detail = "stale", str(error)
    seconds = estimate_seconds(model, profile) if estimate and state != "present" else None
    return ModelStatus(model, state, detail, seconds)


def estimate_seconds(model: ReferenceModel, profile) -> float:
    """Seconds a full training of ``model`` would take on this machine now: the median of a few timed
    optimizer steps (after a warm-up), on a synthetic batch of the real shape, times the preset steps.
    Generating the training data the first time comes on top."""
    network, loss_fn, data = _timing_setup(model, profile)
    config = dataclasses.replace(model.training_config(profile), progress=False, checkpoint_dir=None, checkpoint_every=0,
                                 device="cpu" if model.kind == "classifier" else None)
    train(network, loss_fn, data, dataclasses.replace(config, steps=WARMUP_STEPS))
    per_step = []
    for _ in range(TIMED_STEPS):
        per_step.append(train(network, loss_fn, data, dataclasses.replace(config, steps=1)).wall_seconds)
    return sorted(per_step)[len(per_step) // 2] * config.steps


def _timing_setup(model: ReferenceModel, profile):
    """An untrained network, its loss and random data of the training batch's shape."""
    batch = model.training_config(profile).batch_size
    if model.kind == "image":
        network, loss_fn = recipes.model_and_loss(model.name, profile)
        low = 0.0 if model.name == "vae" else -1.0                       # the VAE sees [0, 1], the UNets [-1, 1]
        return network, loss_fn, low + (1.0 - low) * torch.rand(batch, 1, 28, 28)
    if model.kind == "sequence":
        network, loss_fn = sequence_recipes.model_and_loss(model.name, model.dataset, profile)
        data_config = getattr(profile, model.dataset)
        size = getattr(data_config, "image_size", None) or data_config.canvas_size
        return network, loss_fn, torch.rand(batch, data_config.num_frames, 1, size, size)       # (B, T, 1, H, W) in [0, 1]
    images, labels = torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    return digit_classifier.DigitClassifier(), digit_classifier.classifier_loss, torch.utils.data.TensorDataset(images, labels)


def format_minutes(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def status_report(lessons, profile, estimate: bool = True) -> tuple[str, list[ModelStatus]]:
    """A readable table of ``lessons``' models: present / missing / stale, with training estimates.
    Returns the text and the status of every model (each model once)."""
    statuses: dict[ReferenceModel, ModelStatus] = {}
    lines = []
    for lesson in lessons:
        models = lesson_models(lesson)
        for model in models:
            if model not in statuses:
                statuses[model] = model_status(model, profile, estimate)
        missing = [statuses[model] for model in models if statuses[model].state != "present"]
        verdict = "complete" if not missing else f"{len(missing)} of {len(models)} missing"
        lines.append(f"{lesson}: {verdict}" if models else f"{lesson}: needs no trained model")
        for model in models:
            status = statuses[model]
            estimate_text = f"  (about {format_minutes(status.seconds)} to train here)" if status.seconds is not None else ""
            lines.append(f"  {status.state:8s} {model.label}{estimate_text}")
            if status.detail:
                lines.append(f"           {status.detail}")
    return "\n".join(lines), list(statuses.values())


def announce(lesson: str, profile, estimate: bool = True) -> list[ModelStatus]:
    """Print, before a notebook trains anything, which reference models it needs, which are missing,
    how long they would take to train on this machine, and the command that installs them instead."""
    models = lesson_models(lesson)
    if not models:
        print(f"{lesson} needs no trained model.")
        return []
    statuses = [model_status(model, profile, estimate) for model in models]
    missing = [status for status in statuses if status.state != "present"]
    print(f"Reference models of {lesson} ({profile.name} profile, in {recipes.checkpoint_root() / profile.name}):")
    for status in statuses:
        estimate_text = f", about {format_minutes(status.seconds)} to train on this machine" if status.seconds is not None else ""
        print(f"  {status.state:8s} {status.model.label}{estimate_text}")
    if not missing:
        print("All present: nothing will be trained.")
    else:
        total = sum(status.seconds or 0.0 for status in missing)
        when = f"about {format_minutes(total)} on this machine, " if estimate else ""
        print(f"The {len(missing)} missing model(s) will be trained when a cell first needs them ({when}"
              f"plus generating their data the first time). To skip that, install the course's model pack:\n"
              f"    {INSTALL_HINT}        (ask your instructor for PACK: a file or a URL)")
    return statuses


# ----------------------------------------------------------------------------- training


def train_missing(profile, lessons=None, progress: bool = True, log=print) -> list[ReferenceModel]:
    """Train every reference model of ``lessons`` (default: all) that is missing or stale, one after
    the other; present ones are skipped. An interrupted run continues where it stopped when called
    again: finished models are present, the one in training resumes from its last saved state.
    Returns the models trained."""
    models = required(lessons)
    todo = []
    for model in models:
        status = model_status(model, profile)
        if status.state == "present":
            log(f"present  {model.label}")
        else:
            todo.append(model)
            log(f"{status.state:8s} {model.label}" + (f": {status.detail}" if status.detail else ""))
    for index, model in enumerate(todo, start=1):
        log(f"[{index}/{len(todo)}] training {model.label} ({model.training_config(profile).steps:,} steps)")
        started = time.perf_counter()
        model.train(profile, progress=progress)
        log(f"[{index}/{len(todo)}] {model.label} saved to {model.path(profile)} in {format_minutes(time.perf_counter() - started)}")
    return todo
