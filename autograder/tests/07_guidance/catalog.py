"""Plausible wrong answers to the 07_guidance exercises; each must fail at least one test.

``WRONG[question][label]`` is the source of a graded cell, as a student might write it.
"""

_COST_HEAD = '''
import torch
def cost_guided_x0(x0_hat, gradient, levels, num_context, scale, weighting, schedule):
    alpha_bar = schedule.alpha_bars[levels][..., None, None, None]            # (B, W, 1, 1, 1)
'''
_COST_TAIL = '''
    step = scale * weight * gradient
    step[:, :num_context] = 0
    return x0_hat - step
'''
_RIGHT_WEIGHT = '''
    if weighting == "classifier":
        weight = (1 - alpha_bar) / alpha_bar.sqrt()
    else:
        weight = alpha_bar.sqrt()
'''


def _cost(weight: str = _RIGHT_WEIGHT, tail: str = _COST_TAIL) -> str:
    return _COST_HEAD + weight + tail


_VIEW = '''
import torch
def view_levels(levels, num_context, keep, level, num_levels):
    c = num_context
    keep = c if keep is None else keep
    out = levels.clone()
    history = out[:, :c]
{body}
    return out
'''

_RAISE = '''
import torch
def raise_level(x, levels, target_levels, noise, schedule):
    a_s = schedule.alpha_bars[levels][..., None, None, None]
    a_k = schedule.alpha_bars[target_levels][..., None, None, None]
{body}
'''

