"""Comparisons for graded tests, written for values that came back from a student's function.

Every helper checks the exact type first (``type(x) is ...``, never ``isinstance``), then shape and
dtype, then values with numpy on plain arrays, and fails with an ``AssertionError`` whose message
a student can act on: the call that was made, what was expected and what came back, on a small
example. Long arrays are summarized (shape, dtype, a few values, the largest error and where).
Values decoded by :mod:`autograder.protocol` can only be builtins and plain numpy arrays, so
nothing here ever runs code the student wrote.

Known mistakes. ``mistakes={"concept": value}`` (or a function returning it, evaluated only when a
check fails) lists what a catalogued wrong answer returns on the same call: an array or CPU tensor
computed by the test from the reference, never from the student's code. A wrong result that
matches one of them, shape and values, gets the concept named in one sentence ("this is what you
get when ...").

The second half of the module holds what the assignments' tests share (``Shown``/``shown`` for
messages, ``expect_close`` for float32 results (or the dtype an exercise fixes) against a float64
reference, ``expect_level_matrix``, input builders), so that a test file holds only tests.
"""

from __future__ import annotations

import numpy as np

from autograder.protocol import TensorArray

_PRINT = dict(precision=4, threshold=12, edgeitems=2, suppress_small=True)


def describe_call(function: str, **arguments) -> str:
    """``bounce_step(position=[[1. 2.]], velocity=..., limit=5.0)``, short enough for a message."""
    parts = []
    for name, value in arguments.items():
        if isinstance(value, np.ndarray):
            text = np.array2string(np.asarray(value), separator=", ", **_PRINT)
        else:
            text = repr(value)
        parts.append(f"{name}={' '.join(text.split())}")
    return f"{function}({', '.join(parts)})"


SUMMARIZE_ABOVE = 12        # arrays with more values are summarized, not printed


def _show(value) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if type(value) is float:
        return f"{value:.6g}"
    if isinstance(value, np.ndarray):
        value = np.asarray(value)
        if value.size > SUMMARIZE_ABOVE:
            return summarize(value)
        return " ".join(np.array2string(value, separator=", ", **_PRINT).split())
    return repr(value)[:200]


def summarize(array: np.ndarray) -> str:
    """``array of shape (4, 1, 28, 28), float32: [0.1234, -0.5, ..., 0.25, 1.0]`` (the first and last values)."""
    flat = np.asarray(array).reshape(-1)
    head = ", ".join(np.format_float_positional(float(v), precision=4, trim="-") if flat.dtype.kind == "f" else repr(v.item())
                     for v in flat[:3])
    tail = ", ".join(np.format_float_positional(float(v), precision=4, trim="-") if flat.dtype.kind == "f" else repr(v.item())
                     for v in flat[-2:])
    return f"array of shape {array.shape}, {array.dtype}: [{head}, ..., {tail}]"


def known_mistake(got: np.ndarray, mistakes, rtol: float = 0.0, atol=0.0) -> str:
    """`` This is what you get when <concept>.`` when ``got`` matches a known mistake (its shape and
    its values within ``rtol``/``atol``, exactly by default), else ``""``.

    ``mistakes`` is a dict, or a function that returns one, called only here (after a failure); if it
    raises, no concept is named: computing the catalogue's answers must never break a check.
    """
    if callable(mistakes):
        try:
            mistakes = mistakes()
        except Exception:
            return ""
    for concept, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong)
        if wrong.shape == got.shape and got.dtype.kind in "biuf" and wrong.dtype.kind in "biuf":
            with np.errstate(all="ignore"):
                if np.allclose(got.astype(np.float64), wrong.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True):
                    return f" This is what you get when {concept}."
    return ""


def _type_name(value) -> str:
    if type(value) is TensorArray:
        return "torch.Tensor"
    if type(value) is np.ndarray:
        return f"numpy array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__


def expect_tuple(got, length: int, *, call: str, names=None) -> list:
    """A tuple (or list) of ``length`` items; returns the items."""
    if type(got) not in (tuple, list) or len(got) != length:
        detail = f"a {type(got).__name__} of {len(got)} items" if type(got) in (tuple, list) else _type_name(got)
        wanted = f" ({', '.join(names)})" if names else ""
        raise AssertionError(f"{call}: expected a tuple of {length} values{wanted}, got {detail}")
    return list(got)


