"""A small UNet that maps (image, noise level) to an image of the same shape.

Used by DDPM (predicting eps, x0 or v from x_k and the level k) and by flow matching
(predicting the velocity from x_t and the time t).

    x (B, C, H, W), level (B,)
      -> stem conv
      -> down path: per resolution, residual blocks (+ optional self-attention), keep a skip,
                    halve the resolution (stride-2 conv) except at the last one
      -> middle: residual block, optional attention, residual block
      -> up path: per resolution, concatenate the skip, residual blocks, double the resolution
      -> GroupNorm, SiLU, zero-initialized conv  -> (B, C_out, H, W)

The level enters every residual block through a sinusoidal embedding followed by a small MLP.
Every operation acts on each sample on its own (GroupNorm, not BatchNorm; attention over the
pixels of one image, not over the batch), so output i never depends on input j != i.

The level scale: the sinusoidal embedding (periods 2π … 2π·10000) is made for values spread
over roughly 0 … 1000. Discrete diffusion passes its level k ∈ {0, …, 1000} with the default
``level_scale=1``; flow matching passes t ∈ [0, 1] and sets ``level_scale=1000`` so that the
model sees 1000·t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from dfkit.models.registry import register_model


@dataclass(frozen=True)
class UNetConfig:
    image_size: int = 28
    in_channels: int = 1
    out_channels: int | None = None          # None: same as in_channels
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)  # one entry per resolution; len - 1 halvings
    num_res_blocks: int = 1                  # residual blocks per resolution, each way
    embedding_dim: int | None = None         # width of the level embedding; None: 4 * base_channels
    level_scale: float = 1.0                 # the model embeds level * level_scale (see module doc)
    dropout: float = 0.0
    attention_at: tuple[int, ...] = ()       # resolution indices (0 = full size) with self-attention
    num_heads: int = 4

    def validate(self) -> None:
        if self.in_channels < 1 or (self.out_channels is not None and self.out_channels < 1):
            raise ValueError(f"expected in_channels and out_channels >= 1, got {self.in_channels} and {self.out_channels}")
        if self.base_channels < 1 or not self.channel_mults or any(m < 1 for m in self.channel_mults):
            raise ValueError(f"expected base_channels >= 1 and a non-empty channel_mults of positive ints, got {self.base_channels} and {self.channel_mults}")
        factor = 2 ** (len(self.channel_mults) - 1)
        if self.image_size < 1 or self.image_size % factor:
            raise ValueError(
                f"expected image_size divisible by 2**(len(channel_mults)-1) = {factor}, got image_size={self.image_size} "
                f"with channel_mults={self.channel_mults}"
            )
        if self.num_res_blocks < 1:
            raise ValueError(f"expected num_res_blocks >= 1, got {self.num_res_blocks}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"expected 0 <= dropout < 1, got {self.dropout}")
        if not self.level_scale > 0:
            raise ValueError(f"expected level_scale > 0, got {self.level_scale}")
        if any(not 0 <= i < len(self.channel_mults) for i in self.attention_at):
            raise ValueError(f"expected attention_at indices in 0..{len(self.channel_mults) - 1}, got {self.attention_at}")
        if self.attention_at and any(self.base_channels * self.channel_mults[i] % self.num_heads for i in self.attention_at):
            raise ValueError(f"expected the widths at attention_at={self.attention_at} to be divisible by num_heads={self.num_heads}")
        if self.embedding_dim is not None and self.embedding_dim < 1:
            raise ValueError(f"expected embedding_dim >= 1 or None, got {self.embedding_dim}")


def sinusoidal_embedding(level: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Transformer-style embedding of a scalar per sample: (B,) -> (B, dim).

    emb[:, i] = sin(level · ω_i), emb[:, dim/2 + i] = cos(level · ω_i), ω_i = max_period^(-i / (dim/2)).
    """
    half = dim // 2
    frequencies = torch.exp(-math.log(max_period) * torch.arange(half, device=level.device, dtype=torch.float32) / half)
    angles = level.float()[:, None] * frequencies[None, :]  # (B, half)
    embedding = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)  # (B, 2 * half)
    if dim % 2:
        embedding = F.pad(embedding, (0, 1))
    return embedding  # (B, dim)


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with up to 32 groups of at least 4 channels each (one group for tiny widths)."""
    groups = next((g for g in (32, 16, 8, 4, 2) if channels % g == 0 and channels // g >= 4), 1)
    return nn.GroupNorm(groups, channels)


class ResBlock(nn.Module):
    """GroupNorm -> SiLU -> conv, add the level embedding, GroupNorm -> SiLU -> dropout -> conv, plus a skip."""

    def __init__(self, in_channels: int, out_channels: int, embedding_dim: int, dropout: float):
        super().__init__()
        self.norm1 = group_norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.level_proj = nn.Linear(embedding_dim, out_channels)
        self.norm2 = group_norm(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, H, W)
        h = h + self.level_proj(F.silu(embedding))[:, :, None, None]  # (B, C_out, 1, 1) broadcast over pixels
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention among the H·W pixels of each image, with a residual connection."""

    def __init__(self, channels: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.norm = group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, self.num_heads, C // self.num_heads, H * W).unbind(1)  # each (B, nh, hd, HW)
        out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2))  # (B, nh, HW, hd)
        out = out.transpose(-1, -2).reshape(B, C, H, W)
        return x + self.proj(out)


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)  # (B, C, H/2, W/2)


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))  # (B, C, 2H, 2W)


