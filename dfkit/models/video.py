"""The video denoiser backbone shared by every sequence model of the course.

One network, four objectives. It maps noisy frames and one noise level per frame to one
prediction per frame; what the prediction means (eps, x0, v, or the next frame) is decided by
the loss that trains it, not by the network:

* teacher forcing: clean history at level 0, the frame to predict noisy, causal model;
* full-sequence diffusion: one level for the whole clip, bidirectional model;
* Diffusion Forcing: an independent level per frame, causal model (transformer or GRU);
* next-frame regression: all levels 0, the output at frame t is trained to be frame t + 1.

There is no context mask: a clean frame is a frame at level 0 ("noise as masking").

    frames (B, T, C, H, W), levels (B, T) integers in 0..K
      -> level embedding   sinusoidal(k) -> MLP                        (B·T, D)
      -> frame encoder     stride-2 convs, FiLM by the frame's level,   (B·T, D) tokens
                           keeps its feature maps as skips
                           (with stacked_frames n also reads frames t-1..t-n as channels)
      -> temporal model    over the T tokens of each clip:              (B, T, D)
                           causal transformer | bidirectional transformer | GRU
      -> frame decoder     mirror of the encoder, adds the SAME frame's skips
                           (with neighbor_skips also frame t-1's, and t+1's if bidirectional),
                           plus a level-dependent gain times the noisy frame  (B, T, C, H, W)

Information crosses time inside the temporal model. A token of D numbers per frame carries where
things are and how they move, but not the details of their appearance (which digit it is), so a
backbone may add one spatial path that carries those:

* ``stacked_frames`` n: frame t's encoder reads frames t-1 .. t-n (and t+1 .. t+n in the
  bidirectional model) at full resolution, stacked as input channels beside its own, each with a
  constant plane of its level / K; a frame the call does not know (before the first, after the
  last) is zeros at level K, the mean of pure noise. Every encoder stage, and so every skip, sees
  where the digit was and what it looked like, a few pixels away.
* ``neighbor_skips``: frame t's decoder also adds frame t-1's encoder maps (and frame t+1's in
  the bidirectional model), each through a 1x1 conv per stage that starts at zero, at the
  resolution of every encoder stage (1/2, 1/4 and 1/8 of the frame with the default widths).

The encoder and the decoder otherwise work on each frame alone (``res_blocks`` adds residual FiLM
blocks of two 3x3 convs at every stage, a deeper per-frame network), and every normalization is
per frame (GroupNorm / LayerNorm, never BatchNorm), so sample i of a batch never sees sample j.

Latent frames. With ``widths=()`` there is no convolution: a frame is a small latent (D x 1 x 1
for a VAE's vector latent, :mod:`dfkit.sequence.latent`) that one linear map turns into its token
and one linear map (plus the gain times the noisy latent) turns back.

Cost. On a CPU most of the time goes into convolutions at high resolution, so no layer runs at
full resolution: the first conv already has stride 2, and the last one works at half
resolution and rearranges 4·C channels into 2x2 pixels (pixel shuffle). The work is done at
1/4 and 1/8 of the frame size.

Rollouts past the training horizon. The GRU carries its hidden state:
``model(frames, levels, state=h, return_state=True)`` continues a clip one frame (or a few) at a
time. The transformers have no state; they roll out with a sliding window of at most
``max_frames`` frames whose positions count from the start of the window.

With a spatial path the first frame of a call has no frame t-1 in the call: its neighbour maps
(or stacked frames) are zeros, as at the start of a training clip, unless a ``state`` or
``history`` carries the maps of the frame before it (or the n frames before it and their levels).
The GRU state is then the pair ``(hidden, maps)`` (or ``(hidden, (frames, levels))``).

History cache. A sampler calls the model once per row of its scheduling matrix while the
history frames stay the same. A causal model's outputs at the history frames never depend on
what follows, so ``cache = model.encode_history(history, history_levels)`` runs them once
(keys and values of every attention layer, or the GRU state, and with ``neighbor_skips`` the
maps of the last history frame, with ``stacked_frames`` its last n frames) and
``model(frames, levels, history=cache)`` then gives the outputs of the new frames only, equal
up to rounding to ``model(cat(history, frames), cat(history_levels, levels))[:, c:]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from dfkit.models.registry import register_model

TEMPORAL_KINDS = ("causal", "bidirectional", "gru")


@dataclass(frozen=True)
class VideoBackboneConfig:
    image_size: int = 32                     # frames are square: H = W = image_size (16, 28, 32, 64, ...)
    channels: int = 1
    widths: tuple[int, ...] = (32, 64, 64)   # channels after each stride-2 conv of the frame encoder
    d_model: int = 192                       # width of a frame token and of the level embedding
    num_layers: int = 3                      # transformer blocks or GRU layers
    num_heads: int = 4
    temporal: str = "causal"                 # "causal" | "bidirectional" | "gru"
    max_frames: int = 64                     # longest window the transformers accept (positions 0..max_frames-1)
    num_levels: int = 1000                   # K: levels run over 0 (clean) .. K (pure noise)
    dropout: float = 0.0
    neighbor_skips: bool = False             # frame t's decoder also adds frame t-1's encoder maps (t+1's if bidirectional)
    stacked_frames: int = 0                  # frame t's encoder also reads frames t-1..t-n (and t+1..t+n if bidirectional)
    res_blocks: int = 0                      # residual FiLM blocks after each encoder stage and before each decoder stage

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(self.widths))  # a list read back from JSON works too

    def validate(self) -> None:
        if self.temporal not in TEMPORAL_KINDS:
            raise ValueError(f"expected temporal in {TEMPORAL_KINDS}, got {self.temporal!r}")
        if self.channels < 1:
            raise ValueError(f"expected channels >= 1, got {self.channels}")
        if any(w < 1 for w in self.widths):
            raise ValueError(f"expected a tuple of positive widths (empty: latent frames, no convolution), got {self.widths}")
        if self.image_size < 2 ** len(self.widths):
            raise ValueError(f"expected image_size >= 2**len(widths) = {2 ** len(self.widths)}, got {self.image_size}")
        if self.num_layers < 1 or self.num_heads < 1 or self.max_frames < 1 or self.num_levels < 1:
            raise ValueError(
                f"expected num_layers, num_heads, max_frames, num_levels >= 1, got "
                f"{self.num_layers}, {self.num_heads}, {self.max_frames}, {self.num_levels}"
            )
        if self.d_model < 2 or self.d_model % self.num_heads:
            raise ValueError(f"expected d_model >= 2 divisible by num_heads={self.num_heads}, got {self.d_model}")
        if self.stacked_frames < 0 or self.res_blocks < 0:
            raise ValueError(f"expected stacked_frames >= 0 and res_blocks >= 0, got {self.stacked_frames} and {self.res_blocks}")
        if self.stacked_frames and self.neighbor_skips:
            raise ValueError("expected one spatial history path: stacked_frames or neighbor_skips, not both")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"expected 0 <= dropout < 1, got {self.dropout}")

    @property
    def stacked_neighbors(self) -> int:
        """Frames stacked beside each frame: n before it, and n after it in the bidirectional model."""
        return self.stacked_frames * (2 if self.temporal == "bidirectional" else 1)

    @property
    def stacked_inputs(self) -> int:
        """Extra input channels of the frame encoder: each stacked frame's C channels and its level plane."""
        return self.stacked_neighbors * (self.channels + 1)

    @property
    def feature_sizes(self) -> tuple[int, ...]:
        """Side of the feature maps after each stride-2 conv: 32 -> (16, 8, 4), 28 -> (14, 7, 4)."""
        sizes, size = [], self.image_size
        for _ in self.widths:
            size = (size + 1) // 2           # conv 3x3, stride 2, padding 1
            sizes.append(size)
        return tuple(sizes)


