"""Small helpers shared by the test files (importable because pytest puts tests/ on the path)."""

import torch


def seeded(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``."""
    return torch.Generator().manual_seed(seed)
