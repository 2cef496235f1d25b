"""Stand-ins: the objects graded tests pass to a student's function, and how they reach the worker.

Some exercises take an object as an argument: a noise schedule, a random generator, a denoiser, a
next-frame sampler. The worker that runs a submission receives only data (:mod:`autograder.protocol`),
so a test sends a stand-in as a plain dict that names its type, ``{"$standin": "ToyDenoiser",
"scale": 0.5, "offset": 1.0}``, and the worker rebuilds the object on arrival::

    # in a test
    submission.diffusion_loss(ToyDenoiser(0.5, 1.0).as_argument(), x0, schedule_argument(COURSE), ...)

:data:`BUILDERS` is the declared set: the worker rebuilds these types and no others, so a message
can never name an arbitrary function to call. An assignment whose tests send stand-ins lists
``autograder.standins`` in the ``MODULES`` of its ``questions.py``; the worker imports it up front,
after it has put the grader's copy of dfkit first on ``sys.path``.

The toys are small, fixed, deterministic functions, written so that a student's function that feeds
them the wrong inputs (x_0 instead of x_k, the wrong levels, the frames in the wrong order) gets a
visibly different answer. They serve the graded checks only; the notebooks use the course's models.
"""

from __future__ import annotations

import torch

from autograder.protocol import STANDIN_KEY
from dfkit.diffusion.schedules import NoiseSchedule

# ----------------------------------------------------------------------------- objects the library defines

SCHEDULE_TENSORS = ("betas", "alphas", "alpha_bars", "one_minus_alpha_bars")


def schedule_argument(schedule: NoiseSchedule) -> dict:
    """A noise schedule as plain data (its tensors, K and its name)."""
    tensors = {name: getattr(schedule, name) for name in SCHEDULE_TENSORS}
    return tagged("NoiseSchedule", num_levels=int(schedule.num_levels), kind=str(schedule.kind), **tensors)


def _noise_schedule(num_levels, kind, **tensors) -> NoiseSchedule:
    if sorted(tensors) != sorted(SCHEDULE_TENSORS):
        raise ValueError(f"a schedule argument needs exactly the tensors {SCHEDULE_TENSORS}, got {sorted(tensors)}")
    return NoiseSchedule(num_levels=int(num_levels), kind=str(kind), **{name: torch.as_tensor(value) for name, value in tensors.items()})


def generator_argument(seed: int) -> dict:
    """A ``torch.Generator().manual_seed(seed)`` as plain data."""
    return tagged("Generator", seed=int(seed))


def _generator(seed) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"expected a generator seed as a non-negative int, got {seed!r}")
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- toy models


class ToyDenoiser:
    """Lesson 02's stand-in for a network: ``(x_k, k) -> scale · x_k + offset · cos(k)``.

    It uses both of its inputs, so a loss that feeds it x_0 instead of x_k, or the wrong levels,
    gets a different value. ``k`` of shape ``(B,)`` broadcasts over the trailing dimensions.
    """

    def __init__(self, scale: float, offset: float):
        self.scale, self.offset = float(scale), float(offset)

    def __call__(self, x_k: torch.Tensor, k) -> torch.Tensor:
        levels = torch.as_tensor(k).to(device=x_k.device, dtype=torch.float64)
        levels = levels.reshape(tuple(levels.shape) + (1,) * (x_k.dim() - levels.dim()))
        return (self.scale * x_k + self.offset * torch.cos(levels)).to(x_k.dtype)

    def as_argument(self) -> dict:
        return tagged("ToyDenoiser", scale=self.scale, offset=self.offset)

    def __repr__(self) -> str:
        return f"ToyDenoiser(scale={self.scale:g}, offset={self.offset:g})"


class ToyNextFrame:
    """Lesson 04's stand-in for a next-frame sampler: ``window -> tanh(Σ_j w_j x_{t-j} + bias)``.

    ``weights[0]`` multiplies the newest frame of the window, ``weights[1]`` the one before it, and
    so on. The window must hold exactly ``len(weights)`` frames; any other length is refused with a
    message, so a rollout loop that passes too much or too little history fails clearly, and one
    that reverses the window or never slides it gets different frames.
    """

    def __init__(self, weights, bias: float):
        self.weights = [float(w) for w in weights]
        self.bias = float(bias)
        if not self.weights:
            raise ValueError("expected at least one weight")

    def __call__(self, window: torch.Tensor) -> torch.Tensor:
        h = len(self.weights)
        if not isinstance(window, torch.Tensor) or window.dim() != 5 or window.shape[1] != h:
            got = tuple(window.shape) if isinstance(window, torch.Tensor) else type(window).__name__
            raise ValueError(f"expected a window of the last {h} frames, shape (B, {h}, C, H, W), got {got}")
        w = torch.tensor(self.weights[::-1], dtype=window.dtype, device=window.device)      # oldest first
        return torch.tanh((w.reshape(1, h, 1, 1, 1) * window).sum(dim=1) + self.bias)       # (B, C, H, W)

    def as_argument(self) -> dict:
        return tagged("ToyNextFrame", weights=self.weights, bias=self.bias)

    def __repr__(self) -> str:
        return f"ToyNextFrame(weights={self.weights}, bias={self.bias:g})"


