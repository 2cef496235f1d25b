import pytest
import torch

from dfkit.sequence.scheduling import (
    KINDS, autoregressive_matrix, full_sequence_matrix, level_ladder, pyramid_matrix, scheduling_matrix,
    trapezoid_matrix, validate_matrix,
)
from helpers import graded_reference

CASES = [(kind, t, steps, k, chunk) for kind in KINDS for (t, steps, k) in [(1, 1, 1), (6, 4, 1000), (7, 10, 100), (5, 3, 7)] for chunk in (1, 2)]


@pytest.mark.parametrize("kind,frames,steps,levels,chunk", CASES)
def test_every_matrix_follows_the_convention(kind, frames, steps, levels, chunk):
    matrix = scheduling_matrix(kind, frames, steps, levels, chunk_size=chunk)
    assert matrix.dtype == torch.long and matrix.shape[1] == frames
    assert (matrix[0] == levels).all() and (matrix[-1] == 0).all()
    assert (matrix[1:] <= matrix[:-1]).all(), "a column went up"
    assert not (matrix[1:] == matrix[:-1]).all(1).any(), "a row that changes nothing wastes a model call"
    validate_matrix(matrix, levels)
    # every frame visits exactly the ladder's levels
    ladder = level_ladder(levels, steps).tolist()
    for column in matrix.T:
        assert sorted(set(column.tolist()), reverse=True) == ladder


def test_full_sequence_moves_all_frames_together():
    matrix = full_sequence_matrix(5, 4, 1000)
    assert matrix.shape == (5, 5)
    assert (matrix == matrix[:, :1]).all()


def test_autoregressive_finishes_a_frame_before_the_next_starts():
    matrix = autoregressive_matrix(4, 3, 1000)
    assert matrix.shape == (1 + 4 * 3, 4)
    for t in range(1, 4):
        starts = int((matrix[:, t] < 1000).nonzero()[0])       # first row where frame t has left pure noise
        assert (matrix[starts - 1, :t] == 0).all(), "earlier frames must be clean before frame t starts"
        assert (matrix[:starts, t:] == 1000).all(), "frame t and later stay pure noise until then"


def test_autoregressive_chunks_denoise_together():
    matrix = autoregressive_matrix(6, 2, 10, chunk_size=3)
    assert (matrix[:, 0:3] == matrix[:, :1]).all() and (matrix[:, 3:6] == matrix[:, 3:4]).all()
    assert matrix.shape[0] == 1 + 2 * 2


def test_pyramid_keeps_later_frames_noisier():
    matrix = pyramid_matrix(6, 5, 1000)
    assert (matrix[:, 1:] >= matrix[:, :-1]).all()
    middle = matrix[matrix.shape[0] // 2]
    assert middle[0] < middle[-1], "mid-sampling, the near future is cleaner than the far future"
    assert matrix.shape[0] == 1 + 5 + 5


def test_pyramid_limits_are_the_other_two_kinds():
    assert torch.equal(pyramid_matrix(5, 4, 100, delay=4), autoregressive_matrix(5, 4, 100))
    assert torch.equal(pyramid_matrix(5, 4, 100, delay=0), full_sequence_matrix(5, 4, 100))


def test_trapezoid_denoises_the_ends_first():
    matrix = trapezoid_matrix(7, 4, 1000)
    row = matrix[3]
    assert row[0] == row[-1] and row[0] < row[3]
    assert torch.equal(matrix, matrix.flip(1))


@pytest.mark.parametrize(
    "bad,message",
    [
        (torch.tensor([[1000, 1000], [500, 600], [0, 0]]), None),
        (torch.tensor([[1000, 1000], [200, 600], [300, 0], [0, 0]]), "frame 0 goes from level 200 up to 300 at row 2"),
        (torch.tensor([[999, 1000], [0, 0]]), "row 0"),
        (torch.tensor([[1000, 1000], [0, 1]]), "last row"),
        (torch.tensor([1000, 0]), "shape"),
        (torch.tensor([[1000.0], [0.0]]), "integer"),
    ],
)
def test_validate_matrix(bad, message):
    if message is None:
        validate_matrix(bad, 1000)
    else:
        with pytest.raises(ValueError, match=message):
            validate_matrix(bad, 1000)


def test_bad_parameters():
    with pytest.raises(ValueError, match="unknown scheduling matrix kind"):
        scheduling_matrix("zigzag", 4, 2)
    with pytest.raises(ValueError, match="steps"):
        scheduling_matrix("pyramid", 4, 0)
    with pytest.raises(ValueError, match="chunk_size"):
        scheduling_matrix("autoregressive", 4, 2, chunk_size=0)
    with pytest.raises(ValueError, match="num_frames"):
        scheduling_matrix("full_sequence", 0, 2)


def test_the_graded_matrices_are_the_ones_scheduling_matrix_builds():
    """Lesson 06's graded autoregressive_matrix and pyramid_matrix are this module's, which the sampler's callers use."""
    assert graded_reference("06_diffusion_forcing.autoregressive_matrix")[0] is autoregressive_matrix
    assert graded_reference("06_diffusion_forcing.pyramid_matrix")[0] is pyramid_matrix
    assert torch.equal(scheduling_matrix("pyramid", 5, 3, 100, chunk_size=2, delay=2), pyramid_matrix(5, 3, 100, 2, 2))
    assert torch.equal(scheduling_matrix("autoregressive", 5, 3, 100, chunk_size=2), autoregressive_matrix(5, 3, 100, 2))
