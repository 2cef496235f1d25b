"""Plausible wrong answers to the 06_diffusion_forcing exercises; each must fail at least one test.

``WRONG[question][label]`` is the source of a graded cell, as a student might write it.
"""

WRONG = {
    "06_diffusion_forcing.noisy_clips": {
        "NaN noise and NaN inputs (consistent with each other, but not numbers)": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    levels = torch.randint(min_level, schedule.num_levels + 1, frames.shape[:2], generator=generator)
    nan = torch.full_like(frames, float("nan"))
    return nan, levels, nan.clone()
''',
        "one level per clip (full-sequence noise)": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    B, T = frames.shape[:2]
    levels = torch.randint(min_level, schedule.num_levels + 1, (B, 1), generator=generator).expand(B, T)
    noise = torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    ab = schedule.alpha_bars[levels][..., None, None, None]
    return ab.sqrt() * frames + (1 - ab).sqrt() * noise, levels, noise
''',
        "one level per frame position, shared by every clip": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    B, T = frames.shape[:2]
    levels = torch.randint(min_level, schedule.num_levels + 1, (1, T), generator=generator).expand(B, T)
    noise = torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    ab = schedule.alpha_bars[levels][..., None, None, None]
    return ab.sqrt() * frames + (1 - ab).sqrt() * noise, levels, noise
''',
        "randint's upper end is exclusive: K is never drawn": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    B, T = frames.shape[:2]
    levels = torch.randint(min_level, schedule.num_levels, (B, T), generator=generator)
    noise = torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    ab = schedule.alpha_bars[levels][..., None, None, None]
    return ab.sqrt() * frames + (1 - ab).sqrt() * noise, levels, noise
''',
        "levels start at 1 whatever min_level says": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    B, T = frames.shape[:2]
    levels = torch.randint(1, schedule.num_levels + 1, (B, T), generator=generator)
    noise = torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    ab = schedule.alpha_bars[levels][..., None, None, None]
    return ab.sqrt() * frames + (1 - ab).sqrt() * noise, levels, noise
''',
        "uniform noise (torch.rand) instead of Gaussian": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    B, T = frames.shape[:2]
    levels = torch.randint(min_level, schedule.num_levels + 1, (B, T), generator=generator)
    noise = torch.rand(frames.shape, generator=generator, dtype=frames.dtype)
    ab = schedule.alpha_bars[levels][..., None, None, None]
    return ab.sqrt() * frames + (1 - ab).sqrt() * noise, levels, noise
''',
        "the noise returned is not the noise added": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    B, T = frames.shape[:2]
    levels = torch.randint(min_level, schedule.num_levels + 1, (B, T), generator=generator)
    ab = schedule.alpha_bars[levels][..., None, None, None]
    noisy = ab.sqrt() * frames + (1 - ab).sqrt() * torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    return noisy, levels, torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
''',
        "variances where standard deviations belong": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    B, T = frames.shape[:2]
    levels = torch.randint(min_level, schedule.num_levels + 1, (B, T), generator=generator)
    noise = torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    ab = schedule.alpha_bars[levels][..., None, None, None]
    return ab * frames + (1 - ab) * noise, levels, noise
''',
        "levels as floats": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    B, T = frames.shape[:2]
    levels = torch.randint(min_level, schedule.num_levels + 1, (B, T), generator=generator)
    noise = torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    ab = schedule.alpha_bars[levels][..., None, None, None]
    return ab.sqrt() * frames + (1 - ab).sqrt() * noise, levels.float(), noise
''',
        "the generator is ignored": '''
import torch
def noisy_clips(frames, schedule, min_level=0, generator=None):
    B, T = frames.shape[:2]
    levels = torch.randint(min_level, schedule.num_levels + 1, (B, T))
    noise = torch.randn(frames.shape, dtype=frames.dtype)
    ab = schedule.alpha_bars[levels][..., None, None, None]
    return ab.sqrt() * frames + (1 - ab).sqrt() * noise, levels, noise
''',
    },
    "06_diffusion_forcing.autoregressive_matrix": {
        "chunk_size ignored (always one frame at a time)": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def autoregressive_matrix(num_frames, steps, num_levels=1000, chunk_size=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = torch.arange(num_frames) * steps
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
        "an idle row between chunks (next chunk starts steps + 1 rows later)": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def autoregressive_matrix(num_frames, steps, num_levels=1000, chunk_size=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = (torch.arange(num_frames) // chunk_size) * (steps + 1)
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
        "the next chunk starts one row before the previous one is clean": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def autoregressive_matrix(num_frames, steps, num_levels=1000, chunk_size=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = (torch.arange(num_frames) // chunk_size) * max(steps - 1, 1)
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
        "ladder from range(K, -1, -(K // steps))": '''
import torch
def autoregressive_matrix(num_frames, steps, num_levels=1000, chunk_size=1):
    ladder = torch.tensor(list(range(num_levels, -1, -(num_levels // steps)))[:steps] + [0])
    start = (torch.arange(num_frames) // chunk_size) * steps
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
        "the matrix transposed (frames as rows)": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def autoregressive_matrix(num_frames, steps, num_levels=1000, chunk_size=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = (torch.arange(num_frames) // chunk_size) * steps
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)].T
''',
        "rows in reverse order (clean first, columns going up)": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def autoregressive_matrix(num_frames, steps, num_levels=1000, chunk_size=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = (torch.arange(num_frames) // chunk_size) * steps
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)].flip(0)
''',
        "a float matrix": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def autoregressive_matrix(num_frames, steps, num_levels=1000, chunk_size=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps), dtype=torch.float32)
    start = (torch.arange(num_frames) // chunk_size) * steps
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
    },
    "06_diffusion_forcing.pyramid_matrix": {
        "delay ignored (one row between chunks)": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def pyramid_matrix(num_frames, steps, num_levels=1000, chunk_size=1, delay=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = torch.arange(num_frames) // chunk_size
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
        "chunk_size ignored (delay per frame)": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def pyramid_matrix(num_frames, steps, num_levels=1000, chunk_size=1, delay=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = torch.arange(num_frames) * delay
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
        "upside-down pyramid (the last frame first)": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def pyramid_matrix(num_frames, steps, num_levels=1000, chunk_size=1, delay=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    chunk = torch.arange(num_frames) // chunk_size
    start = (chunk.max() - chunk) * delay
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
        "the final all-clean row is missing": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def pyramid_matrix(num_frames, steps, num_levels=1000, chunk_size=1, delay=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = (torch.arange(num_frames) // chunk_size) * delay
    rows = torch.arange(int(start.max()) + steps)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
        "idle rows squeezed out when delay > steps": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def pyramid_matrix(num_frames, steps, num_levels=1000, chunk_size=1, delay=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = (torch.arange(num_frames) // chunk_size) * min(delay, steps)
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)]
''',
        "a frame walks two rungs per row": '''
import torch
from dfkit.diffusion.ddpm import ddim_levels
def pyramid_matrix(num_frames, steps, num_levels=1000, chunk_size=1, delay=1):
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    start = (torch.arange(num_frames) // chunk_size) * delay
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(2 * (rows - start[None])).clamp(0, steps)]
''',
    },
    "06_diffusion_forcing.walk_matrix": {
        "the denoiser is told the next row's levels": '''
import torch
from dfkit.diffusion.ddpm import ddim_step
def walk_matrix(denoiser, matrix, noise, schedule, parameterization="eps"):
    x, B = noise, noise.shape[0]
    for m in range(matrix.shape[0] - 1):
        levels, next_levels = matrix[m].expand(B, -1), matrix[m + 1].expand(B, -1)
        x = ddim_step(x, levels, next_levels, denoiser(x, next_levels), schedule, parameterization)
    return x
''',
        "the last row is never reached": '''
import torch
from dfkit.diffusion.ddpm import ddim_step
def walk_matrix(denoiser, matrix, noise, schedule, parameterization="eps"):
    x, B = noise, noise.shape[0]
    for m in range(matrix.shape[0] - 2):
        levels, next_levels = matrix[m].expand(B, -1), matrix[m + 1].expand(B, -1)
        x = ddim_step(x, levels, next_levels, denoiser(x, levels), schedule, parameterization)
    return x
''',
        "each frame denoised alone (the model never sees the history)": '''
import torch
from dfkit.diffusion.ddpm import ddim_step
def walk_matrix(denoiser, matrix, noise, schedule, parameterization="eps"):
    x, B = noise, noise.shape[0]
    for m in range(matrix.shape[0] - 1):
        levels, next_levels = matrix[m].expand(B, -1), matrix[m + 1].expand(B, -1)
        prediction = torch.cat([denoiser(x[:, t:t + 1], levels[:, t:t + 1]) for t in range(x.shape[1])], dim=1)
        x = ddim_step(x, levels, next_levels, prediction, schedule, parameterization)
    return x
''',
        "the clean estimate taken as the next frames (no DDIM step)": '''
import torch
from dfkit.diffusion.ddpm import to_x0_eps
def walk_matrix(denoiser, matrix, noise, schedule, parameterization="eps"):
    x, B = noise, noise.shape[0]
    for m in range(matrix.shape[0] - 1):
        levels = matrix[m].expand(B, -1)
        x0_hat, _ = to_x0_eps(denoiser(x, levels), parameterization, x, levels, schedule)
        moving = (matrix[m + 1] != matrix[m])[None, :, None, None, None]
        x = torch.where(moving, x0_hat, x)
    return x
''',
        "the parameterization is ignored (always eps)": '''
import torch
from dfkit.diffusion.ddpm import ddim_step
def walk_matrix(denoiser, matrix, noise, schedule, parameterization="eps"):
    x, B = noise, noise.shape[0]
    for m in range(matrix.shape[0] - 1):
        levels, next_levels = matrix[m].expand(B, -1), matrix[m + 1].expand(B, -1)
        x = ddim_step(x, levels, next_levels, denoiser(x, levels), schedule)
    return x
''',
        "levels of shape (T,) instead of (B, T)": '''
import torch
from dfkit.diffusion.ddpm import ddim_step
def walk_matrix(denoiser, matrix, noise, schedule, parameterization="eps"):
    x = noise
    for m in range(matrix.shape[0] - 1):
        x = ddim_step(x, matrix[m], matrix[m + 1], denoiser(x, matrix[m]), schedule, parameterization)
    return x
''',
        "frames updated one after another, each seeing the already-updated ones": '''
import torch
from dfkit.diffusion.ddpm import ddim_step
def walk_matrix(denoiser, matrix, noise, schedule, parameterization="eps"):
    x, B = noise.clone(), noise.shape[0]
    for m in range(matrix.shape[0] - 1):
        levels, next_levels = matrix[m].expand(B, -1), matrix[m + 1].expand(B, -1)
        for t in range(x.shape[1]):
            prediction = denoiser(x, levels)
            x[:, t] = ddim_step(x[:, t], levels[:, t], next_levels[:, t], prediction[:, t], schedule, parameterization)
    return x
''',
        "rows walked from the last to the first": '''
import torch
from dfkit.diffusion.ddpm import ddim_step
def walk_matrix(denoiser, matrix, noise, schedule, parameterization="eps"):
    x, B = noise, noise.shape[0]
    for m in range(matrix.shape[0] - 1, 0, -1):
        levels, next_levels = matrix[m].expand(B, -1), matrix[m - 1].expand(B, -1)
        x = ddim_step(x, levels, next_levels, denoiser(x, levels), schedule, parameterization)
    return x
''',
    },
    "06_diffusion_forcing.stabilized_history": {
        "noised, but reported clean (levels 0)": '''
import torch
def stabilized_history(context, k_small, schedule, noise, add_noise=True):
    B, c = context.shape[:2]
    levels = torch.zeros((B, c), dtype=torch.long)
    if not add_noise:
        return context, levels
    ab = schedule.alpha_bars[k_small]
    return ab.sqrt() * context + (1 - ab).sqrt() * noise, levels
''',
        "noise added even when add_noise is False": '''
import torch
def stabilized_history(context, k_small, schedule, noise, add_noise=True):
    B, c = context.shape[:2]
    ab = schedule.alpha_bars[k_small]
    return ab.sqrt() * context + (1 - ab).sqrt() * noise, torch.full((B, c), k_small)
''',
        "never noised (only labelled)": '''
import torch
def stabilized_history(context, k_small, schedule, noise, add_noise=True):
    B, c = context.shape[:2]
    return context, torch.full((B, c), k_small)
''',
        "variances where standard deviations belong": '''
import torch
def stabilized_history(context, k_small, schedule, noise, add_noise=True):
    B, c = context.shape[:2]
    if not add_noise:
        return context, torch.full((B, c), k_small)
    ab = schedule.alpha_bars[k_small]
    return ab * context + (1 - ab) * noise, torch.full((B, c), k_small)
''',
        "noise added without shrinking the signal": '''
import torch
def stabilized_history(context, k_small, schedule, noise, add_noise=True):
    B, c = context.shape[:2]
    if not add_noise:
        return context, torch.full((B, c), k_small)
    return context + schedule.one_minus_alpha_bars[k_small].sqrt() * noise, torch.full((B, c), k_small)
''',
        "one level per history frame, shape (c,)": '''
import torch
def stabilized_history(context, k_small, schedule, noise, add_noise=True):
    c = context.shape[1]
    if not add_noise:
        return context, torch.full((c,), k_small)
    ab = schedule.alpha_bars[k_small]
    return ab.sqrt() * context + (1 - ab).sqrt() * noise, torch.full((c,), k_small)
''',
        "levels as floats": '''
import torch
def stabilized_history(context, k_small, schedule, noise, add_noise=True):
    B, c = context.shape[:2]
    levels = torch.full((B, c), float(k_small))
    if not add_noise:
        return context, levels
    ab = schedule.alpha_bars[k_small]
    return ab.sqrt() * context + (1 - ab).sqrt() * noise, levels
''',
    },
}
