"""Hidden checks of pyramid_matrix: delay 0 (full sequence), delay = steps (autoregressive), delay > steps (idle
rows), ragged chunks, one frame."""
# dfkit-canary: hidden-tests-06_diffusion_forcing-pyramid_matrix

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


@pytest.mark.points(1)
def test_the_two_ends_of_the_family(submission):
    check_against_reference(submission, 4, 3, 1000, 1, 0)           # delay 0: the full-sequence matrix
    check_against_reference(submission, 4, 3, 1000, 1, 3)           # delay = steps: the autoregressive matrix
    check_against_reference(submission, 3, 2, 1000, 1, 4)           # delay > steps: rows where nothing moves


@pytest.mark.points(1)
def test_ragged_chunks_single_frames_and_odd_ladders(submission, rng):
    check_against_reference(submission, 5, 4, 1000, 2, 2)
    check_against_reference(submission, 1, 6, 1000, 1, 1)
    check_against_reference(submission, 3, 7, 1000, 4, 1)
    for _ in range(3):
        num_levels = int(rng.integers(5, 1001))
        steps = int(rng.integers(1, min(num_levels, 10) + 1))
        check_against_reference(submission, int(rng.integers(1, 9)), steps, num_levels, int(rng.integers(1, 4)),
                                int(rng.integers(0, 5)))
