"""Plausible wrong answers to the 00_warmup exercises; each must fail at least one test.

``WRONG[question][label]`` is the source of a graded cell, as a student might write it.
"""

WRONG = {
    "00_warmup.bounce_step": {
        "a wall touch counts as a bounce (<= instead of <)": '''
import numpy as np
def bounce_step(position, velocity, limit):
    moved = position + velocity
    low, high = moved <= 0, moved >= limit
    return np.clip(moved, 0, limit), np.where(low | high, -velocity, velocity), low, high
''',
        "moves the caller's position array in place": '''
import numpy as np
def bounce_step(position, velocity, limit):
    position += velocity
    low, high = position < 0, position > limit
    np.clip(position, 0, limit, out=position)
    return position, np.where(low | high, -velocity, velocity), low, high
''',
        "no clamping at the wall": '''
import numpy as np
def bounce_step(position, velocity, limit):
    moved = position + velocity
    hit_low, hit_high = moved < 0, moved > limit
    return moved, np.where(hit_low | hit_high, -velocity, velocity), hit_low, hit_high
''',
        "flips both components": '''
import numpy as np
def bounce_step(position, velocity, limit):
    moved = position + velocity
    hit_low, hit_high = moved < 0, moved > limit
    hit_any = (hit_low | hit_high).any(axis=-1, keepdims=True)
    return np.clip(moved, 0, limit), np.where(hit_any, -velocity, velocity), hit_low, hit_high
''',
        "only the low wall": '''
import numpy as np
def bounce_step(position, velocity, limit):
    moved = position + velocity
    hit_low, hit_high = moved < 0, moved > limit
    return np.clip(moved, 0, limit), np.where(hit_low, -velocity, velocity), hit_low, hit_high
''',
        "walls tested before moving": '''
import numpy as np
def bounce_step(position, velocity, limit):
    hit_low, hit_high = position < 0, position > limit
    return np.clip(position + velocity, 0, limit), np.where(hit_low | hit_high, -velocity, velocity), hit_low, hit_high
''',
    },
    "00_warmup.energy": {
        "no factor one half": '''
import numpy as np
def energy(states, gravity=9.81, length=1.0):
    s = np.asarray(states, dtype=float)
    return length**2 * s[..., 1]**2 + gravity * length * (1 - np.cos(s[..., 0]))
''',
        "potential measured from the pivot": '''
import numpy as np
def energy(states, gravity=9.81, length=1.0):
    s = np.asarray(states, dtype=float)
    return 0.5 * length**2 * s[..., 1]**2 - gravity * length * np.cos(s[..., 0])
''',
        "length not squared": '''
import numpy as np
def energy(states, gravity=9.81, length=1.0):
    s = np.asarray(states, dtype=float)
    return 0.5 * length * s[..., 1]**2 + gravity * length * (1 - np.cos(s[..., 0]))
''',
    },
    "00_warmup.rk4_step": {
        "explicit Euler": '''
import numpy as np
def rk4_step(state, torque, h, gravity=9.81, length=1.0, damping=0.0):
    s = np.asarray(state, dtype=float)
    accel = -(gravity / length) * np.sin(s[..., 0]) - damping * s[..., 1] + torque
    return s + h * np.stack([s[..., 1], accel], axis=-1)
''',
        "weights 1-1-1-1": '''
import numpy as np
def rk4_step(state, torque, h, gravity=9.81, length=1.0, damping=0.0):
    s = np.asarray(state, dtype=float)
    f = lambda x: np.stack([x[..., 1], -(gravity / length) * np.sin(x[..., 0]) - damping * x[..., 1] + torque], axis=-1)
    k1 = f(s); k2 = f(s + 0.5 * h * k1); k3 = f(s + 0.5 * h * k2); k4 = f(s + h * k3)
    return s + (h / 4) * (k1 + k2 + k3 + k4)
''',
        "damping ignored": '''
import numpy as np
def rk4_step(state, torque, h, gravity=9.81, length=1.0, damping=0.0):
    s = np.asarray(state, dtype=float)
    f = lambda x: np.stack([x[..., 1], -(gravity / length) * np.sin(x[..., 0]) + torque], axis=-1)
    k1 = f(s); k2 = f(s + 0.5 * h * k1); k3 = f(s + 0.5 * h * k2); k4 = f(s + h * k3)
    return s + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
''',
    },
    "00_warmup.estimate_angle": {
        "rows and columns swapped": '''
import numpy as np
def estimate_angle(frames):
    f = np.asarray(frames, dtype=float)
    if f.ndim >= 3 and f.shape[-3] == 1:
        f = f[..., 0, :, :]
    c = np.arange(f.shape[-1]) + 0.5 - f.shape[-1] / 2
    m = np.maximum(f.sum(axis=(-2, -1)), 1e-12)
    return np.arctan2((f * c[:, None]).sum(axis=(-2, -1)) / m, (f * c[None, :]).sum(axis=(-2, -1)) / m)
''',
        "pixel corners instead of centres": '''
import numpy as np
def estimate_angle(frames):
    f = np.asarray(frames, dtype=float)
    if f.ndim >= 3 and f.shape[-3] == 1:
        f = f[..., 0, :, :]
    c = np.arange(f.shape[-1]) - f.shape[-1] / 2
    m = np.maximum(f.sum(axis=(-2, -1)), 1e-12)
    return np.arctan2((f * c[None, :]).sum(axis=(-2, -1)) / m, (f * c[:, None]).sum(axis=(-2, -1)) / m)
''',
        "ignores frames without a channel axis": '''
import numpy as np
def estimate_angle(frames):
    f = np.asarray(frames, dtype=float)[..., 0, :, :]
    c = np.arange(f.shape[-1]) + 0.5 - f.shape[-1] / 2
    m = np.maximum(f.sum(axis=(-2, -1)), 1e-12)
    return np.arctan2((f * c[None, :]).sum(axis=(-2, -1)) / m, (f * c[:, None]).sum(axis=(-2, -1)) / m)
''',
    },
}
