"""Visible checks of walk_matrix: one denoiser call per row on every frame at its level, then a DDIM step per frame."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.diffusion_forcing import ToyVideoDenoiser
from dfkit.lessons.diffusion_forcing import walk_matrix as reference
from dfkit.sequence.scheduling import scheduling_matrix

pytestmark = pytest.mark.question("06_diffusion_forcing.walk_matrix")
COURSE = make_schedule("cosine", 1000)

# float32 arithmetic over a few DDIM steps stays well inside this; every catalogued mistake is far outside.
RTOL = 2e-3

class Shown:
    """How an argument appears in a failure message: a short description instead of all its numbers."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def shown(value):
    if isinstance(value, torch.Tensor):
        if value.dtype in (torch.int32, torch.int64) and value.dim() == 2:
            return Shown("tensor(" + " ".join(str(value.tolist()).split()) + ")")
        return Shown(f"{str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}")
    return Shown(f"make_schedule({value.kind!r}, {value.num_levels})")


def expect_close(got, expected, *, call, name="the tensor of final frames"):
    """Close to the float64 reference, relative to each sample's largest value, in the dtype of the input."""
    expected = expected.double().numpy()
    scale = np.abs(expected).reshape(len(expected), -1).max(axis=1).reshape((-1,) + (1,) * (expected.ndim - 1))
    expect_array(got, expected, call=call, name=name, rtol=RTOL, atol=1e-4 * scale + 1e-6, tensor=True)
    if got.dtype != np.float32:
        raise AssertionError(f"{call}: expected {name} in float32 like the noise, got dtype {got.dtype}")


def noise_like(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def denoiser(rng):
    return ToyVideoDenoiser(rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.5), rng.uniform(0.2, 0.6), rng.uniform(0.2, 0.6))


def check_against_reference(submission, toy, matrix, noise, schedule, parameterization):
    call = describe_call("walk_matrix", denoiser=toy, matrix=shown(matrix), noise=shown(noise), schedule=shown(schedule),
                         parameterization=parameterization)
    got = submission.walk_matrix(toy.as_argument(), matrix, noise, schedule_argument(schedule), parameterization=parameterization)
    expected = reference(toy, matrix, noise.double(), schedule, parameterization)
    expect_close(got, expected, call=call)


@pytest.mark.visible
@pytest.mark.points(2)
def test_full_sequence_and_autoregressive_matrices(submission, rng):
    for kind in ("full_sequence", "autoregressive"):
        matrix = scheduling_matrix(kind, 3, 4, 1000)
        check_against_reference(submission, denoiser(rng), matrix, noise_like(rng, 2, 3, 1, 3, 3), COURSE, "x0")


@pytest.mark.visible
@pytest.mark.points(1)
def test_pyramid_with_v_prediction(submission, rng):
    matrix = scheduling_matrix("pyramid", 4, 5, 1000)
    check_against_reference(submission, denoiser(rng), matrix, noise_like(rng, 2, 4, 1, 2, 3), COURSE, "v")
