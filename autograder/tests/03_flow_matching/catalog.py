"""Plausible wrong answers to the 03_flow_matching exercises; each must fail at least one test.

``WRONG[question][label]`` is the source of a graded cell, as a student might write it.
"""

WRONG = {
    "03_flow_matching.interpolate": {
        "noise and data swapped (t = 0 is data)": '''
import torch
def interpolate(noise, data, t):
    t = torch.as_tensor(t, dtype=data.dtype)
    t = t.reshape(tuple(t.shape) + (1,) * (data.dim() - t.dim()))
    return t * noise + (1 - t) * data
''',
        "t multiplies the last axis instead of each sample": '''
import torch
def interpolate(noise, data, t):
    return (1 - t) * noise + t * data
''',
        "t broadcast as t[:, None] only": '''
import torch
def interpolate(noise, data, t):
    t = torch.as_tensor(t, dtype=data.dtype)
    if t.dim() == 1:
        t = t[:, None]
    return (1 - t) * noise + t * data
''',
        "variance-preserving mix (square roots, as in DDPM)": '''
import torch
def interpolate(noise, data, t):
    t = torch.as_tensor(t, dtype=data.dtype)
    t = t.reshape(tuple(t.shape) + (1,) * (data.dim() - t.dim()))
    return torch.sqrt(1 - t) * noise + torch.sqrt(t) * data
''',
        "times turned into float32": '''
import torch
def interpolate(noise, data, t):
    t = torch.as_tensor(t, dtype=torch.float32)
    t = t.reshape(tuple(t.shape) + (1,) * (data.dim() - t.dim()))
    return (1 - t) * noise.float() + t * data.float()
''',
        "only tensor times (a Python float fails)": '''
import torch
def interpolate(noise, data, t):
    t = t.reshape(tuple(t.shape) + (1,) * (data.dim() - t.dim())).to(data.dtype)
    return (1 - t) * noise + t * data
''',
    },
    "03_flow_matching.target_velocity": {
        "sign flipped (noise - data)": '''
def target_velocity(noise, data):
    return noise - data
''',
        "the data itself (an x-prediction habit)": '''
def target_velocity(noise, data):
    return data
''',
        "the noise (an eps-prediction habit)": '''
def target_velocity(noise, data):
    return noise
''',
        "result turned into float32": '''
def target_velocity(noise, data):
    return (data - noise).float()
''',
    },
    "03_flow_matching.marginal_velocity": {
        "plain exponentials instead of a softmax (overflows near t = 1)": '''
import torch
def marginal_velocity(x_t, t, points):
    x, p = x_t.flatten(1), points.flatten(1).to(x_t.dtype)
    t = torch.as_tensor(t, dtype=x.dtype).expand(len(x))[:, None]
    distances = ((x[:, None, :] - t[:, :, None] * p[None]) ** 2).sum(-1)
    weights = torch.exp(-distances / (2 * (1 - t) ** 2))
    weights = weights / weights.sum(1, keepdim=True)
    u = (weights @ p - x) / (1 - t)
    return torch.where(t < 1, u, x).reshape(x_t.shape)
''',
        "variance (1 - t) instead of (1 - t) squared": '''
import torch
def marginal_velocity(x_t, t, points):
    x, p = x_t.flatten(1), points.flatten(1).to(x_t.dtype)
    t = torch.as_tensor(t, dtype=x.dtype).expand(len(x))[:, None]
    distances = ((x[:, None, :] - t[:, :, None] * p[None]) ** 2).sum(-1)
    weights = torch.softmax(-distances / (2 * (1 - t)), dim=1)
    u = (weights @ p - x) / (1 - t)
    return torch.where(t < 1, u, x).reshape(x_t.shape)
''',
        "Gaussians centred on the points, not on t times the points": '''
import torch
def marginal_velocity(x_t, t, points):
    x, p = x_t.flatten(1), points.flatten(1).to(x_t.dtype)
    t = torch.as_tensor(t, dtype=x.dtype).expand(len(x))[:, None]
    distances = ((x[:, None, :] - p[None]) ** 2).sum(-1)
    weights = torch.softmax(-distances / (2 * (1 - t) ** 2), dim=1)
    u = (weights @ p - x) / (1 - t)
    return torch.where(t < 1, u, x).reshape(x_t.shape)
''',
        "uniform weights (the plain average of the conditional velocities)": '''
import torch
def marginal_velocity(x_t, t, points):
    x, p = x_t.flatten(1), points.flatten(1).to(x_t.dtype)
    t = torch.as_tensor(t, dtype=x.dtype).expand(len(x))[:, None]
    u = (p.mean(0)[None] - x) / (1 - t)
    return torch.where(t < 1, u, x).reshape(x_t.shape)
''',
        "sign flipped (pushes away from the data)": '''
import torch
def marginal_velocity(x_t, t, points):
    x, p = x_t.flatten(1), points.flatten(1).to(x_t.dtype)
    t = torch.as_tensor(t, dtype=x.dtype).expand(len(x))[:, None]
    distances = ((x[:, None, :] - t[:, :, None] * p[None]) ** 2).sum(-1)
    weights = torch.softmax(-distances / (2 * (1 - t) ** 2), dim=1)
    u = (x - weights @ p) / (1 - t)
    return torch.where(t < 1, u, -x).reshape(x_t.shape)
''',
        "divides by zero at t = 1": '''
import torch
def marginal_velocity(x_t, t, points):
    x, p = x_t.flatten(1), points.flatten(1).to(x_t.dtype)
    t = torch.as_tensor(t, dtype=x.dtype).expand(len(x))[:, None]
    distances = ((x[:, None, :] - t[:, :, None] * p[None]) ** 2).sum(-1)
    weights = torch.softmax(-distances / (2 * (1 - t) ** 2), dim=1)
    return ((weights @ p - x) / (1 - t)).reshape(x_t.shape)
''',
        "one time for the whole batch (t[0])": '''
import torch
def marginal_velocity(x_t, t, points):
    x, p = x_t.flatten(1), points.flatten(1).to(x_t.dtype)
    t = float(torch.as_tensor(t).reshape(-1)[0])
    if t == 1.0:
        return x_t.clone()
    distances = ((x[:, None, :] - t * p[None]) ** 2).sum(-1)
    weights = torch.softmax(-distances / (2 * (1 - t) ** 2), dim=1)
    return ((weights @ p - x) / (1 - t)).reshape(x_t.shape)
''',
    },
}