def sinusoidal_embedding(levels: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Embedding of integer levels, (N,) -> (N, dim), as in the Transformer paper.

    emb[:, i] = sin(k · ω_i), emb[:, dim/2 + i] = cos(k · ω_i), ω_i = max_period^(-i / (dim/2)).
    The periods run from 2π to 2π·10000, made for k spread over 0..1000.
    """
    half = dim // 2
    omega = torch.exp(-math.log(max_period) * torch.arange(half, device=levels.device, dtype=torch.float32) / half)
    angles = levels.float()[:, None] * omega[None, :]                     # (N, half)
    embedding = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)  # (N, 2 * half)
    return F.pad(embedding, (0, dim % 2))                                 # (N, dim)


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with groups of at least 4 channels (statistics of one frame, never of the batch)."""
    groups = next(g for g in (8, 4, 2, 1) if channels % g == 0 and (channels // g >= 4 or g == 1))
    return nn.GroupNorm(groups, channels)


# -----------------------------------------------------------------------------
# Per-frame CNN: encoder to a token, decoder back to a frame


class FiLMBlock(nn.Module):
    """conv -> GroupNorm -> FiLM by the frame's level embedding -> SiLU.

    FiLM: h <- h · (1 + γ(e)) + β(e), with (γ, β) a linear map of the level embedding e,
    so the features of every frame are modulated by that frame's own noise level.
    ``up=False``: conv 3x3 stride 2 (halves the side, rounding up); ``up=True``: transposed conv 4x4
    stride 2 (doubles it, then crops to ``size``: 4 -> 8 -> 7 for the 7x7 maps of 28x28 frames).
    """

    def __init__(self, in_channels: int, out_channels: int, d_model: int, up: bool = False):
        super().__init__()
        if up:
            self.conv = nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1)
        else:
            self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)
        self.norm = group_norm(out_channels)
        self.film = nn.Linear(d_model, 2 * out_channels)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        h = self.conv(x)                                               # (N, C_out, h, w)
        if size is not None:
            h = h[:, :, : size[0], : size[1]]
        gamma, beta = self.film(embedding)[:, :, None, None].chunk(2, dim=1)  # each (N, C_out, 1, 1)
        return F.silu(self.norm(h) * (1 + gamma) + beta)


class ResidualBlock(nn.Module):
    """x + conv(SiLU(FiLM(GroupNorm(conv(SiLU(GroupNorm(x))))))): two 3x3 convs at the map's own resolution.

    The second conv starts at zero, so an untrained block is the identity: the backbone with
    residual blocks starts as the one without.
    """

    def __init__(self, channels: int, d_model: int):
        super().__init__()
        self.norm1, self.norm2 = group_norm(channels), group_norm(channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.film = nn.Linear(d_model, 2 * channels)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))                                   # (N, C, h, w)
        gamma, beta = self.film(embedding)[:, :, None, None].chunk(2, dim=1)     # each (N, C, 1, 1)
        return x + self.conv2(F.silu(self.norm2(h) * (1 + gamma) + beta))


