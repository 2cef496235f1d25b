"""Plausible wrong answers to the 05_full_sequence exercises; each must fail at least one test.

``WRONG[question][label]`` is the source of a graded cell, as a student might write it.
"""

WRONG = {
    "05_full_sequence.full_sequence_noise": {
        "levels laid along the frame axis (k.expand(B, T))": '''
import torch
def full_sequence_noise(clips, k, noise, schedule):
    B, T = clips.shape[:2]
    levels = torch.as_tensor(k).long().expand(B, T)
    a = schedule.alpha_bars[levels].to(clips.dtype)[..., None, None, None]
    return a.sqrt() * clips + (1 - a).sqrt() * noise, levels
''',
        "an independent level for every frame (Diffusion Forcing, not full sequence)": '''
import torch
def full_sequence_noise(clips, k, noise, schedule):
    B, T = clips.shape[:2]
    levels = torch.randint(1, schedule.num_levels + 1, (B, T))
    a = schedule.alpha_bars[levels].to(clips.dtype)[..., None, None, None]
    return a.sqrt() * clips + (1 - a).sqrt() * noise, levels
''',
        "no square roots (alpha_bar x_0 + (1 - alpha_bar) eps)": '''
import torch
def full_sequence_noise(clips, k, noise, schedule):
    levels = torch.as_tensor(k).long()[:, None].expand(clips.shape[:2])
    a = schedule.alpha_bars[levels].to(clips.dtype)[..., None, None, None]
    return a * clips + (1 - a) * noise, levels
''',
        "signal and noise swapped": '''
import torch
def full_sequence_noise(clips, k, noise, schedule):
    levels = torch.as_tensor(k).long()[:, None].expand(clips.shape[:2])
    a = schedule.alpha_bars[levels].to(clips.dtype)[..., None, None, None]
    return (1 - a).sqrt() * clips + a.sqrt() * noise, levels
''',
        "alpha_bar read one level too low (alpha_bars[k - 1])": '''
import torch
def full_sequence_noise(clips, k, noise, schedule):
    levels = torch.as_tensor(k).long()[:, None].expand(clips.shape[:2])
    a = schedule.alpha_bars[(levels - 1).clamp(min=0)].to(clips.dtype)[..., None, None, None]
    return a.sqrt() * clips + (1 - a).sqrt() * noise, levels
''',
        "levels returned as floats": '''
import torch
def full_sequence_noise(clips, k, noise, schedule):
    levels = torch.as_tensor(k).long()[:, None].expand(clips.shape[:2])
    a = schedule.alpha_bars[levels].to(clips.dtype)[..., None, None, None]
    return a.sqrt() * clips + (1 - a).sqrt() * noise, levels.float()
''',
        "levels kept as (B,): one per clip, not one per frame": '''
import torch
def full_sequence_noise(clips, k, noise, schedule):
    levels = torch.as_tensor(k).long()
    a = schedule.alpha_bars[levels].to(clips.dtype)[:, None, None, None, None]
    return a.sqrt() * clips + (1 - a).sqrt() * noise, levels
''',
    },
    "05_full_sequence.replace_known": {
        "writes the known frames into the caller's x": '''
def replace_known(x, levels, known, noise, schedule):
    a = known.shape[1]
    ab = schedule.alpha_bars[levels[:, :a]].to(x.dtype)[..., None, None, None]
    x[:, :a] = ab.sqrt() * known + (1 - ab).sqrt() * noise
    return x
''',
        "known frames replaced by the clean truth (no noise)": '''
import torch
def replace_known(x, levels, known, noise, schedule):
    return torch.cat([known, x[:, known.shape[1]:]], dim=1)
''',
        "replaces the last a frames instead of the first": '''
import torch
def replace_known(x, levels, known, noise, schedule):
    a = known.shape[1]
    ab = schedule.alpha_bars[levels[:, -a:]].to(x.dtype)[..., None, None, None]
    return torch.cat([x[:, : x.shape[1] - a], ab.sqrt() * known + (1 - ab).sqrt() * noise], dim=1)
''',
        "known frames at the first frame's level (levels[:, :1])": '''
import torch
def replace_known(x, levels, known, noise, schedule):
    a = known.shape[1]
    ab = schedule.alpha_bars[levels[:, :1]].to(x.dtype)[..., None, None, None]
    return torch.cat([ab.sqrt() * known + (1 - ab).sqrt() * noise, x[:, a:]], dim=1)
''',
        "known frames read the levels of the unknown frames (levels[:, a:])": '''
import torch
def replace_known(x, levels, known, noise, schedule):
    a = known.shape[1]
    lv = levels[:, a:2 * a] if levels.shape[1] >= 2 * a else levels[:, -a:]
    ab = schedule.alpha_bars[lv].to(x.dtype)[..., None, None, None]
    return torch.cat([ab.sqrt() * known + (1 - ab).sqrt() * noise, x[:, a:]], dim=1)
''',
        "noise added to the current x instead of the truth": '''
import torch
def replace_known(x, levels, known, noise, schedule):
    a = known.shape[1]
    ab = schedule.alpha_bars[levels[:, :a]].to(x.dtype)[..., None, None, None]
    return torch.cat([ab.sqrt() * x[:, :a] + (1 - ab).sqrt() * noise, x[:, a:]], dim=1)
''',
        "the unknown frames noised as well": '''
import torch
def replace_known(x, levels, known, noise, schedule):
    a = known.shape[1]
    ab = schedule.alpha_bars[levels].to(x.dtype)[..., None, None, None]
    out = ab.sqrt() * x
    out[:, :a] = ab[:, :a].sqrt() * known + (1 - ab[:, :a]).sqrt() * noise
    return out
''',
        "one frame too many kept from x (known[:, 1:] placed)": '''
import torch
def replace_known(x, levels, known, noise, schedule):
    a = known.shape[1]
    ab = schedule.alpha_bars[levels[:, :a]].to(x.dtype)[..., None, None, None]
    new = ab.sqrt() * known + (1 - ab).sqrt() * noise
    return torch.cat([x[:, :1], new[:, 1:], x[:, a:]], dim=1)
''',
    },
    "05_full_sequence.reconstruction_gradient": {
        "relies on the caller's gradient mode (no torch.enable_grad)": '''
import torch
def reconstruction_gradient(denoiser, x_k, levels, known):
    x = x_k.detach().requires_grad_(True)
    error = ((denoiser(x, levels)[:, :known.shape[1]] - known) ** 2).sum()
    (gradient,) = torch.autograd.grad(error, x)
    return gradient
''',
        "the gradient with respect to x0_hat instead of x_k": '''
import torch
def reconstruction_gradient(denoiser, x_k, levels, known):
    a = known.shape[1]
    x0_hat = denoiser(x_k, levels)
    gradient = torch.zeros_like(x_k)
    gradient[:, :a] = 2 * (x0_hat[:, :a] - known)
    return gradient
''',
        "the known frames' own gradient only (unknown frames zeroed)": '''
import torch
def reconstruction_gradient(denoiser, x_k, levels, known):
    a = known.shape[1]
    x = x_k.detach().requires_grad_(True)
    error = ((denoiser(x, levels)[:, :a] - known) ** 2).sum()
    (gradient,) = torch.autograd.grad(error, x)
    gradient[:, a:] = 0
    return gradient
''',
        "mean squared error instead of the sum": '''
import torch
def reconstruction_gradient(denoiser, x_k, levels, known):
    a = known.shape[1]
    x = x_k.detach().requires_grad_(True)
    error = ((denoiser(x, levels)[:, :a] - known) ** 2).mean()
    (gradient,) = torch.autograd.grad(error, x)
    return gradient
''',
        "half the squared error (the factor 2 lost)": '''
import torch
def reconstruction_gradient(denoiser, x_k, levels, known):
    a = known.shape[1]
    x = x_k.detach().requires_grad_(True)
    error = 0.5 * ((denoiser(x, levels)[:, :a] - known) ** 2).sum()
    (gradient,) = torch.autograd.grad(error, x)
    return gradient
''',
        "the last a frames compared with the truth": '''
import torch
def reconstruction_gradient(denoiser, x_k, levels, known):
    a = known.shape[1]
    x = x_k.detach().requires_grad_(True)
    error = ((denoiser(x, levels)[:, -a:] - known) ** 2).sum()
    (gradient,) = torch.autograd.grad(error, x)
    return gradient
''',
        "the denoiser asked at level 0": '''
import torch
def reconstruction_gradient(denoiser, x_k, levels, known):
    a = known.shape[1]
    x = x_k.detach().requires_grad_(True)
    error = ((denoiser(x, torch.zeros_like(levels))[:, :a] - known) ** 2).sum()
    (gradient,) = torch.autograd.grad(error, x)
    return gradient
''',
    },
    "05_full_sequence.reconstruction_guided_x0": {
        "sign flipped (moves up the error gradient)": '''
import torch
def reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule):
    ab = schedule.alpha_bars[levels].to(x0_hat.dtype)[..., None, None, None]
    out = x0_hat + weight * ab.sqrt() / 2 * gradient
    out[:, :num_known] = x0_hat[:, :num_known]
    return out
''',
        "without the 1/2": '''
import torch
def reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule):
    ab = schedule.alpha_bars[levels].to(x0_hat.dtype)[..., None, None, None]
    out = x0_hat - weight * ab.sqrt() * gradient
    out[:, :num_known] = x0_hat[:, :num_known]
    return out
''',
        "alpha_bar instead of its square root": '''
import torch
def reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule):
    ab = schedule.alpha_bars[levels].to(x0_hat.dtype)[..., None, None, None]
    out = x0_hat - weight * ab / 2 * gradient
    out[:, :num_known] = x0_hat[:, :num_known]
    return out
''',
        "the classifier weighting (1 - alpha_bar) / sqrt(alpha_bar)": '''
import torch
def reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule):
    ab = schedule.alpha_bars[levels].to(x0_hat.dtype)[..., None, None, None]
    out = x0_hat - weight * (1 - ab) / ab.sqrt().clamp(min=1e-4) / 2 * gradient
    out[:, :num_known] = x0_hat[:, :num_known]
    return out
''',
        "the known frames corrected too": '''
import torch
def reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule):
    ab = schedule.alpha_bars[levels].to(x0_hat.dtype)[..., None, None, None]
    return x0_hat - weight * ab.sqrt() / 2 * gradient
''',
        "only the known frames corrected": '''
import torch
def reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule):
    ab = schedule.alpha_bars[levels].to(x0_hat.dtype)[..., None, None, None]
    out = x0_hat - weight * ab.sqrt() / 2 * gradient
    out[:, num_known:] = x0_hat[:, num_known:]
    return out
''',
        "off by one frame (the last known frame corrected)": '''
import torch
def reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule):
    ab = schedule.alpha_bars[levels].to(x0_hat.dtype)[..., None, None, None]
    out = x0_hat - weight * ab.sqrt() / 2 * gradient
    keep = max(num_known - 1, 0)
    out[:, :keep] = x0_hat[:, :keep]
    return out
''',
        "every frame weighted at the first frame's level": '''
import torch
def reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule):
    ab = schedule.alpha_bars[levels[:, :1]].to(x0_hat.dtype)[..., None, None, None]
    out = x0_hat - weight * ab.sqrt() / 2 * gradient
    out[:, :num_known] = x0_hat[:, :num_known]
    return out
''',
    },
    "05_full_sequence.border_inconsistency": {
        "steps not wrapped (a swing through the top reads as a 2π jump)": '''
import torch
def border_inconsistency(angles, borders):
    steps = angles[:, 1:] - angles[:, :-1]
    e = (steps[:, 1:] - steps[:, :-1]).abs()
    frames = list(range(2, angles.shape[1]))
    at = [b - 2 for b in borders]
    inside = [t - 2 for t in frames if t not in borders]
    return torch.stack([e[:, at].mean(1), e[:, inside].mean(1)], dim=1)
''',
        "the first difference |θ_t - θ_(t-1)| instead of the surprise": '''
import math
import torch
def border_inconsistency(angles, borders):
    wrap = lambda a: (a + math.pi) % (2 * math.pi) - math.pi
    d = wrap(angles[:, 1:] - angles[:, :-1]).abs()
    frames = list(range(2, angles.shape[1]))
    at = [b - 1 for b in borders]
    inside = [t - 1 for t in frames if t not in borders]
    return torch.stack([d[:, at].mean(1), d[:, inside].mean(1)], dim=1)
''',
        "surprise read one frame late (at b + 1)": '''
import math
import torch
def border_inconsistency(angles, borders):
    wrap = lambda a: (a + math.pi) % (2 * math.pi) - math.pi
    steps = wrap(angles[:, 1:] - angles[:, :-1])
    e = wrap(steps[:, 1:] - steps[:, :-1]).abs()
    e = torch.cat([e, e[:, -1:]], dim=1)
    frames = list(range(2, angles.shape[1]))
    at = [b - 1 for b in borders]
    inside = [t - 2 for t in frames if t not in borders]
    return torch.stack([e[:, at].mean(1), e[:, inside].mean(1)], dim=1)
''',
        "the borders counted inside too": '''
import math
import torch
def border_inconsistency(angles, borders):
    wrap = lambda a: (a + math.pi) % (2 * math.pi) - math.pi
    steps = wrap(angles[:, 1:] - angles[:, :-1])
    e = wrap(steps[:, 1:] - steps[:, :-1]).abs()
    at = [b - 2 for b in borders]
    return torch.stack([e[:, at].mean(1), e.mean(1)], dim=1)
''',
        "one mean over all clips (shape (2,))": '''
import math
import torch
def border_inconsistency(angles, borders):
    wrap = lambda a: (a + math.pi) % (2 * math.pi) - math.pi
    steps = wrap(angles[:, 1:] - angles[:, :-1])
    e = wrap(steps[:, 1:] - steps[:, :-1]).abs()
    at = [b - 2 for b in borders]
    inside = [t - 2 for t in range(2, angles.shape[1]) if t not in borders]
    return torch.stack([e[:, at].mean(), e[:, inside].mean()])
''',
        "squared surprise instead of its size": '''
import math
import torch
def border_inconsistency(angles, borders):
    wrap = lambda a: (a + math.pi) % (2 * math.pi) - math.pi
    steps = wrap(angles[:, 1:] - angles[:, :-1])
    e = wrap(steps[:, 1:] - steps[:, :-1]) ** 2
    at = [b - 2 for b in borders]
    inside = [t - 2 for t in range(2, angles.shape[1]) if t not in borders]
    return torch.stack([e[:, at].mean(1), e[:, inside].mean(1)], dim=1)
''',
        "wrapped into [0, 2π) instead of [-π, π)": '''
import math
import torch
def border_inconsistency(angles, borders):
    wrap = lambda a: a % (2 * math.pi)
    steps = wrap(angles[:, 1:] - angles[:, :-1])
    e = wrap(steps[:, 1:] - steps[:, :-1]).abs()
    at = [b - 2 for b in borders]
    inside = [t - 2 for t in range(2, angles.shape[1]) if t not in borders]
    return torch.stack([e[:, at].mean(1), e[:, inside].mean(1)], dim=1)
''',
    },
}
