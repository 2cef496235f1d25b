"""Training objectives of the sequence models: four ways to teach one video backbone.

Each objective is a small frozen dataclass; an instance *is* the ``loss_fn(model, batch,
generator)`` that :func:`dfkit.train.train` expects::

    loss_fn = DiffusionForcing(make_schedule("cosine"))
    train(VideoBackbone(VideoBackboneConfig(temporal="causal")), loss_fn, clips, TrainConfig())

``batch`` is a clip tensor ``(B, T, C, H, W)``, a dict with ``"frames"`` (what
``dfkit.data.load(...)`` items hold) or a tuple whose first entry is the clips. Datasets give
frames in [0, 1]; with ``rescale=True`` (the default) they are mapped to [-1, 1], where the
diffusion models work (:func:`to_model_range`).

The three diffusion objectives share :func:`dfkit.diffusion.ddpm.diffusion_loss` (Ho et al.
2020, eq. 14, any parameterization, optional min-SNR weighting); they differ only in which
noise level every frame gets and in what the model is allowed to see:

===========================  ===========================================  ======================
objective                    levels ``(B, T)``                            backbone
===========================  ===========================================  ======================
TeacherForcing               history 0 (or k_h), target(s) k ~ U{1..K}    causal (any works)
NextFrameRegression          all 0; output at t regresses frame t + 1     causal or GRU
FullSequenceDiffusion        one k ~ U{1..K} per clip, for every frame    bidirectional
DiffusionForcing (Alg. 1)    an independent k_t ~ U{0..K} for every frame causal or GRU
===========================  ===========================================  ======================

Diffusion Forcing can mix in two other cases (shares of clips): one level for the whole clip, as
full-sequence diffusion, and a clean history before independent levels, as autoregressive
sampling meets it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dfkit.diffusion.ddpm import check_parameterization, diffusion_loss, q_sample
from dfkit.diffusion.schedules import NoiseSchedule, check_level_shift, shifted_levels, standard_normal, uniform_levels

# --------------------------------------------------------------------------- batches and windows


def to_model_range(frames: torch.Tensor) -> torch.Tensor:
    """[0, 1] dataset frames -> [-1, 1] model frames: x ↦ 2x - 1."""
    return frames * 2 - 1


def to_unit_range(frames: torch.Tensor) -> torch.Tensor:
    """[-1, 1] model frames -> [0, 1] for display and metrics, clamped."""
    return ((frames + 1) / 2).clamp(0, 1)


def batch_frames(batch, rescale: bool = True) -> torch.Tensor:
    """The clips of a batch as ``(B, T, C, H, W)`` floats, mapped to [-1, 1] when ``rescale``.

    ``batch`` is a tensor, a dict with key ``"frames"`` or a tuple / list whose first entry
    is the clips.
    """
    if isinstance(batch, dict):
        if "frames" not in batch:
            raise ValueError(f"expected a batch dict with key 'frames', got keys {sorted(batch)}")
        frames = batch["frames"]
    elif isinstance(batch, (tuple, list)) and batch:
        frames = batch[0]
    else:
        frames = batch
    check_clips(frames)
    return to_model_range(frames) if rescale else frames


def check_clips(frames, name: str = "frames") -> None:
    """Raise a ValueError naming ``name`` unless ``frames`` is a float tensor of shape (B, T, C, H, W)."""
    if not isinstance(frames, torch.Tensor) or frames.dim() != 5 or not frames.is_floating_point():
        got = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
        raise ValueError(f"expected {name} as a float tensor of shape (B, T, C, H, W), got {got}")


def random_integers(low: int, high: int, shape, generator: torch.Generator | None, device) -> torch.Tensor:
    """Integers uniform in {low, …, high - 1}, drawn on the generator's device, returned on ``device``."""
    source = generator.device if generator is not None else device
    return torch.randint(low, high, tuple(shape), generator=generator, device=source).to(device)