def residual_stack(channels: int, config: VideoBackboneConfig) -> nn.ModuleList:
    """``config.res_blocks`` residual blocks on maps of ``channels`` channels (none by default)."""
    return nn.ModuleList(ResidualBlock(channels, config.d_model) for _ in range(config.res_blocks))


def run_stack(blocks: nn.ModuleList, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
    """Maps (N, C, h, w) through each residual block in turn, every one FiLMed by the level embeddings (N, D)."""
    for block in blocks:
        x = block(x, embedding)
    return x


class FrameEncoder(nn.Module):
    """(N, C, H, W) frames -> (N, D) tokens, plus the feature map of every stage (the skips)."""

    def __init__(self, config: VideoBackboneConfig):
        super().__init__()
        widths, d = config.widths, config.d_model
        inputs = config.channels + config.stacked_inputs
        self.down = nn.ModuleList(FiLMBlock(c_in, c_out, d) for c_in, c_out in zip((inputs,) + widths[:-1], widths))
        self.refine = nn.ModuleList(residual_stack(w, config) for w in widths)
        side = config.feature_sizes[-1] if widths else config.image_size
        self.to_token = nn.Linear((widths[-1] if widths else inputs) * side * side, d)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        for block, refine in zip(self.down, self.refine):
            x = run_stack(refine, block(x, embedding), embedding)   # (N, w_i, side_i, side_i), side_i = ceil(H / 2^(i+1))
            skips.append(x)
        return self.to_token(x.flatten(1)), skips          # (N, D), one map per stage


class FrameDecoder(nn.Module):
    """The encoder run backwards: (N, D) tokens + the same frames' skips + the noisy frames -> (N, C, H, W).

    Stage i (deepest first) adds the encoder's map i and undoes the encoder's conv i: a transposed
    conv (w_i -> w_{i-1} channels, side doubled) for the inner stages, and for the last one a
    sub-pixel conv: a 3x3 conv to 4·C channels at half resolution whose channels are rearranged
    into 2x2 blocks of pixels (pixel shuffle). Nothing wide ever runs at full resolution.
    Finally a per-frame gain g(k) times the noisy frame is added, so predictions such as
    eps ≈ x_k at high noise are one multiplication away.
    """

    def __init__(self, config: VideoBackboneConfig):
        super().__init__()
        widths, d = config.widths, config.d_model
        self.gain = nn.Linear(d, config.channels)
        self.latent = not widths                              # latent frames: one linear map from the token, no convolution
        if self.latent:
            self.from_token = nn.Linear(d, config.channels * config.image_size * config.image_size)
            self.up, self.to_pixels = nn.ModuleList(), None
        else:
            self.side = config.feature_sizes[-1]
            self.from_token = nn.Linear(d, widths[-1] * self.side * self.side)
            self.up = nn.ModuleList(FiLMBlock(widths[i], widths[i - 1], d, up=True) for i in reversed(range(1, len(widths))))
            self.to_pixels = nn.Conv2d(widths[0], 4 * config.channels, 3, padding=1)
            self.refine = nn.ModuleList(residual_stack(w, config) for w in reversed(widths))   # deepest stage first
        for layer in (self.from_token if self.latent else self.to_pixels, self.gain):   # the untrained model predicts 0
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, tokens: torch.Tensor, skips: list[torch.Tensor], noisy: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        N, C, H, W = noisy.shape
        if self.latent:
            return self.from_token(tokens).view(N, C, H, W) + self.gain(embedding)[:, :, None, None] * noisy
        h = self.from_token(tokens).view(N, -1, self.side, self.side)                # (N, w_last, s, s)
        for block, refine, skip, above in zip(self.up, self.refine, reversed(skips[1:]), reversed(skips[:-1])):
            h = block(run_stack(refine, h + skip, embedding), embedding, above.shape[-2:])   # (N, w_{i-1}, side_{i-1}, side_{i-1})
        h = self.to_pixels(run_stack(self.refine[-1], h + skips[0], embedding))     # (N, 4C, ceil(H/2), ceil(W/2))
        h = F.pixel_shuffle(h, 2)[:, :, :H, :W]                                      # (N, C, H, W)
        return h + self.gain(embedding)[:, :, None, None] * noisy


class NeighborSkips(nn.Module):
    """Skips that cross time at full feature resolution: s'_t = s_t + A(s_{t-1}) [+ B(s_{t+1})].

    s_t is frame t's encoder map of one stage, A and B are 1x1 convs per stage that start at
    zero (the untrained backbone is the one without neighbour skips). The causal form uses the
    frame before only; the bidirectional one also the frame after. A missing neighbour (before
    the first frame, after the last) is a map of zeros, unless ``before`` gives the maps of the
    frame before the first.
    """

    def __init__(self, config: VideoBackboneConfig):
        super().__init__()
        self.previous = nn.ModuleList(zero_conv(w) for w in config.widths)
        self.next = nn.ModuleList(zero_conv(w) for w in config.widths) if config.temporal == "bidirectional" else None

    def forward(self, skips: list[torch.Tensor], batch_size: int, before: tuple[torch.Tensor, ...] | None = None) -> list[torch.Tensor]:
        """Per stage maps (B·T, w, s, s) -> the same with the neighbours' added; before: per stage (B, w, s, s)."""
        mixed = []
        for i, skip in enumerate(skips):
            maps = skip.view(batch_size, -1, *skip.shape[1:])                          # (B, T, w, s, s)
            first = torch.zeros_like(maps[:, :1]) if before is None else before[i][:, None]
            previous = torch.cat([first, maps[:, :-1]], dim=1).reshape_as(skip)       # frame t-1's map at t
            skip = skip + self.previous[i](previous)
            if self.next is not None:
                following = torch.cat([maps[:, 1:], torch.zeros_like(maps[:, :1])], dim=1).reshape_as(skip)
                skip = skip + self.next[i](following)
            mixed.append(skip)
        return mixed


def zero_conv(channels: int) -> nn.Conv2d:
    conv = nn.Conv2d(channels, channels, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


# -----------------------------------------------------------------------------
# Temporal models over the T tokens of each clip


class SelfAttention(nn.Module):
    def __init__(self, config: VideoBackboneConfig):
        super().__init__()
        self.num_heads, self.dropout = config.num_heads, config.dropout
        self.causal = config.temporal == "causal"
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None):
        """x (B, T, D) -> (B, T, D), and the keys and values of every frame seen so far.

        past: keys and values ``(B, nh, P, hd)`` of P earlier frames (causal only); x then holds
        frames P..P+T-1, and frame P+i attends to frames 0..P+i.
        """
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.num_heads, D // self.num_heads).permute(2, 0, 3, 1, 4)  # each (B, nh, T, hd)
        if past is None:
            # causal: frame t attends to frames 0..t only; bidirectional: to all frames of the window
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal, dropout_p=self.dropout if self.training else 0.0)
        else:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)     # (B, nh, P + T, hd)
            P = k.shape[2] - T
            # is_causal would align the mask to the top left (query i sees keys 0..i): spell it out
            allowed = torch.arange(P + T, device=x.device)[None, :] <= P + torch.arange(T, device=x.device)[:, None]  # (T, P + T)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        return self.proj(y.transpose(1, 2).reshape(B, T, D)), (k, v)  # (B, T, D)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, config: VideoBackboneConfig):
        super().__init__()
        d = config.d_model
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = SelfAttention(config)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d), nn.Dropout(config.dropout))

    def forward(self, x: torch.Tensor, past=None):
        attended, keys_values = self.attn(self.ln1(x), past)
        x = x + attended
        return x + self.mlp(self.ln2(x)), keys_values