def expect_array(got, expected, *, call: str, name: str = "the result", rtol: float = 1e-6, atol: float = 1e-9, tensor: bool = False,
                 mistakes: dict | None = None, finite: bool = True) -> None:
    """``got`` must be a numpy array (a tensor if ``tensor``) with ``expected``'s shape and close values.

    Boolean ``expected`` needs a boolean array and exact equality; numeric ``expected`` accepts any
    real numeric dtype and compares with ``rtol``/``atol``. With ``finite`` (the default) a NaN or
    infinite value in ``got`` always fails, even where ``expected`` (perhaps built from the student's
    own outputs) holds one too; otherwise NaN equals NaN. ``mistakes``: concept -> the value a known
    wrong answer gives (see the module docstring).
    """
    expected = np.asarray(expected)
    if expected.shape == () and not tensor and type(got) is not np.ndarray:
        return expect_number(got, expected, call=call, name=name, rtol=rtol, atol=atol)
    kind = TensorArray if tensor else np.ndarray
    if type(got) is not kind:
        wanted = "a torch tensor" if tensor else "a numpy array"
        raise AssertionError(f"{call}: expected {name} to be {wanted} of shape {expected.shape}, got {_type_name(got)}")
    got = got.view(np.ndarray)
    if got.shape != expected.shape:
        raise AssertionError(f"{call}: expected {name} of shape {expected.shape}, got shape {got.shape}."
                             f"{known_mistake(got, mistakes, rtol, atol)}")
    if expected.dtype == bool:
        if got.dtype != bool:
            raise AssertionError(f"{call}: expected {name} to be a boolean array, got dtype {got.dtype}")
        wrong = got != expected
    else:
        if got.dtype.kind not in "biuf":
            raise AssertionError(f"{call}: expected {name} to hold real numbers, got dtype {got.dtype}")
        if finite and got.dtype.kind == "f" and not np.isfinite(got).all():
            bad = ~np.isfinite(got)
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise AssertionError(f"{call}: {name} holds {int(bad.sum())} NaN or infinite value(s), the first at index {index} "
                                 f"({_show(got[index])}); every value must be a finite number")
        with np.errstate(all="ignore"):
            values = got.astype(np.float64)
            wrong = ~np.isclose(values, expected.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)
    if wrong.any():
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        where = f" at index {index}" if index else ""
        largest = ""
        if expected.dtype != bool and wrong.size > 1:
            with np.errstate(all="ignore"):
                error = np.abs(got.astype(np.float64) - expected.astype(np.float64))
            if np.isfinite(error).any():
                at = tuple(int(i) for i in np.unravel_index(np.nanargmax(np.where(np.isfinite(error), error, -1.0)), error.shape))
                largest = f"; largest error {error[at]:.4g} at index {at}"
        raise AssertionError(
            f"{call}: {name} is wrong{where}: expected {_show(expected[index])}, got {_show(got[index])} "
            f"({int(wrong.sum())} of {wrong.size} values differ{largest}).{known_mistake(got, mistakes, rtol, atol)}"
            f"\n  expected {name}: {_show(expected)}\n  got:      {_show(got)}"
        )


