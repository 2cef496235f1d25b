"""Where tensors live. Devices are never hard-coded anywhere else in dfkit."""

from __future__ import annotations

import os

import torch


def pick_device(preferred: str | None = None) -> torch.device:
    """Return the device to compute on.

    Order: the ``preferred`` argument, then the ``DFKIT_DEVICE`` environment
    variable, then CUDA, Apple MPS and finally the CPU.
    """
    name = preferred or os.environ.get("DFKIT_DEVICE")
    if name:
        device = torch.device(name)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {name!r} was requested but CUDA is not available; use 'cpu'")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
