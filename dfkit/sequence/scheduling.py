"""Scheduling matrices: which noise level every frame has at every step of sampling.

A scheduling matrix is an integer tensor ``(M + 1, T)``. Row 0 is all ``K``
(every frame is pure noise), the last row is all ``0`` (every frame is clean),
and the sampler visits the rows in order: going from row m to row m + 1, frame t
is denoised from level ``S[m, t]`` to ``S[m + 1, t]`` (or left alone when the
two are equal). Every column is non-increasing: a frame never gets noisier.

The kinds differ only in *when* each frame walks down the same ladder of
levels ``K = l_0 > l_1 > ... > l_steps = 0`` (the DDIM levels):

* ``full_sequence``: all frames walk together (one noise level for the clip).
* ``autoregressive``: chunk after chunk; a chunk starts once the previous one is clean.
* ``pyramid``: each chunk starts ``delay`` rows after the previous one, so at every
  row later frames are noisier: the near future is more certain than the far one.
* ``trapezoid``: a pyramid from both ends towards the middle.

With ``delay = steps`` the pyramid *is* the autoregressive schedule, and with
``delay = 0`` it is the full-sequence schedule.
"""

from __future__ import annotations

import torch

from dfkit.diffusion.ddpm import ddim_levels

KINDS = ("full_sequence", "autoregressive", "pyramid", "trapezoid")


def level_ladder(num_levels: int, steps: int) -> torch.Tensor:
    """The levels one frame walks through, ``(steps + 1,)`` from K down to 0."""
    return torch.tensor(ddim_levels(num_levels, steps), dtype=torch.long)


def _from_start_rows(start_row: torch.Tensor, num_levels: int, steps: int) -> torch.Tensor:
    """Matrix where frame t begins walking down the ladder at row ``start_row[t]`` (one rung per row)."""
    ladder = level_ladder(num_levels, steps)
    rows = int(start_row.max()) + steps + 1
    progress = torch.arange(rows)[:, None] - start_row[None, :]          # (M + 1, T) rungs walked so far
    return ladder[progress.clamp(0, steps)]


def _chunk_index(num_frames: int, chunk_size: int) -> torch.Tensor:
    if chunk_size < 1:
        raise ValueError(f"expected chunk_size >= 1, got {chunk_size}")
    return torch.arange(num_frames) // chunk_size                         # (T,)


def full_sequence_matrix(num_frames: int, steps: int, num_levels: int = 1000) -> torch.Tensor:
    _check(num_frames, steps, num_levels)
    return _from_start_rows(torch.zeros(num_frames, dtype=torch.long), num_levels, steps)


def autoregressive_matrix(num_frames: int, steps: int, num_levels: int = 1000, chunk_size: int = 1) -> torch.Tensor:
    _check(num_frames, steps, num_levels)
    return _from_start_rows(_chunk_index(num_frames, chunk_size) * steps, num_levels, steps)


def pyramid_matrix(num_frames: int, steps: int, num_levels: int = 1000, chunk_size: int = 1, delay: int = 1) -> torch.Tensor:
    _check(num_frames, steps, num_levels)
    if delay < 0:
        raise ValueError(f"expected delay >= 0 rows, got {delay}")
    return _from_start_rows(_chunk_index(num_frames, chunk_size) * delay, num_levels, steps)


def trapezoid_matrix(num_frames: int, steps: int, num_levels: int = 1000, chunk_size: int = 1, delay: int = 1) -> torch.Tensor:
    _check(num_frames, steps, num_levels)
    if delay < 0:
        raise ValueError(f"expected delay >= 0 rows, got {delay}")
    chunk = _chunk_index(num_frames, chunk_size)
    distance_to_edge = torch.minimum(chunk, chunk[-1] - chunk)
    return _from_start_rows(distance_to_edge * delay, num_levels, steps)


def scheduling_matrix(kind: str, num_frames: int, steps: int, num_levels: int = 1000, chunk_size: int = 1, delay: int = 1) -> torch.Tensor:
    """Build a scheduling matrix of one of :data:`KINDS`."""
    if kind == "full_sequence":
        return full_sequence_matrix(num_frames, steps, num_levels)
    if kind == "autoregressive":
        return autoregressive_matrix(num_frames, steps, num_levels, chunk_size)
    if kind == "pyramid":
        return pyramid_matrix(num_frames, steps, num_levels, chunk_size, delay)
    if kind == "trapezoid":
        return trapezoid_matrix(num_frames, steps, num_levels, chunk_size, delay)
    raise ValueError(f"unknown scheduling matrix kind {kind!r}; expected one of {KINDS}")


def validate_matrix(matrix: torch.Tensor, num_levels: int) -> None:
    """Raise ValueError unless ``matrix`` follows the convention (see the module docstring)."""
    if not isinstance(matrix, torch.Tensor) or matrix.ndim != 2 or matrix.dtype not in (torch.int32, torch.int64):
        shape = tuple(matrix.shape) if hasattr(matrix, "shape") else type(matrix).__name__
        raise ValueError(f"expected an integer scheduling matrix of shape (M + 1, T), got {shape}")
    if matrix.shape[0] < 2:
        raise ValueError(f"expected at least 2 rows (all K, ..., all 0), got {matrix.shape[0]}")
    if not bool((matrix[0] == num_levels).all()):
        raise ValueError(f"expected row 0 to be all {num_levels} (pure noise), got {matrix[0].tolist()}")
    if not bool((matrix[-1] == 0).all()):
        raise ValueError(f"expected the last row to be all 0 (clean), got {matrix[-1].tolist()}")
    rising = matrix[1:] > matrix[:-1]
    if bool(rising.any()):
        row, column = (int(i) for i in rising.nonzero()[0])
        raise ValueError(f"expected non-increasing columns, but frame {column} goes from level {int(matrix[row, column])} up to {int(matrix[row + 1, column])} at row {row + 1}")


def _check(num_frames: int, steps: int, num_levels: int) -> None:
    if num_frames < 1:
        raise ValueError(f"expected num_frames >= 1, got {num_frames}")
    if not 1 <= steps <= num_levels:
        raise ValueError(f"expected 1 <= steps <= num_levels={num_levels}, got {steps}")
