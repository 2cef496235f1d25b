"""Visible checks of pyramid_matrix: chunk i starts walking the ladder i · delay rows after the first one."""

import numpy as np
import pytest

from autograder.expect import describe_call
from autograder.protocol import TensorArray
from dfkit.sequence.scheduling import pyramid_matrix as reference

pytestmark = pytest.mark.question("06_diffusion_forcing.pyramid_matrix")


def expect_tensor(got, shape, *, call, name):
    """A torch tensor (it travels back as a TensorArray) of the given shape."""
    if type(got) is not TensorArray:
        kind = type(got).__name__ if type(got) is not np.ndarray else "numpy array"
        raise AssertionError(f"{call}: expected {name} to be a torch tensor of shape {tuple(shape)}, got a {kind}")
    if got.shape != tuple(shape):
        raise AssertionError(f"{call}: expected {name} of shape {tuple(shape)}, got shape {got.shape}")


def expect_matrix(got, expected, *, call):
    """An integer tensor equal to ``expected``; the message names the first wrong row and frame."""
    expected = expected.numpy()
    expect_tensor(got, expected.shape, call=call, name="the matrix")
    if got.dtype.kind not in "iu":
        raise AssertionError(f"{call}: expected an integer matrix of levels (e.g. dtype torch.long), got dtype {got.dtype}")
    got = got.view(np.ndarray)
    wrong = got != expected
    if wrong.any():
        row, frame = (int(i) for i in np.argwhere(wrong)[0])
        raise AssertionError(
            f"{call}: at row {row}, frame {frame} expected level {expected[row, frame]}, got {got[row, frame]} "
            f"({int(wrong.sum())} of {wrong.size} entries differ)\n  expected:\n{expected}\n  got:\n{got}")


def check_against_reference(submission, num_frames, steps, num_levels, chunk_size, delay):
    call = describe_call("pyramid_matrix", num_frames=num_frames, steps=steps, num_levels=num_levels, chunk_size=chunk_size,
                         delay=delay)
    got = submission.pyramid_matrix(num_frames, steps, num_levels=num_levels, chunk_size=chunk_size, delay=delay)
    expect_matrix(got, reference(num_frames, steps, num_levels, chunk_size, delay), call=call)


@pytest.mark.visible
@pytest.mark.points(1)
def test_one_row_between_frames(submission):
    check_against_reference(submission, 4, 3, 12, 1, 1)
    check_against_reference(submission, 5, 5, 1000, 1, 1)


@pytest.mark.visible
@pytest.mark.points(1)
def test_chunks_and_longer_delays(submission):
    check_against_reference(submission, 6, 4, 1000, 2, 1)
    check_against_reference(submission, 4, 5, 1000, 1, 2)
