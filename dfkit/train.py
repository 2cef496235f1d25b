"""The one training loop of the course.

Every model (VAE, DDPM, flow matching, the video models) trains with

    result = train(model, loss_fn, data, TrainConfig(steps=2000, batch_size=64))

where ``loss_fn(model, batch, generator) -> scalar tensor`` and ``data`` is a tensor of examples
(or a tuple / dict of tensors, or a torch Dataset of tensors or dicts). ``batch`` arrives on the
training device and ``generator`` lives there too, so noise is drawn with
``torch.randn(shape, generator=generator, device=x.device)``. One step is:

    1. draw batch_size random indices from the seeded data generator, gather the batch
    2. lr = lr · min(1, step / warmup_steps)                      (linear warm-up)
       then, with lr_decay="cosine", lr · ½(1 + cos(π p)), p = the share of the steps after the
       warm-up already done (Loshchilov & Hutter 2017, SGDR without restarts): the last updates
       are small, so the weights settle instead of jittering around the minimum
    3. loss = loss_fn(model, batch, noise_generator); stop if it is nan or inf
    4. backward, clip the gradient norm to grad_clip, AdamW step
    5. EMA:  θ_ema <- d θ_ema + (1 - d) θ  with d = min(ema_decay, (1 + n) / (10 + n)),
       n = the number of updates before this one (a short warm-up so early EMAs are not
       dominated by the random initialization)

Randomness: three streams derived from ``seed`` (and the rank): the data indices, the
generator handed to ``loss_fn`` (on the training device), and torch's global RNG (dropout).
All three are saved in checkpoints, so training N steps in one go or N/2 + N/2 with a
save / load in between gives bit-identical weights.

Distributed: started by ``torchrun --nproc_per_node=R script.py`` the same call trains with
DistributedDataParallel (gloo on CPU, nccl on GPU): each rank draws its own batches, gradients
are averaged over ranks, only rank 0 shows progress and writes checkpoints. A process group
that ``train`` creates is destroyed when it returns; one that exists already is left alone.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.utils.data import TensorDataset, default_collate

from dfkit.checkpoint import checkpoint_paths, config_to_dict, load_weights, read_checkpoint, save_checkpoint
from dfkit.device import pick_device

STATE_KIND = "dfkit-training-state"
LR_DECAYS = ("none", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000                  # total optimizer steps (a resumed run continues up to this)
    batch_size: int = 64               # per rank
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 0
    lr_decay: str = "none"             # "none": constant after the warm-up | "cosine": down to 0 at the last step
    grad_clip: float | None = 1.0      # max gradient norm; None: no clipping
    ema_decay: float | None = 0.999    # None: no EMA model
    seed: int = 0
    log_every: int = 50                # steps between progress-bar loss updates
    checkpoint_every: int = 0          # 0: only a final checkpoint (if checkpoint_dir is set)
    checkpoint_dir: str | None = None
    keep_checkpoints: int = 0          # training checkpoints kept in checkpoint_dir, the newest (0: all)
    device: str | None = None          # None: dfkit.pick_device()
    progress: bool = True

    def validate(self) -> None:
        if self.steps < 0 or self.batch_size < 1:
            raise ValueError(f"expected steps >= 0 and batch_size >= 1, got steps={self.steps}, batch_size={self.batch_size}")
        if not self.lr > 0 or self.weight_decay < 0 or self.warmup_steps < 0:
            raise ValueError(f"expected lr > 0, weight_decay >= 0, warmup_steps >= 0, got {self.lr}, {self.weight_decay}, {self.warmup_steps}")
        if self.lr_decay not in LR_DECAYS:
            raise ValueError(f"expected lr_decay in {LR_DECAYS}, got {self.lr_decay!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"expected grad_clip > 0 or None, got {self.grad_clip}")
        if self.ema_decay is not None and not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"expected 0 <= ema_decay < 1 or None, got {self.ema_decay}")
        if self.log_every < 1 or self.checkpoint_every < 0 or self.keep_checkpoints < 0:
            raise ValueError(f"expected log_every >= 1, checkpoint_every >= 0 and keep_checkpoints >= 0, "
                             f"got {self.log_every}, {self.checkpoint_every}, {self.keep_checkpoints}")
        if self.checkpoint_every and not self.checkpoint_dir:
            raise ValueError("checkpoint_every > 0 needs a checkpoint_dir")


@dataclass
class TrainResult:
    model: nn.Module                   # the trained model (eval mode)
    ema_model: nn.Module | None        # its exponential moving average (eval mode), or None
    losses: list[float] = field(default_factory=list)  # one per step since step 0 (kept across resumes)
    steps: int = 0                     # optimizer steps done in total
    wall_seconds: float = 0.0          # time spent in this call
    checkpoint: Path | None = None     # the last checkpoint written, if any


def train(model: nn.Module, loss_fn: Callable, data, config: TrainConfig = TrainConfig(), resume_from: str | Path | None = None) -> TrainResult:
    """Train ``model`` in place by minimizing ``loss_fn(model, batch, generator)``; see the module doc."""
    config.validate()
    if not isinstance(model, nn.Module):
        raise ValueError(f"expected an nn.Module to train, got {type(model).__name__}")
    if not callable(loss_fn):
        raise ValueError(f"expected loss_fn(model, batch, generator) to be callable, got {type(loss_fn).__name__}")
    started = time.perf_counter()
    batches = BatchSampler(data, config.batch_size)
    ctx = DistributedContext.start(config.device)
    bar = None
    try:
        model.to(ctx.device).train()
        step_loss = ctx.wrap(model, loss_fn)  # DDP broadcasts rank 0's weights: every rank starts equal
        ema = copy.deepcopy(model).requires_grad_(False).eval() if config.ema_decay is not None else None
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        generators = {
            "data": torch.Generator().manual_seed(stream_seed(config.seed, ctx.rank, "data")),
            "noise": torch.Generator(device=ctx.device).manual_seed(stream_seed(config.seed, ctx.rank, "noise")),
        }
        torch.manual_seed(stream_seed(config.seed, ctx.rank, "global"))
        step, losses = 0, []
        if resume_from is not None:
            step, losses = restore_training_state(resume_from, model, ema, optimizer, generators, ctx, config)

        last_checkpoint, saved_at = None, None
        bar = _progress_bar(step, config, enabled=config.progress and ctx.rank == 0)
        while step < config.steps:
            # 1. a random batch
            batch = to_device(batches.draw(generators["data"]), ctx.device)
            # 2. learning rate: linear warm-up, then constant or cosine decay
            lr = learning_rate(config, step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            # 3. the loss, with a guard against nan / inf
            loss = step_loss(batch, generators["noise"])
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise ValueError(f"expected loss_fn to return a scalar tensor, got {tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__}")
            value = ctx.mean(loss.detach().reshape(()).float())
            if not math.isfinite(value):
                raise FloatingPointError(f"loss became {value} at step {step + 1}; try a lower lr, a smaller grad_clip or check the data")
            # 4. gradient step
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            # 5. moving average of the weights
            if ema is not None:
                update_ema(ema, model, min(config.ema_decay, (1 + step) / (10 + step)))
            step += 1
            losses.append(value)

            if bar is not None:
                bar.update(1)
                if step % config.log_every == 0 or step == config.steps:
                    recent = losses[-config.log_every:]
                    bar.set_postfix(loss=f"{sum(recent) / len(recent):.4g}")
            if config.checkpoint_every and step % config.checkpoint_every == 0:
                last_checkpoint = save_training_state(checkpoint_name(config.checkpoint_dir, step), model, ema, optimizer, generators, step, losses, config, ctx)
                saved_at = step
                _drop_old_checkpoints(config, ctx)
        if config.checkpoint_dir and saved_at != step:  # the same decision on every rank (saving is collective)
            last_checkpoint = save_training_state(checkpoint_name(config.checkpoint_dir, step), model, ema, optimizer, generators, step, losses, config, ctx)
            _drop_old_checkpoints(config, ctx)
    finally:
        if bar is not None:
            bar.close()
        ctx.stop()

    model.eval()
    return TrainResult(model=model, ema_model=ema, losses=losses, steps=step, wall_seconds=time.perf_counter() - started, checkpoint=last_checkpoint)


RESUMABLE_SAVES = 10


def train_resumable(model: nn.Module, loss_fn: Callable, data, config: TrainConfig, work_dir: str | Path | None) -> TrainResult:
    """:func:`train`, but an interruption costs at most a tenth of the run: the training state is saved
    to ``work_dir`` every ``steps / 10`` steps (the newest kept), and a later call with the same
    ``work_dir`` continues from it, to the same weights as an uninterrupted run. ``work_dir=None``
    trains in one go. The caller removes ``work_dir`` once the trained model is safely saved.
    """
    if work_dir is None:
        return train(model, loss_fn, data, config)
    every = max(config.steps // RESUMABLE_SAVES, 1)
    config = dataclasses.replace(config, checkpoint_dir=str(work_dir), checkpoint_every=every, keep_checkpoints=1)
    found = latest_checkpoint(work_dir) if Path(work_dir).is_dir() else None
    if found is not None and not _same_training(found, model, config):
        for stale in Path(work_dir).glob("step_*"):             # another recipe's state: start afresh
            stale.unlink()
        found = None
    if found is not None and config.progress:
        print(f"resuming from {found.name} (an earlier training of this model was interrupted)", flush=True)
    return train(model, loss_fn, data, config, resume_from=found)


# TrainConfig fields that change how a run is shown or saved, not what it computes
_PRESENTATION_FIELDS = ("log_every", "checkpoint_every", "checkpoint_dir", "keep_checkpoints", "device", "progress")


def _same_training(state: Path, model: nn.Module, config: TrainConfig) -> bool:
    """Whether the training state at ``state`` was saved by a run of this model config and TrainConfig."""
    try:
        meta = json.loads(checkpoint_paths(state)["json"].read_text())
    except (OSError, ValueError):
        return False
    saved = dict((meta.get("extra") or {}).get("train_config") or {})
    current = dataclasses.asdict(config)
    for name in _PRESENTATION_FIELDS:
        saved.pop(name, None)
        current.pop(name, None)
    model_config = getattr(model, "config", None)
    same_model = not dataclasses.is_dataclass(model_config) or meta.get("config") == config_to_dict(model_config)
    return same_model and saved == json.loads(json.dumps(current))


def learning_rate(config: TrainConfig, step: int) -> float:
    """The learning rate of update ``step`` (0-based): linear warm-up over ``warmup_steps`` updates,
    then constant, or with ``lr_decay="cosine"`` lr · ½(1 + cos(π (step - warmup_steps) / (steps - warmup_steps))).

    The schedule depends on ``config.steps``: resuming a run with more steps stretches its decay.
    """
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.lr_decay == "none":
        return config.lr
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """θ_ema <- decay · θ_ema + (1 - decay) · θ for every parameter; buffers are copied."""
    for ema_param, param in zip(ema.parameters(), model.parameters()):
        ema_param.mul_(decay).add_(param.detach(), alpha=1.0 - decay)
    for ema_buffer, buffer in zip(ema.buffers(), model.buffers()):
        ema_buffer.copy_(buffer)


def stream_seed(seed: int, rank: int, stream: str) -> int:
    """A 63-bit seed for one random stream of one rank, derived from the run's seed."""
    digest = hashlib.sha256(f"dfkit/{seed}/{rank}/{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _progress_bar(start: int, config: TrainConfig, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=config.steps, initial=start, desc="train", unit="step", dynamic_ncols=True)


# ----------------------------------------------------------------------------- data


class BatchSampler:
    """Random batches (indices drawn with replacement from a seeded generator) from:

    * a tensor or numpy array of examples (first dim = examples),
    * a tuple of tensors or a dict of tensors with the same first dim (or a TensorDataset),
    * a torch Dataset (``len`` and ``[i]``) of tensors, tuples or dicts, collated with torch's default_collate.
    """

    def __init__(self, data, batch_size: int):
        self.batch_size = batch_size
        if isinstance(data, np.ndarray):
            data = torch.from_numpy(data)
        if isinstance(data, TensorDataset):
            data = tuple(data.tensors)  # same items, gathered without a Python loop
        if isinstance(data, torch.Tensor):
            if data.ndim == 0:
                raise ValueError("expected a tensor of examples with a first (example) dimension, got a scalar")
            self.size, self.take = len(data), lambda idx: data[idx.to(data.device)]
        elif isinstance(data, tuple) and data and all(isinstance(t, torch.Tensor) for t in data):
            self.size = self._common_length([len(t) for t in data])
            self.take = lambda idx: tuple(t[idx.to(t.device)] for t in data)
        elif isinstance(data, dict) and data and all(isinstance(t, torch.Tensor) for t in data.values()):
            self.size = self._common_length([len(t) for t in data.values()])
            self.take = lambda idx: {key: t[idx.to(t.device)] for key, t in data.items()}
        elif hasattr(data, "__getitem__") and hasattr(data, "__len__"):
            self.size = len(data)
            self.take = lambda idx: default_collate([data[i] for i in idx.tolist()])
        else:
            raise ValueError(f"expected data to be a tensor, a tuple or dict of tensors, or a Dataset, got {type(data).__name__}")
        if self.size == 0:
            raise ValueError("expected a non-empty dataset, got 0 examples")

    @staticmethod
    def _common_length(lengths: list[int]) -> int:
        if len(set(lengths)) != 1:
            raise ValueError(f"expected tensors with the same number of examples, got lengths {lengths}")
        return lengths[0]

    def draw(self, generator: torch.Generator):
        indices = torch.randint(0, self.size, (self.batch_size,), generator=generator)
        return self.take(indices)


def to_device(batch, device: torch.device):
    """Move the tensors of a batch (a tensor, or a tuple / list / dict of them) to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {key: to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(value, device) for value in batch)
    return batch


# ----------------------------------------------------------------------------- distributed


class _LossModule(nn.Module):
    """Holds the model so that DistributedDataParallel's forward is the whole loss computation:
    ``loss_fn`` may then call any method of the model (encode, decode, ...) and the gradients
    are still averaged over ranks."""

    def __init__(self, model: nn.Module, loss_fn: Callable):
        super().__init__()
        self.model, self.loss_fn = model, loss_fn

    def forward(self, batch, generator):
        return self.loss_fn(self.model, batch, generator)


@dataclass
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    created_group: bool = False

    @classmethod
    def start(cls, preferred_device: str | None) -> "DistributedContext":
        """One process (world size 1), or join the process group that torchrun's env describes."""
        device = pick_device(preferred_device)
        already = dist.is_available() and dist.is_initialized()
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1 and not already:
            return cls(device=device)
        if not dist.is_available():
            raise ValueError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        if device.type == "cuda":
            torch.cuda.set_device(device)
        if not already:
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        return cls(rank=dist.get_rank(), world_size=dist.get_world_size(), device=device, created_group=not already)

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def wrap(self, model: nn.Module, loss_fn: Callable) -> Callable:
        """A function batch, generator -> loss; under DDP the gradients of its backward are averaged."""
        if not self.distributed:
            return lambda batch, generator: loss_fn(model, batch, generator)
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(_LossModule(model, loss_fn), device_ids=device_ids)

    def mean(self, value: torch.Tensor) -> float:
        """The mean of a scalar over ranks, as a Python float (the same on every rank)."""
        if self.distributed:
            value = value.clone()
            dist.all_reduce(value)
            value /= self.world_size
        return value.item()

    def gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Every rank's copy of a same-shaped tensor, on the CPU, in rank order."""
        if not self.distributed:
            return [tensor.cpu()]
        local = tensor.to(self.device) if dist.get_backend() == "nccl" else tensor.cpu()
        copies = [torch.empty_like(local) for _ in range(self.world_size)]
        dist.all_gather(copies, local)
        return [c.cpu() for c in copies]

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def stop(self) -> None:
        if self.created_group and dist.is_initialized():
            dist.destroy_process_group()


# ----------------------------------------------------------------------------- checkpoints


def checkpoint_name(directory: str | Path, step: int) -> Path:
    return Path(directory) / f"step_{step:07d}"


def _drop_old_checkpoints(config: TrainConfig, ctx: "DistributedContext") -> None:
    """Remove all but the newest ``config.keep_checkpoints`` training checkpoints (rank 0 only)."""
    if not config.keep_checkpoints or ctx.rank != 0:
        return
    found = sorted(Path(config.checkpoint_dir).glob("step_*.json"))
    for old in found[:-config.keep_checkpoints]:
        for path in checkpoint_paths(old).values():   # the JSON first: a half-removed checkpoint is never picked
            path.unlink(missing_ok=True)


def latest_checkpoint(directory: str | Path) -> Path | None:
    """The training checkpoint with the most steps in ``directory``, or None."""
    found = sorted(Path(directory).glob("step_*.json"))
    return found[-1].with_suffix("") if found else None


def _rng_states(generators: dict, device: torch.device) -> dict[str, torch.Tensor]:
    states = {name: generator.get_state() for name, generator in generators.items()}
    states["torch"] = torch.get_rng_state()
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states  # uint8 tensors


def save_training_state(path, model, ema, optimizer, generators, step, losses, config, ctx=None) -> Path | None:
    """Model weights plus EMA, optimizer, step, losses and every rank's RNG states (only rank 0 writes)."""
    ctx = ctx or DistributedContext()
    extra: dict = {"kind": STATE_KIND, "world_size": ctx.world_size, "losses": list(losses), "train_config": dataclasses.asdict(config)}
    for name, state in _rng_states(generators, ctx.device).items():  # collective: every rank takes part
        for rank, copy_ in enumerate(ctx.gather(state)):
            extra[f"rng/{rank}/{name}"] = copy_
    if ema is not None:
        extra.update({f"ema/{key}": value for key, value in ema.state_dict().items()})
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            extra[f"optimizer/{index}/{key}"] = value
    written = None
    if ctx.rank == 0:
        model_config = getattr(model, "config", None)
        model_config = model_config if dataclasses.is_dataclass(model_config) else None
        written = save_checkpoint(path, model, model_config, step=step, extra_state=extra)
    ctx.barrier()
    return written


def restore_training_state(path, model, ema, optimizer, generators, ctx, config) -> tuple[int, list[float]]:
    """Load what :func:`save_training_state` wrote into fresh objects; return (step, losses)."""
    path = Path(path)
    if path.is_dir() and not (path / "model.json").exists():
        found = latest_checkpoint(path)
        if found is None:
            raise FileNotFoundError(f"no training checkpoint (step_*.json) in {path}")
        path = found
    weights, meta = read_checkpoint(path)
    extra = meta["extra_state"]
    if extra.get("kind") != STATE_KIND:
        raise ValueError(f"{path} is a model checkpoint without training state; resume_from needs a checkpoint written by train()")
    load_weights(model, weights, source=f"checkpoint {path}")
    if ema is not None:
        ema_weights = {key[len("ema/"):]: value for key, value in extra.items() if key.startswith("ema/")}
        if ema_weights:
            load_weights(ema, ema_weights, source=f"EMA weights of {path}")
        else:
            ema.load_state_dict(model.state_dict())

    state: dict[int, dict] = {}
    for key, value in extra.items():
        if key.startswith("optimizer/"):
            _, index, name = key.split("/", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer_state = optimizer.state_dict()
    if state and set(state) - set(range(len(optimizer_state["param_groups"][0]["params"]))):
        raise ValueError(f"optimizer state in {path} does not fit this model's parameters")
    optimizer_state["state"] = state
    optimizer.load_state_dict(optimizer_state)

    step = int(meta.get("step") or 0)
    if f"rng/{ctx.rank}/data" in extra:
        for name, generator in generators.items():
            generator.set_state(extra[f"rng/{ctx.rank}/{name}"])
        torch.set_rng_state(extra[f"rng/{ctx.rank}/torch"])
        if ctx.device.type == "cuda" and f"rng/{ctx.rank}/cuda" in extra:
            torch.cuda.set_rng_state(extra[f"rng/{ctx.rank}/cuda"], ctx.device)
    else:
        warnings.warn(f"{path} has no RNG state for rank {ctx.rank} (saved with {extra.get('world_size')} rank(s)); reseeding from (seed, rank, step)")
        for name, generator in generators.items():
            generator.manual_seed(stream_seed(config.seed + step, ctx.rank, name))
        torch.manual_seed(stream_seed(config.seed + step, ctx.rank, "global"))
    losses = [float(v) for v in extra.get("losses", [])]
    return step, losses