WRONG = {
    "07_guidance.cost_guided_x0": {
        "moves up the cost (+ instead of -)": _cost(tail='''
    step = scale * weight * gradient
    step[:, :num_context] = 0
    return x0_hat + step
'''),
        "no level weighting: x0_hat - w grad": _cost(weight='''
    weight = torch.ones_like(alpha_bar)
'''),
        "classifier weight without the square root: (1 - a) / a": _cost(weight='''
    if weighting == "classifier":
        weight = (1 - alpha_bar) / alpha_bar
    else:
        weight = alpha_bar.sqrt()
'''),
        "epsilon-space weight sqrt(1 - a) for the classifier": _cost(weight='''
    if weighting == "classifier":
        weight = (1 - alpha_bar).sqrt()
    else:
        weight = alpha_bar.sqrt()
'''),
        "the two weightings swapped": _cost(weight='''
    if weighting == "reconstruction":
        weight = (1 - alpha_bar) / alpha_bar.sqrt()
    else:
        weight = alpha_bar.sqrt()
'''),
        "history frames moved as well": _cost(tail='''
    return x0_hat - scale * weight * gradient
'''),
        "one frame too many kept still (num_context + 1)": _cost(tail='''
    step = scale * weight * gradient
    step[:, :num_context + 1] = 0
    return x0_hat - step
'''),
        "the level of the first generated frame for every frame": '''
import torch
def cost_guided_x0(x0_hat, gradient, levels, num_context, scale, weighting, schedule):
    alpha_bar = schedule.alpha_bars[levels[:, num_context]][:, None, None, None, None]
    if weighting == "classifier":
        weight = (1 - alpha_bar) / alpha_bar.sqrt()
    else:
        weight = alpha_bar.sqrt()
    step = scale * weight * gradient
    step[:, :num_context] = 0
    return x0_hat - step
''',
    },
    "07_guidance.view_levels": {
        "keeps the first frames of the history, not the last": _VIEW.format(body='''
    history[:, keep:] = num_levels
    if level is not None:
        history[:, :keep] = level
'''),
        "keep = 0 sliced as [-0:], which keeps everything": _VIEW.format(body='''
    history[:, :] = num_levels
    history[:, -keep:] = levels[:, :c][:, -keep:] if level is None else level
'''),
        "level None read as level 0": _VIEW.format(body='''
    history[:, :c - keep] = num_levels
    history[:, c - keep:] = 0 if level is None else level
'''),
        "masked frames at K - 1": _VIEW.format(body='''
    history[:, :c - keep] = num_levels - 1
    if level is not None:
        history[:, c - keep:] = level
'''),
        "the view's level given to the generated frames too": _VIEW.format(body='''
    history[:, :c - keep] = num_levels
    if level is not None:
        history[:, c - keep:] = level
        out[:, c:] = level
'''),
    },
    "07_guidance.raise_level": {
        "q_sample from x as if it were clean": _RAISE.format(body='''
    raised = a_k.sqrt() * x + (1 - a_k).sqrt() * noise
    return torch.where((target_levels != levels)[..., None, None, None], raised, x)
'''),
        "ratio of alpha-bars without the square root": _RAISE.format(body='''
    raised = (a_k / a_s) * x + ((a_s - a_k) / a_s).sqrt() * noise
    return torch.where((target_levels != levels)[..., None, None, None], raised, x)
'''),
        "added variance not divided by alpha_bar_s": _RAISE.format(body='''
    raised = (a_k / a_s).sqrt() * x + (a_s - a_k).sqrt() * noise
    return torch.where((target_levels != levels)[..., None, None, None], raised, x)
'''),
        "added variance 1 - a_k / a_s written as (1 - a_k) - (1 - a_s) without the division": _RAISE.format(body='''
    raised = (a_k / a_s).sqrt() * x + ((1 - a_k) - (1 - a_s)).sqrt() * noise
    return torch.where((target_levels != levels)[..., None, None, None], raised, x)
'''),
        "every frame noised, also those whose level stays": _RAISE.format(body='''
    raised = (a_k / a_s).sqrt() * x + ((a_s - a_k) / a_s + 0.01).sqrt() * noise
    return raised
'''),
        "noise added to the frames and levels swapped (from k down to s)": _RAISE.format(body='''
    raised = (a_s / a_k).sqrt() * x + ((a_k - a_s).abs() / a_k).sqrt() * noise
    return torch.where((target_levels != levels)[..., None, None, None], raised, x)
'''),
    },
    "07_guidance.history_guidance_terms": {
        "vanilla weights swapped": '''
def history_guidance_terms(kind, scale, level=None, windows=None):
    if kind == "vanilla":
        return [(None, None, 1 - scale), (0, None, scale)]
    if kind == "fractional":
        return [(None, None, 1.0), (None, level, scale), (0, None, -scale)]
    return [(0, None, 1 - sum(scale))] + [(n, None, w) for n, w in zip(windows, scale)]
''',
        "fractional without the unconditional term (weights do not sum to 1)": '''
def history_guidance_terms(kind, scale, level=None, windows=None):
    if kind == "vanilla":
        return [(None, None, scale), (0, None, 1 - scale)]
    if kind == "fractional":
        return [(None, None, 1.0), (None, level, scale)]
    return [(0, None, 1 - sum(scale))] + [(n, None, w) for n, w in zip(windows, scale)]
''',
        "fractional: the fractional view subtracted from the conditional": '''
def history_guidance_terms(kind, scale, level=None, windows=None):
    if kind == "vanilla":
        return [(None, None, scale), (0, None, 1 - scale)]
    if kind == "fractional":
        return [(None, None, 1.0 + scale), (None, level, -scale)]
    return [(0, None, 1 - sum(scale))] + [(n, None, w) for n, w in zip(windows, scale)]
''',
        "temporal: unconditional weight 1 instead of 1 - sum": '''
def history_guidance_terms(kind, scale, level=None, windows=None):
    if kind == "vanilla":
        return [(None, None, scale), (0, None, 1 - scale)]
    if kind == "fractional":
        return [(None, None, 1.0), (None, level, scale), (0, None, -scale)]
    return [(0, None, 1.0)] + [(n, None, w) for n, w in zip(windows, scale)]
''',
        "temporal: unconditional weight -sum (weights sum to 0)": '''
def history_guidance_terms(kind, scale, level=None, windows=None):
    if kind == "vanilla":
        return [(None, None, scale), (0, None, 1 - scale)]
    if kind == "fractional":
        return [(None, None, 1.0), (None, level, scale), (0, None, -scale)]
    return [(0, None, -sum(scale))] + [(n, None, w) for n, w in zip(windows, scale)]
''',
        "vanilla with 1 + w on the conditional (the other CFG convention)": '''
def history_guidance_terms(kind, scale, level=None, windows=None):
    if kind == "vanilla":
        return [(None, None, 1 + scale), (0, None, -scale)]
    if kind == "fractional":
        return [(None, None, 1.0), (None, level, scale), (0, None, -scale)]
    return [(0, None, 1 - sum(scale))] + [(n, None, w) for n, w in zip(windows, scale)]
''',
    },
}