class ToyJointDenoiser:
    """Lesson 05's stand-in for a bidirectional video model's clean estimate:

        x̂_0 = scale · x_k + mixing · tanh(mean_t x_k) + offset · cos(k)

    Every frame's estimate depends on every frame (through the mean over the window) and on its
    level, so a reconstruction gradient that ignores the other frames, the levels or the chain
    rule through the model comes out different. It is differentiable.
    """

    def __init__(self, scale: float, mixing: float, offset: float):
        self.scale, self.mixing, self.offset = float(scale), float(mixing), float(offset)

    def __call__(self, x_k: torch.Tensor, levels) -> torch.Tensor:
        levels = torch.as_tensor(levels).to(device=x_k.device, dtype=torch.float64)
        levels = levels.reshape(tuple(levels.shape) + (1,) * (x_k.dim() - levels.dim()))
        mixed = torch.tanh(x_k.mean(dim=1, keepdim=True))                           # (B, 1, C, H, W)
        return self.scale * x_k + self.mixing * mixed + (self.offset * torch.cos(levels)).to(x_k.dtype)

    def as_argument(self) -> dict:
        return tagged("ToyJointDenoiser", scale=self.scale, mixing=self.mixing, offset=self.offset)

    def __repr__(self) -> str:
        return f"ToyJointDenoiser(scale={self.scale:g}, mixing={self.mixing:g}, offset={self.offset:g})"


class ToyVideoDenoiser:
    """Lesson 06's causal stand-in for a video denoiser: ``(frames (B, T, C, H, W), levels (B, T))``.

    Output at frame t: ``scale · x_t + mix · mean(x_1, …, x_t) + offset · cos(k_t / 150)
    + tilt · sin(k_{t-1} / 90)`` (k_0 of the first frame's predecessor taken as 0). It uses every
    input it may (the frame, the frames before it, its level and its predecessor's level) and none
    after it, so a sampler that shows it the wrong levels, the wrong frames or one frame at a time
    gets a different answer. It refuses levels that are not ``(B, T)`` integers, as the course's
    backbone does.
    """

    def __init__(self, scale: float, mix: float, offset: float, tilt: float):
        self.scale, self.mix, self.offset, self.tilt = float(scale), float(mix), float(offset), float(tilt)

    def __call__(self, frames: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        if not isinstance(frames, torch.Tensor) or frames.dim() != 5:
            got = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
            raise ValueError(f"expected frames of shape (B, T, C, H, W), got {got}")
        B, T = frames.shape[:2]
        if not isinstance(levels, torch.Tensor) or tuple(levels.shape) != (B, T):
            got = tuple(levels.shape) if isinstance(levels, torch.Tensor) else type(levels).__name__
            raise ValueError(f"expected levels of shape (B, T) = ({B}, {T}) to match the frames, got {got}")
        if levels.is_floating_point() or levels.dtype == torch.bool:
            raise ValueError(f"expected integer levels, got dtype {levels.dtype}")
        k = levels.to(device=frames.device, dtype=torch.float64)                          # (B, T)
        previous = torch.cat([torch.zeros_like(k[:, :1]), k[:, :-1]], dim=1)                # (B, T): k_{t-1}
        counts = torch.arange(1, T + 1, device=frames.device, dtype=frames.dtype).reshape(1, T, 1, 1, 1)
        history_mean = frames.cumsum(dim=1) / counts                                        # mean of x_1..x_t
        shift = self.offset * torch.cos(k / 150) + self.tilt * torch.sin(previous / 90)     # (B, T)
        return self.scale * frames + self.mix * history_mean + shift.to(frames.dtype)[..., None, None, None]

    def as_argument(self) -> dict:
        return tagged("ToyVideoDenoiser", scale=self.scale, mix=self.mix, offset=self.offset, tilt=self.tilt)

    def __repr__(self) -> str:
        return f"ToyVideoDenoiser(scale={self.scale:g}, mix={self.mix:g}, offset={self.offset:g}, tilt={self.tilt:g})"


# ----------------------------------------------------------------------------- the declared set

# name -> builder(**fields): every type the worker rebuilds, and the only ones.
BUILDERS = {
    "NoiseSchedule": _noise_schedule,
    "Generator": _generator,
    "ToyDenoiser": ToyDenoiser,
    "ToyNextFrame": ToyNextFrame,
    "ToyJointDenoiser": ToyJointDenoiser,
    "ToyVideoDenoiser": ToyVideoDenoiser,
}


def tagged(name: str, **fields) -> dict:
    """The plain-data form of a stand-in: its declared type name and its fields (data only)."""
    if name not in BUILDERS:
        raise KeyError(f"{name!r} is not a declared stand-in; declared: {sorted(BUILDERS)}")
    return {STANDIN_KEY: name, **fields}


def rebuild(value: dict):
    """The object a stand-in's plain data describes (its fields already decoded); refuses undeclared types."""
    fields = dict(value)
    name = fields.pop(STANDIN_KEY)
    build = BUILDERS.get(name) if isinstance(name, str) else None
    if build is None:
        raise ValueError(f"unknown stand-in {str(name)[:60]!r}: the worker rebuilds only {sorted(BUILDERS)}")
    return build(**fields)