def random_windows(frames: torch.Tensor, length: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One random window of ``length`` consecutive frames per clip: ``(B, T, …) -> (B, length, …)``."""
    B, T = frames.shape[:2]
    if not 1 <= length <= T:
        raise ValueError(f"expected a window of 1 to T={T} frames (the clips are {T} frames long), got {length}")
    if length == T:
        return frames
    starts = random_integers(0, T - length + 1, (B,), generator, frames.device)     # (B,)
    index = starts[:, None] + torch.arange(length, device=frames.device)             # (B, L)
    return frames[torch.arange(B, device=frames.device)[:, None], index]             # (B, L, C, H, W)


def _check_window(window: int | None, name: str = "window") -> None:
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise ValueError(f"expected {name} to be None or an int >= 1, got {window!r}")


def _check_gamma(gamma) -> None:
    if gamma is not None and not gamma > 0:
        raise ValueError(f"expected min_snr_gamma > 0 or None, got {gamma}")


# --------------------------------------------------------------------------- teacher forcing


def teacher_forcing_input(history: torch.Tensor, target: torch.Tensor, k, schedule: NoiseSchedule,
                          noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What a teacher-forced diffusion model sees in training: clean history, then the noisy target.

    The target alone goes through the forward process (Ho et al. 2020, eq. 4),

        x_t^k = sqrt(ᾱ_k) x_t + sqrt(1 - ᾱ_k) ε,

    and is appended to the c history frames, which stay clean (level 0):

        inputs = [x_{t-c}, …, x_{t-1}, x_t^k],     levels = [0, …, 0, k].

    This is the window :class:`TeacherForcing` with ``context=c`` shows the model (one target, clean
    history); the objective builds it for any number of targets, a masked future and a noised history.

    Args:
        history: (B, c, C, H, W) clean frames; target: (B, C, H, W);
        k: (B,) integer levels in 1..K, one per example; noise: ε, shaped like ``target``.

    Returns:
        ``(inputs, levels)``: (B, c + 1, C, H, W) in the dtype of ``target``, and int64 (B, c + 1).
    """
    if not isinstance(history, torch.Tensor) or history.dim() != 5:
        got = tuple(history.shape) if isinstance(history, torch.Tensor) else type(history).__name__
        raise ValueError(f"expected history of shape (B, T, C, H, W), got {got}")
    if target.shape != history.shape[:1] + history.shape[2:]:
        raise ValueError(f"expected target of shape {tuple(history.shape[:1] + history.shape[2:])} (B, C, H, W), "
                         f"got {tuple(target.shape)}")
    k = torch.as_tensor(k, device=target.device).long().reshape(-1).expand(len(target))   # (B,)
    noisy = q_sample(target, k, noise, schedule)                                            # (B, C, H, W)
    inputs = torch.cat([history.to(target.dtype), noisy[:, None]], dim=1)                   # (B, c + 1, C, H, W)
    levels = torch.zeros(inputs.shape[:2], dtype=torch.long, device=target.device)         # (B, c + 1)
    levels[:, -1] = k
    return inputs, levels


@dataclass(frozen=True, eq=False)
class TeacherForcing:
    """Next-frame conditional diffusion trained on ground-truth history (the chain rule).

    Models p(x_t | x_{t-c}, …, x_{t-1}): the model sees ``context`` clean frames (level 0)
    followed by the noisy target frame(s) at one level k ~ U{1..K}, and the diffusion loss is
    taken on the target frames only. The clean target never enters the model: the loss hands
    the model a window built from the history and the *noisy* target that
    :func:`~dfkit.diffusion.ddpm.diffusion_loss` produced.

    * ``context=c`` (an int): random windows of ``c + num_targets`` frames; the model sees only
      the last ``c`` frames before the target (the Markov experiment: c = 1 cannot tell which
      way a pendulum swings, c = 2 can). Sample it with the autoregressive scheduling matrix
      on windows of the same length.
    * ``context=None``: the full history. Windows of ``window`` frames (None: whole clips)
      with the target position drawn uniformly per clip (position 0 is p(x_1), no history);
      frames after the target are masked by pure noise at level K, exactly what they are
      during autoregressive sampling, so any backbone may be used.
    * ``history_noise=m > 0``: noise augmentation of the history. Each clip draws one level
      k_h ~ U{0..m}; its history frames are noised to k_h (q_sample, fresh ε per frame) and
      labelled k_h. Sampled with the history at k_small <= m (stabilization), the model meets
      its own slightly wrong frames in a form it was trained on: the teacher-forcing side of
      Diffusion Forcing's stabilization argument. 0 (the default) is plain teacher forcing and
      draws no extra random numbers.
    * ``level_shift=s > 1``: the target levels favour high noise
      (:func:`~dfkit.diffusion.schedules.shifted_levels`), where the frame has to be drawn from the
      history alone; 1 (the default) is U{1..K}.

    Attributes:
        schedule: the noise schedule (K = ``schedule.num_levels``).
        parameterization: what the model predicts, ``"eps"``, ``"x0"`` or ``"v"``.
        context: number of clean history frames, or None for all earlier frames.
        num_targets: frames predicted jointly after the history (one level for all of them).
        window: frames per training window when ``context`` is None.
        min_snr_gamma: γ of min-SNR weighting, or None.
        rescale: map [0, 1] batches to [-1, 1].
        history_noise: the highest level of the history's noise augmentation (0: clean history).
        level_shift: s of the target levels' shift (1: uniform).
    """

    schedule: NoiseSchedule
    parameterization: str = "eps"
    context: int | None = 1
    num_targets: int = 1
    window: int | None = None
    min_snr_gamma: float | None = None
    rescale: bool = True
    history_noise: int = 0
    level_shift: float = 1.0

    def __post_init__(self):
        check_parameterization(self.parameterization)
        if self.context is not None and (isinstance(self.context, bool) or not isinstance(self.context, int) or self.context < 0):
            raise ValueError(f"expected context to be None or an int >= 0 (history frames), got {self.context!r}")
        _check_window(self.num_targets, "num_targets")
        _check_window(self.window)
        if self.context is not None and self.window is not None:
            raise ValueError("expected window=None with an int context (the window is context + num_targets frames)")
        _check_gamma(self.min_snr_gamma)
        check_level_shift(self.level_shift)
        K = self.schedule.num_levels
        if isinstance(self.history_noise, bool) or not isinstance(self.history_noise, int) or not 0 <= self.history_noise <= K:
            raise ValueError(f"expected history_noise to be an int level in [0, K={K}], got {self.history_noise!r}")

    def __call__(self, model, batch, generator: torch.Generator | None = None) -> torch.Tensor:
        frames = batch_frames(batch, self.rescale)                          # (B, T, C, H, W)
        B, T = frames.shape[:2]
        K, n, device = self.schedule.num_levels, self.num_targets, frames.device
        # 1. a window of frames and where its targets start
        if self.context is not None:
            window = random_windows(frames, self.context + n, generator)    # (B, c + n, C, H, W)
            start = torch.full((B,), self.context, device=device)
        else:
            window = random_windows(frames, self.window or T, generator)    # (B, W, C, H, W)
            if window.shape[1] < n:
                raise ValueError(f"expected windows of at least num_targets={n} frames, got {window.shape[1]}")
            start = random_integers(0, window.shape[1] - n + 1, (B,), generator, device)
        W = window.shape[1]
        rows = torch.arange(B, device=device)[:, None]                      # (B, 1)
        targets = start[:, None] + torch.arange(n, device=device)           # (B, n) target positions
        position = torch.arange(W, device=device)[None]                     # (1, W)
        history = position < start[:, None]                                 # (B, W) level 0 (or k_h)
        future = position >= start[:, None] + n                             # (B, W) masked, level K
        # everything that is not history starts as pure noise; the targets are overwritten below
        masked = standard_normal(window.shape, generator, device, window.dtype) if bool(future.any()) else torch.zeros_like(window)
        shown, history_levels = window, torch.zeros((B, 1), dtype=torch.long, device=device)
        if self.history_noise:                                               # noise augmentation: k_h ~ U{0..m} per clip
            history_levels = uniform_levels((B, 1), self.history_noise, generator, device, low=0)
            noise = standard_normal(window.shape, generator, device, window.dtype)
            shown = q_sample(window, history_levels.expand(B, W), noise, self.schedule)
        inputs = torch.where(history[..., None, None, None], shown, masked)
        base_levels = torch.where(history, history_levels, K)               # (B, W)

        def denoiser(noisy_targets: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
            # (B, n, C, H, W) at levels (B, n) -> the model's prediction at the target positions
            model_inputs = inputs.index_put((rows.expand(B, n), targets), noisy_targets)
            model_levels = base_levels.index_put((rows.expand(B, n), targets), k)
            return model(model_inputs, model_levels)[rows, targets]

        # 2. one level per clip for its target frames, then the DDPM loss on the targets only
        k = shifted_levels((B, 1), K, self.level_shift, generator, device).expand(B, n)
        return diffusion_loss(denoiser, window[rows, targets], self.schedule, self.parameterization, k=k,
                              min_snr_gamma=self.min_snr_gamma, generator=generator)


# --------------------------------------------------------------------------- deterministic regression


@dataclass(frozen=True, eq=False)
class NextFrameRegression:
    """The deterministic next-frame regressor: x̂_{t+1} = f(x_0, …, x_t), trained with MSE.

    All levels are 0 (every input is clean) and the output at position t is regressed onto
    frame t + 1, so one call trains every position of a causal model at once. A model that
    can look ahead (``is_causal`` False) would simply copy its next input, so it is refused.
    Rolled out on its own predictions it shows the compounding error of the lecture.

    Attributes:
        window: frames per training window (inputs are ``window - 1`` of them); None: whole clips.
        rescale: map [0, 1] batches to [-1, 1].
    """

    window: int | None = None
    rescale: bool = True

    def __post_init__(self):
        _check_window(self.window)
        if self.window == 1:
            raise ValueError("expected window >= 2 (an input frame and the frame after it)")

    def __call__(self, model, batch, generator: torch.Generator | None = None) -> torch.Tensor:
        if getattr(model, "is_causal", True) is False:
            raise ValueError("expected a causal model (temporal='causal' or 'gru') for next-frame regression; "
                             "a bidirectional one sees frame t + 1 among its inputs")
        frames = batch_frames(batch, self.rescale)
        if frames.shape[1] < 2:
            raise ValueError(f"expected clips of at least 2 frames, got {frames.shape[1]}")
        frames = random_windows(frames, self.window or frames.shape[1], generator)   # (B, W, C, H, W)
        inputs, targets = frames[:, :-1], frames[:, 1:]                               # (B, W - 1, C, H, W) each
        levels = torch.zeros(inputs.shape[:2], dtype=torch.long, device=frames.device)
        return F.mse_loss(model(inputs, levels), targets)


# --------------------------------------------------------------------------- full-sequence diffusion


def full_sequence_noise(clips: torch.Tensor, k: torch.Tensor, noise: torch.Tensor, schedule: NoiseSchedule):
    """The training input of full-sequence diffusion: one level per clip, shared by all of its frames.

        levels[b, t] = k[b]  for every frame t,     x_k[b, t] = sqrt(ᾱ_{k_b}) x_0[b, t] + sqrt(1 - ᾱ_{k_b}) ε[b, t]

    (Ho et al. 2020, eq. 4, applied to the whole clip as to one big image.) This is what
    :class:`FullSequenceDiffusion` shows the model: it draws k per clip, then ε of the window's
    shape from the same generator, and :func:`~dfkit.diffusion.ddpm.diffusion_loss` noises the
    window with them.

    Args:
        clips: ``(B, T, C, H, W)`` clean clips x_0; k: ``(B,)`` integer levels; noise: ε of the clips' shape.

    Returns:
        ``(x_k, levels)``: the noisy clips (the clips' shape and dtype) and the ``(B, T)`` integer levels.
    """
    check_clips(clips, "clips")
    k = torch.as_tensor(k)
    if k.shape != clips.shape[:1] or k.is_floating_point():
        raise ValueError(f"expected k as {clips.shape[0]} integer levels of shape ({clips.shape[0]},), got {tuple(k.shape)} {k.dtype}")
    levels = k.to(device=clips.device, dtype=torch.long)[:, None].expand(clips.shape[:2])    # (B,) -> (B, T)
    return q_sample(clips, levels, noise, schedule), levels


@dataclass(frozen=True, eq=False)
class FullSequenceDiffusion:
    """Diffusion of the whole clip with one noise level: k ~ U{1..K} per clip, the same for all frames.

    The joint p(x_1, …, x_T) is learnt as one big "image" (the video models of the lecture);
    use the bidirectional backbone. Sampling is the full-sequence scheduling matrix.

    Attributes:
        schedule, parameterization, min_snr_gamma, rescale, level_shift: as in :class:`TeacherForcing`.
        window: frames per training window (the horizon); None: whole clips.
    """

    schedule: NoiseSchedule
    parameterization: str = "eps"
    window: int | None = None
    min_snr_gamma: float | None = None
    rescale: bool = True
    level_shift: float = 1.0

    def __post_init__(self):
        check_parameterization(self.parameterization)
        _check_window(self.window)
        _check_gamma(self.min_snr_gamma)
        check_level_shift(self.level_shift)

    def draw_levels(self, batch_size: int, num_frames: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """``(B, T)`` levels: one k ~ U{1..K} (shifted when ``level_shift`` != 1) per clip, broadcast over its frames."""
        return shifted_levels((batch_size, 1), self.schedule.num_levels, self.level_shift, generator,
                              device).expand(batch_size, num_frames)

    def __call__(self, model, batch, generator: torch.Generator | None = None) -> torch.Tensor:
        frames = batch_frames(batch, self.rescale)
        frames = random_windows(frames, self.window or frames.shape[1], generator)   # (B, W, C, H, W)
        k = self.draw_levels(frames.shape[0], frames.shape[1], generator, frames.device)
        return diffusion_loss(model, frames, self.schedule, self.parameterization, k=k,
                              min_snr_gamma=self.min_snr_gamma, generator=generator)


# --------------------------------------------------------------------------- Diffusion Forcing


def noisy_clips(frames: torch.Tensor, schedule: NoiseSchedule, min_level: int = 0, generator: torch.Generator | None = None):
    """A Diffusion Forcing training input (Chen et al. 2024, Algorithm 1): an independent level per frame.

        k_{b,t} ~ U{min_level, …, K} independently,   ε ~ N(0, I),
        x^{k}_{b,t} = sqrt(ᾱ_{k_{b,t}}) x_{b,t} + sqrt(1 - ᾱ_{k_{b,t}}) ε_{b,t}      (q(x_k | x_0) per frame)

    Returns ``(noisy (B, T, C, H, W), levels (B, T) int64, noise (B, T, C, H, W))``; the levels
    are drawn first, then the noise, both from ``generator``. This is what :class:`DiffusionForcing`
    with its default options (``level_shift=1``, no shared levels, no clean history) feeds the
    model, drawn in the same order from the same generator; its options draw more numbers between
    the levels and the noise, so it draws them itself.
    """
    check_clips(frames)
    B, T = frames.shape[:2]
    levels = uniform_levels((B, T), schedule.num_levels, generator, frames.device, low=min_level)   # (B, T)
    noise = standard_normal(frames.shape, generator, frames.device, frames.dtype)                    # (B, T, C, H, W)
    return q_sample(frames, levels, noise, schedule), levels, noise


@dataclass(frozen=True, eq=False)
class DiffusionForcing:
    """Diffusion Forcing training (Chen et al. 2024, Algorithm 1): an independent level per frame.

    Every frame t of the window gets its own k_t ~ U{min_level..K}, drawn independently
    ("noise as partial masking" along both axes at once), and the diffusion loss is taken on
    every frame. Algorithm 1 draws k_t from {0, 1, …, K}, so the default ``min_level = 0``
    includes clean frames (with K = 1000 one frame in 1001); for such a frame the "eps" and "v"
    targets are noise the input does not contain, which only adds a little variance to the
    loss. With ``shared_level_fraction = f`` each clip, with probability f, instead uses one
    level for all of its frames (a full-sequence example), so that the model also sees the
    equal-level configurations that full-sequence sampling visits.

    With ``clean_history_fraction = h`` each clip, with probability h, also shows its first j
    frames clean (level 0, j ~ U{1..T-1}), the rest keeping their levels: the configuration
    autoregressive sampling meets with a clean history, which independent levels almost never
    draw (all of 4 frames below level 100 in about 1e-4 of the windows). Those frames are
    conditioning only and carry no loss, as teacher forcing's history does. ``level_shift = s > 1``
    draws every level (per frame and shared) from :func:`~dfkit.diffusion.schedules.shifted_levels`.

    With ``sorted_levels`` each clip's independent levels are sorted along time, k_1 <= ... <= k_T
    (the same levels, in another order): every frame is at least as noisy as the frames before
    it, which is all that autoregressive and pyramid sampling ever ask of a causal model, so no
    training goes into frames whose past is noisier than they are.

    Use a causal transformer or the GRU (the paper's causal DF); a bidirectional backbone
    gives the non-causal Diffusion Forcing Transformer of History-Guided Video Diffusion.

    Attributes:
        schedule, parameterization, min_snr_gamma, rescale, level_shift: as in :class:`TeacherForcing`.
        window: frames per training window (the horizon); None: whole clips.
        shared_level_fraction: probability that a clip uses one level for all of its frames.
        min_level: lowest level drawn (0 as in Algorithm 1, 1 as in Ho et al.'s Algorithm 1).
        clean_history_fraction: probability that a clip starts with clean history frames.
        sorted_levels: sort each clip's independent levels along time (non-decreasing).
    """

    schedule: NoiseSchedule
    parameterization: str = "eps"
    window: int | None = None
    shared_level_fraction: float = 0.0
    min_level: int = 0
    clean_history_fraction: float = 0.0
    min_snr_gamma: float | None = None
    rescale: bool = True
    level_shift: float = 1.0
    sorted_levels: bool = False

    def __post_init__(self):
        check_parameterization(self.parameterization)
        _check_window(self.window)
        _check_gamma(self.min_snr_gamma)
        check_level_shift(self.level_shift)
        for name in ("shared_level_fraction", "clean_history_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"expected {name} in [0, 1], got {getattr(self, name)}")
        if isinstance(self.min_level, bool) or not isinstance(self.min_level, int) or not 0 <= self.min_level <= self.schedule.num_levels:
            raise ValueError(f"expected min_level to be an int in [0, {self.schedule.num_levels}], got {self.min_level!r}")

    def draw_levels(self, batch_size: int, num_frames: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """``(B, T)`` levels: independent k_t ~ U{min_level..K} (sorted along time with ``sorted_levels``); a
        ``shared_level_fraction`` of clips share one, a ``clean_history_fraction`` of clips start with clean frames."""
        return self.draw_levels_and_history(batch_size, num_frames, generator, device)[0]

    def draw_levels_and_history(self, batch_size: int, num_frames: int, generator: torch.Generator | None = None,
                                device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """The levels of :meth:`draw_levels` and a bool ``(B, T)`` marking the frames shown as clean history."""
        K, B, T = self.schedule.num_levels, batch_size, num_frames
        source = generator.device if generator is not None else device
        levels = shifted_levels((B, T), K, self.level_shift, generator, device, low=self.min_level)        # (B, T)
        if self.sorted_levels:
            levels = levels.sort(dim=1).values                                                              # k_1 <= ... <= k_T
        if self.shared_level_fraction > 0:
            shared = shifted_levels((B, 1), K, self.level_shift, generator, device, low=max(self.min_level, 1))  # (B, 1)
            use_shared = (torch.rand(B, generator=generator, device=source) < self.shared_level_fraction).to(levels.device)
            levels = torch.where(use_shared[:, None], shared, levels)
        history = torch.zeros((B, T), dtype=torch.bool, device=levels.device)
        if self.clean_history_fraction > 0 and T > 1:
            use_history = (torch.rand(B, generator=generator, device=source) < self.clean_history_fraction).to(levels.device)
            split = random_integers(1, T, (B,), generator, levels.device)                         # (B,) j in 1..T-1
            history = (torch.arange(T, device=levels.device)[None] < split[:, None]) & use_history[:, None]
            levels = levels.masked_fill(history, 0)
        return levels, history

    def __call__(self, model, batch, generator: torch.Generator | None = None) -> torch.Tensor:
        frames = batch_frames(batch, self.rescale)
        frames = random_windows(frames, self.window or frames.shape[1], generator)   # (B, W, C, H, W)
        k, history = self.draw_levels_and_history(frames.shape[0], frames.shape[1], generator, frames.device)
        return diffusion_loss(model, frames, self.schedule, self.parameterization, k=k, min_snr_gamma=self.min_snr_gamma,
                              generator=generator, loss_mask=~history if self.clean_history_fraction > 0 else None)
