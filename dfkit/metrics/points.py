"""Distances between point clouds: how close samples of a 2-D toy distribution are to its data."""

from __future__ import annotations

import torch


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, projections: int = 128, seed: int = 0) -> float:
    """Mean 1-D Wasserstein distance between two equally sized point clouds ``(N, D)`` over random directions.

    SW₁(a, b) = E_θ W₁(⟨a, θ⟩, ⟨b, θ⟩), θ uniform on the sphere; each 1-D distance is the mean gap
    between the sorted projections. ``projections`` directions drawn from ``seed``, in float64.
    """
    if a.shape != b.shape or a.dim() != 2:
        raise ValueError(f"expected two point clouds of the same shape (N, D), got {tuple(a.shape)} and {tuple(b.shape)}")
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(a.shape[1], projections, generator=generator, dtype=torch.float64)
    directions /= directions.norm(dim=0, keepdim=True)
    pa, _ = (a.double() @ directions).sort(0)
    pb, _ = (b.double() @ directions).sort(0)
    return float((pa - pb).abs().mean())
