"""Visible checks of autoregressive_matrix: each chunk walks the DDIM ladder once the previous chunk is clean."""

import numpy as np
import pytest

from autograder.expect import describe_call
from autograder.protocol import TensorArray
from dfkit.sequence.scheduling import autoregressive_matrix as reference

pytestmark = pytest.mark.question("06_diffusion_forcing.autoregressive_matrix")


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


def check_against_reference(submission, num_frames, steps, num_levels, chunk_size):
    call = describe_call("autoregressive_matrix", num_frames=num_frames, steps=steps, num_levels=num_levels, chunk_size=chunk_size)
    got = submission.autoregressive_matrix(num_frames, steps, num_levels=num_levels, chunk_size=chunk_size)
    expect_matrix(got, reference(num_frames, steps, num_levels, chunk_size), call=call)


@pytest.mark.visible
@pytest.mark.points(1)
def test_one_frame_at_a_time(submission):
    check_against_reference(submission, 3, 3, 10, 1)
    check_against_reference(submission, 4, 5, 1000, 1)


@pytest.mark.visible
@pytest.mark.points(1)
def test_chunks_of_frames(submission):
    check_against_reference(submission, 6, 4, 1000, 2)
    check_against_reference(submission, 5, 3, 12, 2)            # the last chunk holds one frame