@register_model(UNetConfig)
class UNet(nn.Module):
    def __init__(self, config: UNetConfig = UNetConfig()):
        super().__init__()
        config.validate()
        self.config = config
        base = config.base_channels
        embedding_dim = config.embedding_dim or 4 * base
        widths = [base * mult for mult in config.channel_mults]
        last = len(widths) - 1

        def blocks(first_in: int, width: int) -> nn.ModuleList:
            return nn.ModuleList(
                ResBlock(first_in if j == 0 else width, width, embedding_dim, config.dropout) for j in range(config.num_res_blocks)
            )

        def attention(index: int, width: int) -> nn.Module:
            return SelfAttention(width, config.num_heads) if index in config.attention_at else nn.Identity()

        self.level_mlp = nn.Sequential(nn.Linear(base, embedding_dim), nn.SiLU(), nn.Linear(embedding_dim, embedding_dim))
        self.stem = nn.Conv2d(config.in_channels, base, 3, padding=1)

        self.down = nn.ModuleList()
        channels = base
        for i, width in enumerate(widths):
            self.down.append(nn.ModuleDict({
                "blocks": blocks(channels, width),
                "attention": attention(i, width),
                "resample": Downsample(width) if i < last else nn.Identity(),
            }))
            channels = width

        self.middle1 = ResBlock(channels, channels, embedding_dim, config.dropout)
        self.middle_attention = attention(last, channels)
        self.middle2 = ResBlock(channels, channels, embedding_dim, config.dropout)

        self.up = nn.ModuleList()
        for i in reversed(range(len(widths))):
            width = widths[i]
            self.up.append(nn.ModuleDict({
                "blocks": blocks(channels + width, width),  # the first block also takes the skip
                "attention": attention(i, width),
                "resample": Upsample(width) if i > 0 else nn.Identity(),
            }))
            channels = width

        self.out_norm = group_norm(channels)
        self.out_conv = nn.Conv2d(channels, config.out_channels or config.in_channels, 3, padding=1)
        nn.init.zeros_(self.out_conv.weight)  # the untrained model outputs exactly 0
        nn.init.zeros_(self.out_conv.bias)

    def forward(self, x: torch.Tensor, level: torch.Tensor | float) -> torch.Tensor:
        """x (B, C, H, W), level (B,) (or one number for the whole batch) -> (B, C_out, H, W)."""
        x, level = self._check_inputs(x, level)
        embedding = self.level_mlp(sinusoidal_embedding(level * self.config.level_scale, self.config.base_channels))  # (B, E)

        h = self.stem(x)  # (B, base, H, W)
        skips = []
        for stage in self.down:
            for block in stage["blocks"]:
                h = block(h, embedding)
            h = stage["attention"](h)
            skips.append(h)  # (B, width_i, H / 2^i, W / 2^i)
            h = stage["resample"](h)

        h = self.middle2(self.middle_attention(self.middle1(h, embedding)), embedding)

        for stage in self.up:
            h = torch.cat([h, skips.pop()], dim=1)  # (B, channels + width_i, H / 2^i, W / 2^i)
            for block in stage["blocks"]:
                h = block(h, embedding)
            h = stage["attention"](h)
            h = stage["resample"](h)

        return self.out_conv(F.silu(self.out_norm(h)))  # (B, C_out, H, W)

    def _check_inputs(self, x, level):
        c, size = self.config.in_channels, self.config.image_size
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != c or x.shape[2] != size or x.shape[3] != size:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"expected images of shape (B, {c}, {size}, {size}), got {shape}")
        if not isinstance(level, torch.Tensor):
            level = torch.tensor(float(level), device=x.device)
        if level.ndim == 0:
            level = level.expand(x.shape[0])
        if level.shape != (x.shape[0],):
            raise ValueError(f"expected level of shape ({x.shape[0]},) (one per image) or a single number, got {tuple(level.shape)}")
        return x, level.to(x.device)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