def expect_number(got, expected: float, *, call: str, name: str = "the result", rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """A single real number: a Python int/float, a numpy scalar or a 0-d array."""
    if type(got) in (int, float):
        value = float(got)
    elif type(got) is np.ndarray and got.shape == () and got.dtype.kind in "iuf":
        value = float(got)
    elif isinstance(got, np.generic) and type(got).__module__ == "numpy" and got.dtype.kind in "iuf":
        value = float(got)
    else:
        raise AssertionError(f"{call}: expected {name} to be a number, got {_type_name(got)}")
    if not np.isfinite(value):
        raise AssertionError(f"{call}: expected {name} {float(expected)!r}, got {value!r}; it must be a finite number")
    if not np.isclose(value, float(expected), rtol=rtol, atol=atol, equal_nan=True):
        raise AssertionError(f"{call}: expected {name} {float(expected)!r}, got {value!r}")


# ----------------------------------------------------------------------------- helpers the assignments' tests share

class Shown:
    """How an argument appears in a failure message: a short description instead of all its numbers."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def shown(value):
    """An argument as a message shows it: a small array or tensor by its values, a large one by dtype
    and shape, a noise schedule as the ``make_schedule`` call that builds it, anything else as itself."""
    if hasattr(value, "num_levels") and hasattr(value, "kind"):
        return Shown(f"make_schedule({value.kind!r}, {value.num_levels})")
    if type(value).__module__.startswith("torch") and hasattr(value, "dtype") and hasattr(value, "shape"):
        if value.dim() <= 2 and value.numel() <= SUMMARIZE_ABOVE * 2:
            return value.detach().cpu().numpy()
        return Shown(f"{str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}")
    if isinstance(value, np.ndarray) and value.size > SUMMARIZE_ABOVE * 2:
        return Shown(f"{value.dtype} array of shape {value.shape}")
    return value


def expect_tensor(got, shape, *, call: str, name: str) -> None:
    """A torch tensor (it travels back as a TensorArray) of the given shape."""
    if type(got) is not TensorArray:
        kind = type(got).__name__ if type(got) is not np.ndarray else "numpy array"
        raise AssertionError(f"{call}: expected {name} to be a torch tensor of shape {tuple(shape)}, got a {kind}")
    if got.shape != tuple(shape):
        raise AssertionError(f"{call}: expected {name} of shape {tuple(shape)}, got shape {got.shape}")


def expect_close(got, expected, *, call: str, name: str = "the result", rtol: float = 2e-3, where=None, levels=None,
                 mistakes: dict | None = None, dtype="float32") -> None:
    """A tensor of ``dtype`` close to the float64 reference ``expected`` (a tensor or an array): float32
    by default, else the dtype the exercise fixes (``dtype=x0.dtype`` where the result keeps x0's).

    Within ``rtol`` and within 1e-4 of each sample's largest |value| (plus 1e-7): float32 arithmetic
    stays well inside, every catalogued mistake far outside. The message says where the first wrong
    value is: with ``where(b)``, a description of sample b (its levels, say); with ``levels``
    ``(B, T)``, the clip, frame and level.
    """
    expected = np.asarray(expected.double().cpu().numpy() if hasattr(expected, "double") else expected, dtype=np.float64)
    scale = np.abs(expected).reshape(len(expected), -1).max(axis=1).reshape((-1,) + (1,) * (expected.ndim - 1))
    atol = 1e-4 * scale + 1e-7
    if (where is not None or levels is not None) and type(got) is TensorArray and got.shape == expected.shape:
        with np.errstate(all="ignore"):
            wrong = ~np.isclose(got.view(np.ndarray).astype(np.float64), expected, rtol=rtol, atol=atol, equal_nan=True)
        if wrong.any():
            first = np.argwhere(wrong)[0]
            if where is not None:
                call = f"{call}, where sample {int(first[0])} is at {where(int(first[0]))}"
            else:
                clip, frame = int(first[0]), int(first[1])
                call = f"{call}: the first wrong value is in clip {clip}, frame {frame} (level {int(levels[clip, frame])})"
    expect_array(got, expected, call=call, name=name, rtol=rtol, atol=atol, tensor=True, mistakes=mistakes)
    dtype = np.dtype(str(dtype).replace("torch.", ""))
    if got.dtype != dtype:
        raise AssertionError(f"{call}: expected {name} in {dtype} like the inputs, got dtype {got.dtype}")


def expect_level_matrix(got, expected, *, call: str, mistakes: dict | None = None) -> None:
    """An integer tensor equal to ``expected`` (a scheduling matrix); the message names the first wrong
    row and frame, and the concept when the matrix is one of ``mistakes`` (concept -> matrix)."""
    expected = np.asarray(expected.numpy() if hasattr(expected, "numpy") else expected)
    if type(got) is TensorArray and got.shape != expected.shape:
        raise AssertionError(f"{call}: expected the matrix of shape {expected.shape}, got shape {got.shape}."
                             f"{known_mistake(got.view(np.ndarray), mistakes)}")
    expect_tensor(got, expected.shape, call=call, name="the matrix")
    if got.dtype.kind not in "iu":
        raise AssertionError(f"{call}: expected an integer matrix of levels (e.g. dtype torch.long), got dtype {got.dtype}")
    got = got.view(np.ndarray)
    wrong = got != expected
    if wrong.any():
        row, frame = (int(i) for i in np.argwhere(wrong)[0])
        raise AssertionError(
            f"{call}: at row {row}, frame {frame} expected level {expected[row, frame]}, got {got[row, frame]} "
            f"({int(wrong.sum())} of {wrong.size} entries differ).{known_mistake(got, mistakes)}"
            f"\n  expected:\n{expected}\n  got:\n{got}")


def levels_with_both_ends(rng, count: int, num_levels: int):
    """``count`` random levels in 1..K as an int64 tensor, the two ends (1 and K) first when there is room."""
    import torch

    k = rng.integers(1, num_levels + 1, size=count)
    k[: min(count, 2)] = [1, num_levels][: min(count, 2)]
    return torch.from_numpy(k)
