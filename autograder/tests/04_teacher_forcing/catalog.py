"""Plausible wrong answers to the 04_teacher_forcing exercises; each must fail at least one test.

``WRONG[question][label]`` is the source of a graded cell, as a student might write it.
"""

WRONG = {
    "04_teacher_forcing.teacher_forcing_pairs": {
        "target inside its own history (the window starts one frame late)": '''
import torch
def teacher_forcing_pairs(clips, context):
    T = clips.shape[1]
    histories = torch.stack([clips[:, i + 1:i + 1 + context] for i in range(T - context)], dim=1)
    targets = torch.stack([clips[:, i + context] for i in range(T - context)], dim=1)
    return histories, targets
''',
        "target is the last history frame (off by one)": '''
import torch
def teacher_forcing_pairs(clips, context):
    T = clips.shape[1]
    histories = torch.stack([clips[:, i:i + context] for i in range(T - context)], dim=1)
    targets = clips[:, context - 1:T - 1]
    return histories, targets
''',
        "unfold without moving the window axis next to the pairs": '''
def teacher_forcing_pairs(clips, context):
    windows = clips.unfold(1, context + 1, 1)           # (B, T - c, C, H, W, c + 1)
    return windows[..., :context], windows[..., context]
''',
        "one pair short (the last target is left out)": '''
import torch
def teacher_forcing_pairs(clips, context):
    T = clips.shape[1]
    histories = torch.stack([clips[:, i:i + context] for i in range(T - context - 1)], dim=1)
    targets = torch.stack([clips[:, i + context] for i in range(T - context - 1)], dim=1)
    return histories, targets
''',
        "history newest first": '''
import torch
def teacher_forcing_pairs(clips, context):
    T = clips.shape[1]
    histories = torch.stack([clips[:, i:i + context].flip(1) for i in range(T - context)], dim=1)
    targets = torch.stack([clips[:, i + context] for i in range(T - context)], dim=1)
    return histories, targets
''',
        "pairs of the first clip only": '''
import torch
def teacher_forcing_pairs(clips, context):
    T = clips.shape[1]
    histories = torch.stack([clips[:1, i:i + context] for i in range(T - context)], dim=1)
    targets = torch.stack([clips[:1, i + context] for i in range(T - context)], dim=1)
    return histories, targets
''',
        "frames turned into float32": '''
import torch
def teacher_forcing_pairs(clips, context):
    clips = clips.float()
    T = clips.shape[1]
    histories = torch.stack([clips[:, i:i + context] for i in range(T - context)], dim=1)
    targets = torch.stack([clips[:, i + context] for i in range(T - context)], dim=1)
    return histories, targets
''',
    },
    "04_teacher_forcing.teacher_forcing_input": {
        "history noised too, at the target's level (full-sequence noise)": '''
import torch
def teacher_forcing_input(history, target, k, schedule, noise):
    frames = torch.cat([history, target[:, None]], dim=1)
    a = schedule.alpha_bars[k].to(frames.dtype).reshape(-1, 1, 1, 1, 1)
    noises = torch.cat([torch.zeros_like(history), noise[:, None]], dim=1)
    noises[:, :-1] = noise[:, None]
    inputs = a.sqrt() * frames + (1 - a).sqrt() * noises
    levels = k.long()[:, None].expand(-1, frames.shape[1]).clone()
    return inputs, levels
''',
        "history labelled with level k": '''
import torch
def noise_to_level(x0, k, noise, schedule):
    alpha_bar = schedule.alpha_bars[k].to(x0.dtype).reshape(-1, *[1] * (x0.dim() - 1))
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
def teacher_forcing_input(history, target, k, schedule, noise):
    inputs = torch.cat([history, noise_to_level(target, k, noise, schedule)[:, None]], dim=1)
    levels = k.long()[:, None].expand(-1, inputs.shape[1]).clone()
    return inputs, levels
''',
        "noise mixed without square roots": '''
import torch
def teacher_forcing_input(history, target, k, schedule, noise):
    a = schedule.alpha_bars[k].to(target.dtype).reshape(-1, 1, 1, 1)
    noisy = a * target + (1 - a) * noise
    levels = torch.zeros(history.shape[0], history.shape[1] + 1, dtype=torch.long)
    levels[:, -1] = k
    return torch.cat([history, noisy[:, None]], dim=1), levels
''',
        "signal of the previous level (alpha_bars[k - 1])": '''
import torch
def teacher_forcing_input(history, target, k, schedule, noise):
    a = schedule.alpha_bars[k - 1].to(target.dtype).reshape(-1, 1, 1, 1)
    noisy = a.sqrt() * target + (1 - a).sqrt() * noise
    levels = torch.zeros(history.shape[0], history.shape[1] + 1, dtype=torch.long)
    levels[:, -1] = k
    return torch.cat([history, noisy[:, None]], dim=1), levels
''',
        "target left clean (only its level says k)": '''
import torch
def teacher_forcing_input(history, target, k, schedule, noise):
    levels = torch.zeros(history.shape[0], history.shape[1] + 1, dtype=torch.long)
    levels[:, -1] = k
    return torch.cat([history, target[:, None]], dim=1), levels
''',
        "levels as floats": '''
import torch
def noise_to_level(x0, k, noise, schedule):
    alpha_bar = schedule.alpha_bars[k].to(x0.dtype).reshape(-1, *[1] * (x0.dim() - 1))
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
def teacher_forcing_input(history, target, k, schedule, noise):
    levels = torch.zeros(history.shape[0], history.shape[1] + 1)
    levels[:, -1] = k.float()
    return torch.cat([history, noise_to_level(target, k, noise, schedule)[:, None]], dim=1), levels
''',
        "noisy target put first, before the history": '''
import torch
def noise_to_level(x0, k, noise, schedule):
    alpha_bar = schedule.alpha_bars[k].to(x0.dtype).reshape(-1, *[1] * (x0.dim() - 1))
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
def teacher_forcing_input(history, target, k, schedule, noise):
    levels = torch.zeros(history.shape[0], history.shape[1] + 1, dtype=torch.long)
    levels[:, 0] = k
    return torch.cat([noise_to_level(target, k, noise, schedule)[:, None], history], dim=1), levels
''',
    },
    "04_teacher_forcing.autoregressive_rollout": {
        "the window never slides (every frame sampled from the context)": '''
import torch
def autoregressive_rollout(sample_next, context, num_frames, history):
    window = context[:, -history:]
    return torch.stack([sample_next(window) for _ in range(num_frames)], dim=1)
''',
        "window newest first": '''
import torch
def autoregressive_rollout(sample_next, context, num_frames, history):
    video = list(context.unbind(1))
    for _ in range(num_frames):
        video.append(sample_next(torch.stack(video[-history:][::-1], dim=1)))
    return torch.stack(video[context.shape[1]:], dim=1)
''',
        "the whole video so far as history": '''
import torch
def autoregressive_rollout(sample_next, context, num_frames, history):
    video = context
    for _ in range(num_frames):
        video = torch.cat([video, sample_next(video)[:, None]], dim=1)
    return video[:, context.shape[1]:]
''',
        "the newest frame left out of the window (off by one)": '''
import torch
def autoregressive_rollout(sample_next, context, num_frames, history):
    video = list(context.unbind(1))
    for _ in range(num_frames):
        video.append(sample_next(torch.stack(video[-history - 1:-1], dim=1)))
    return torch.stack(video[context.shape[1]:], dim=1)
''',
        "context returned with the new frames": '''
import torch
def autoregressive_rollout(sample_next, context, num_frames, history):
    video = list(context.unbind(1))
    for _ in range(num_frames):
        video.append(sample_next(torch.stack(video[-history:], dim=1)))
    return torch.stack(video, dim=1)
''',
        "the first history frames of the context": '''
import torch
def autoregressive_rollout(sample_next, context, num_frames, history):
    video = list(context[:, :history].unbind(1))
    for _ in range(num_frames):
        video.append(sample_next(torch.stack(video[-history:], dim=1)))
    return torch.stack(video[history:], dim=1)
''',
    },
    "04_teacher_forcing.swing_direction": {
        "angle change not wrapped (a swing through the top goes the wrong way)": '''
import torch
from dfkit.data.pendulum import estimate_angle
def swing_direction(before, after):
    change = torch.as_tensor(estimate_angle(after) - estimate_angle(before))
    return torch.sign(change).long()
''',
        "direction reversed (before minus after)": '''
import numpy as np
import torch
from dfkit.data.pendulum import estimate_angle, wrap_angle
def swing_direction(before, after):
    return torch.from_numpy(np.sign(wrap_angle(estimate_angle(before) - estimate_angle(after)))).long()
''',
        "a boolean 'moved forward' instead of -1, 0, +1": '''
import torch
from dfkit.data.pendulum import estimate_angle, wrap_angle
def swing_direction(before, after):
    return torch.as_tensor(wrap_angle(estimate_angle(after) - estimate_angle(before)) > 0)
''',
        "wrapped with a remainder into [0, 2 pi) only": '''
import numpy as np
import torch
from dfkit.data.pendulum import estimate_angle
def swing_direction(before, after):
    change = np.remainder(estimate_angle(after) - estimate_angle(before), 2 * np.pi)
    return torch.from_numpy(np.sign(change)).long()
''',
        "never zero (no motion counts as +1)": '''
import numpy as np
import torch
from dfkit.data.pendulum import estimate_angle, wrap_angle
def swing_direction(before, after):
    change = wrap_angle(estimate_angle(after) - estimate_angle(before))
    return torch.from_numpy(np.where(change >= 0, 1, -1)).long()
''',
    },
}