class TransformerTemporal(nn.Module):
    """Transformer over frame tokens; positions count from the start of the window."""

    def __init__(self, config: VideoBackboneConfig):
        super().__init__()
        self.position = nn.Embedding(config.max_frames, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        self.ln_f = nn.LayerNorm(config.d_model)

    def forward(self, x: torch.Tensor, past: tuple | None = None) -> tuple[torch.Tensor, tuple]:
        """Tokens (B, T, D) -> (B, T, D), and every layer's keys and values (for a later ``past``).

        past: what an earlier call returned for the P frames before these (causal only); the
        tokens then sit at positions P..P+T-1 of the window.
        """
        T, P = x.shape[1], 0 if past is None else past[0][0].shape[2]
        x = self.drop(x + self.position(torch.arange(P, P + T, device=x.device)))  # (B, T, D)
        keys_values = []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block(x, None if past is None else past[i])
            keys_values.append(layer_cache)
        return self.ln_f(x), tuple(keys_values)


class GRUTemporal(nn.Module):
    """Multi-layer GRU over frame tokens (the Diffusion Forcing paper's RNN), residual around it.

    The hidden state z_t summarizes frames 0..t; it has shape (num_layers, B, D) and can be
    carried from one call to the next to continue a clip.
    """

    def __init__(self, config: VideoBackboneConfig):
        super().__init__()
        d = config.d_model
        self.ln = nn.LayerNorm(d)
        self.gru = nn.GRU(d, d, num_layers=config.num_layers, batch_first=True, dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.proj = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        out, state = self.gru(self.ln(x), state)   # (B, T, D), (num_layers, B, D)
        return x + self.proj(out), state


# -----------------------------------------------------------------------------
# The backbone


@dataclass(frozen=True, eq=False)
class HistoryCache:
    """What a causal backbone keeps of c history frames (see :meth:`VideoBackbone.encode_history`).

    Attributes:
        num_frames: c, the history frames it stands for.
        batch_size: B of the clips they belong to.
        keys_values: causal transformer: per layer, the keys and values (B, nh, c, hd) each.
        state: GRU: the hidden state (num_layers, B, D) after the history.
        last_maps: with ``neighbor_skips``: the encoder maps (B, w, s, s) of the last history
            frame, one per stage (what the next frame's decoder adds).
        last_frames: with ``stacked_frames`` n: the last n history frames (B, n, C, H, W) and
            their levels (B, n) (what the next frames' encoders read beside their own).
    """

    num_frames: int
    batch_size: int
    keys_values: tuple | None = None
    state: torch.Tensor | None = None
    last_maps: tuple | None = None
    last_frames: tuple | None = None

    @property
    def window_frames(self) -> int:
        """Frames the history takes up in a transformer's window (c); 0 for a GRU state, which has no window."""
        return self.num_frames if self.keys_values is not None else 0


@register_model(VideoBackboneConfig)
class VideoBackbone(nn.Module):
    """Noisy frames (B, T, C, H, W) and integer levels (B, T) -> a prediction (B, T, C, H, W)."""

    def __init__(self, config: VideoBackboneConfig | None = None):
        super().__init__()
        config = config or VideoBackboneConfig()
        config.validate()
        self.config = config
        d = config.d_model
        self.level_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.encoder = FrameEncoder(config)
        self.temporal = GRUTemporal(config) if config.temporal == "gru" else TransformerTemporal(config)
        self.decoder = FrameDecoder(config)
        self.neighbors = NeighborSkips(config) if config.neighbor_skips else None

    @property
    def is_causal(self) -> bool:
        """True when the output at frame t never depends on frames after t."""
        return self.config.temporal != "bidirectional"

    @property
    def max_window(self) -> int | None:
        """Most frames one call accepts: max_frames for the transformers, unbounded (None) for the GRU."""
        return None if self.config.temporal == "gru" else self.config.max_frames

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, frames: torch.Tensor, levels: torch.Tensor, state: torch.Tensor | None = None, return_state: bool = False,
                history: HistoryCache | None = None):
        """One prediction per frame; with ``return_state`` (GRU only) also the hidden state after the last frame.

        frames: (B, T, C, H, W) floats; levels: (B, T) integers in 0..num_levels, 0 = clean.
        state: the GRU hidden state (num_layers, B, D) returned by a previous call, or None (zeros);
            with ``neighbor_skips`` the pair (hidden, maps) a previous call returned.
        history: an :meth:`encode_history` of the c frames before these (causal models): the
            outputs are those of frames c..c+T-1 of the whole clip.
        """
        if history is not None:
            self._check_history(history, frames, state)
        past = history.window_frames if history is not None else 0
        levels = self._check_inputs(frames, levels, state, return_state, past)
        if history is not None:
            hidden, before_maps, before_frames = history.state, history.last_maps, history.last_frames
        else:
            hidden, before_maps, before_frames = self._split_state(state)
        B, T, C, H, W = frames.shape
        x = frames.reshape(B * T, C, H, W)                         # every frame on its own
        stacked = self._stack(frames, levels, before_frames)       # (B·T, C + stacked inputs, H, W)
        embedding, tokens, skips = self._encode(stacked, levels)   # (B·T, D), (B, T, D), per-frame feature maps
        if self.config.temporal == "gru":
            tokens, hidden = self.temporal(tokens, hidden)         # (B, T, D), (num_layers, B, D)
        else:
            tokens, _ = self.temporal(tokens, history.keys_values if past else None)  # (B, T, D)
        decoder_skips = skips if self.neighbors is None else self.neighbors(skips, B, before_maps)
        out = self.decoder(tokens.reshape(B * T, -1), decoder_skips, x, embedding)  # (B·T, C, H, W)
        out = out.view(B, T, C, H, W)
        if not return_state:
            return out
        if self.neighbors is not None:
            return out, (hidden, self._last_maps(skips, B))
        if self.config.stacked_frames:
            return out, (hidden, self._last_frames(frames, levels, before_frames))
        return out, hidden

    def encode_history(self, frames: torch.Tensor, levels: torch.Tensor) -> HistoryCache:
        """Run the history frames (B, c, C, H, W) at their levels (B, c) once, for later calls with ``history=``.

        Only causal models: a bidirectional model's outputs at the history depend on the frames after it.
        """
        if not self.is_causal:
            raise ValueError("expected a causal model (temporal='causal' or 'gru'): a bidirectional model's history "
                             "depends on the frames after it and cannot be cached")
        levels = self._check_inputs(frames, levels, None, False)
        B, c, C, H, W = frames.shape
        _, tokens, skips = self._encode(self._stack(frames, levels, None), levels)
        last_maps = None if self.neighbors is None else self._last_maps(skips, B)
        last_frames = self._last_frames(frames, levels, None) if self.config.stacked_frames else None
        if self.config.temporal == "gru":
            return HistoryCache(c, B, state=self.temporal(tokens)[1], last_maps=last_maps, last_frames=last_frames)
        return HistoryCache(c, B, keys_values=self.temporal(tokens)[1], last_maps=last_maps, last_frames=last_frames)

    def _padded(self, frames: torch.Tensor, levels: torch.Tensor, before: tuple | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The n frames before these and these, (B, n + T, C, H, W) and (B, n + T); a frame not known is zeros at level K."""
        n, K = self.config.stacked_frames, self.config.num_levels
        B, T = levels.shape
        if before is None:
            before = (frames.new_zeros(B, n, *frames.shape[2:]), torch.full((B, n), K, dtype=levels.dtype, device=levels.device))
        return torch.cat([before[0], frames], dim=1), torch.cat([before[1].to(levels), levels], dim=1)

    def _last_frames(self, frames: torch.Tensor, levels: torch.Tensor, before: tuple | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The last n frames (B, n, C, H, W) and levels (B, n) of ``before`` followed by these."""
        padded, padded_levels = self._padded(frames, levels, before)
        n = self.config.stacked_frames
        return padded[:, -n:], padded_levels[:, -n:]

    def _stack(self, frames: torch.Tensor, levels: torch.Tensor, before: tuple | None) -> torch.Tensor:
        """Frames (B, T, C, H, W) -> (B·T, C + m(C + 1), H, W): each frame, then its m stacked neighbours, each with
        a plane of its level / K: frames t-1 .. t-n (before the call: ``before``, else zeros at level K), and in the
        bidirectional model t+1 .. t+n (zeros at level K after the last). m = 0: the frames alone."""
        B, T, C, H, W = frames.shape
        n = self.config.stacked_frames
        if not n:
            return frames.reshape(B * T, C, H, W)
        padded, padded_levels = self._padded(frames, levels, before)                         # (B, n + T, ...)
        if not self.is_causal:
            after = frames.new_zeros(B, n, C, H, W), torch.full((B, n), self.config.num_levels, dtype=levels.dtype, device=levels.device)
            padded, padded_levels = torch.cat([padded, after[0]], 1), torch.cat([padded_levels, after[1]], 1)  # (B, n + T + n, ...)
        planes = (padded_levels.to(frames.dtype) / self.config.num_levels)[:, :, None, None, None].expand(-1, -1, 1, H, W)
        padded = torch.cat([padded, planes], dim=2)                                            # (B, n + T (+ n), C + 1, H, W)
        neighbours = [padded[:, n - j: n - j + T] for j in range(1, n + 1)]                  # frames t-1 .. t-n
        if not self.is_causal:
            neighbours += [padded[:, n + j: n + j + T] for j in range(1, n + 1)]             # frames t+1 .. t+n
        return torch.cat([frames] + neighbours, dim=2).reshape(B * T, -1, H, W)

    def _split_state(self, state):
        """A GRU state -> (hidden, maps of the frame before, frames before and their levels); None where absent."""
        if state is None or (self.neighbors is None and not self.config.stacked_frames):
            return state, None, None
        hidden, before = state
        return (hidden, before, None) if self.neighbors is not None else (hidden, None, before)

    @staticmethod
    def _last_maps(skips: list[torch.Tensor], batch_size: int) -> tuple[torch.Tensor, ...]:
        """Per stage maps (B·T, w, s, s) -> those of each clip's last frame, (B, w, s, s)."""
        return tuple(skip.view(batch_size, -1, *skip.shape[1:])[:, -1] for skip in skips)

    def _encode(self, x: torch.Tensor, levels: torch.Tensor):
        """Frames (B·T, C (+ stacked), H, W) and levels (B, T) -> level embeddings (B·T, D), tokens (B, T, D), skips."""
        B, T = levels.shape
        embedding = self.level_mlp(sinusoidal_embedding(levels.reshape(B * T), self.config.d_model).to(x.dtype))  # (B·T, D)
        tokens, skips = self.encoder(x, embedding)                 # (B·T, D), per-frame feature maps
        return embedding, (tokens + embedding).view(B, T, -1), skips   # each token knows its level

    def _check_history(self, history, frames, state):
        if not isinstance(history, HistoryCache):
            raise ValueError(f"expected history= from model.encode_history(frames, levels), got {type(history).__name__}")
        if not self.is_causal:
            raise ValueError("expected a causal model for history=; a bidirectional model cannot reuse a history")
        if state is not None:
            raise ValueError("expected either state= or history=, not both (a GRU history is its state)")
        if isinstance(frames, torch.Tensor) and frames.dim() == 5 and frames.shape[0] != history.batch_size:
            raise ValueError(f"expected {history.batch_size} clips as in the history, got {frames.shape[0]}")
        if (self.config.temporal == "gru") != (history.state is not None):
            raise ValueError(f"expected a history encoded by a {self.config.temporal} model")
        if (self.neighbors is not None) != (history.last_maps is not None):
            raise ValueError(f"expected a history encoded by a model with neighbor_skips={self.config.neighbor_skips}")
        if bool(self.config.stacked_frames) != (history.last_frames is not None):
            raise ValueError(f"expected a history encoded by a model with stacked_frames={self.config.stacked_frames}")
        if history.state is not None:
            self._check_hidden(history.state, history.batch_size)

    def _check_inputs(self, frames, levels, state, return_state, past: int = 0) -> torch.Tensor:
        c = self.config
        expected = (c.channels, c.image_size, c.image_size)
        if not isinstance(frames, torch.Tensor) or frames.dim() != 5 or tuple(frames.shape[2:]) != expected:
            got = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
            raise ValueError(f"expected frames of shape (B, T, {', '.join(map(str, expected))}), got {got}")
        if not frames.is_floating_point():
            raise ValueError(f"expected floating-point frames, got dtype {frames.dtype}")
        B, T = frames.shape[:2]
        if B < 1 or T < 1:
            raise ValueError(f"expected at least one clip and one frame, got frames of shape {tuple(frames.shape)}")
        if not isinstance(levels, torch.Tensor) or tuple(levels.shape) != (B, T):
            got = tuple(levels.shape) if isinstance(levels, torch.Tensor) else type(levels).__name__
            raise ValueError(f"expected levels of shape (B, T) = ({B}, {T}) to match frames, got {got}")
        if levels.is_floating_point() or levels.is_complex() or levels.dtype == torch.bool:
            raise ValueError(
                f"expected integer levels in 0..{c.num_levels} (0 = clean), got dtype {levels.dtype}; "
                f"discretize continuous times first, e.g. (t * {c.num_levels}).round().long()"
            )
        low, high = int(levels.min()), int(levels.max())
        if low < 0 or high > c.num_levels:
            raise ValueError(f"expected levels in 0..{c.num_levels}, got values from {low} to {high}")
        if c.temporal == "gru":
            if state is not None:
                self._check_state(state, B)
        else:
            if state is not None or return_state:
                raise ValueError(
                    f"state is only supported by the 'gru' temporal model; the {c.temporal} transformer has none "
                    f"(roll out with a sliding window of at most max_frames={c.max_frames} frames)"
                )
            if past + T > c.max_frames:
                got = f"{T}" if not past else f"{past} history + {T} = {past + T}"
                raise ValueError(
                    f"expected at most max_frames={c.max_frames} frames for the {c.temporal} transformer, got {got}; "
                    f"slide a window over longer clips"
                )
        return levels.to(frames.device)

    def _check_state(self, state, batch_size: int) -> None:
        c = self.config
        maps = tuple((batch_size, w, side, side) for w, side in zip(c.widths, c.feature_sizes))
        if self.neighbors is not None:
            if not (isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], tuple)):
                raise ValueError(f"expected the GRU state (hidden, maps) of a backbone with neighbor_skips, as a previous "
                                 f"call with return_state=True returned it, got {type(state).__name__}")
            got_maps = tuple(tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__ for m in state[1])
            if got_maps != maps:
                raise ValueError(f"expected the state's maps of shapes {maps}, got {got_maps}")
            state = state[0]
        elif c.stacked_frames:
            n = c.stacked_frames
            if not (isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], tuple) and len(state[1]) == 2):
                raise ValueError(f"expected the GRU state (hidden, (frames, levels)) of a backbone with stacked_frames, as a "
                                 f"previous call with return_state=True returned it, got {type(state).__name__}")
            got = tuple(tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__ for t in state[1])
            if got != ((batch_size, n, c.channels, c.image_size, c.image_size), (batch_size, n)):
                raise ValueError(f"expected the state's last {n} frames (B, {n}, C, H, W) and levels (B, {n}) "
                                 f"for B = {batch_size}, got {got}")
            state = state[0]
        self._check_hidden(state, batch_size)

    def _check_hidden(self, hidden, batch_size: int) -> None:
        c = self.config
        shape = (c.num_layers, batch_size, c.d_model)
        if not isinstance(hidden, torch.Tensor) or tuple(hidden.shape) != shape:
            got = tuple(hidden.shape) if isinstance(hidden, torch.Tensor) else type(hidden).__name__
            raise ValueError(f"expected a GRU state of shape (num_layers, B, d_model) = {shape}, got {got}")
