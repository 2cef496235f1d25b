"""Visible checks of pyramid_matrix: chunk i starts walking the ladder i · delay rows after the first one."""

import pytest
import torch

from autograder.expect import describe_call, expect_level_matrix
from dfkit.diffusion.ddpm import ddim_levels
from dfkit.sequence.scheduling import pyramid_matrix as reference

pytestmark = pytest.mark.question("06_diffusion_forcing.pyramid_matrix")


def from_start_rows(start, num_levels, steps):
    """Frame t walks the DDIM ladder from row start[t] on: S[m, t] = ladder[clamp(m - start[t], 0, steps)]."""
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)].numpy()


def known_mistakes(num_frames, steps, num_levels, chunk_size, delay) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    chunk = torch.arange(num_frames) // chunk_size
    right = from_start_rows(chunk * delay, num_levels, steps)
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    two_rungs = ladder[(2 * (torch.arange(right.shape[0])[:, None] - chunk[None] * delay)).clamp(0, steps)].numpy()
    return {
        "you start the chunks one row apart: chunk i starts i · delay rows after the first": from_start_rows(chunk, num_levels, steps),
        "you delay every frame: the frames of a chunk start together, chunk i delay · i rows after the first":
            from_start_rows(torch.arange(num_frames) * delay, num_levels, steps),
        "you start with the last chunk: the pyramid starts with the first chunk, the one next to the history":
            from_start_rows((chunk.max() - chunk) * delay, num_levels, steps),
        "you stop before the last row: the matrix ends with a row where every frame is clean": right[:-1],
        "you move a frame two rungs per row: each row takes one DDIM step": two_rungs,
    }


def check_against_reference(submission, num_frames, steps, num_levels, chunk_size, delay):
    call = describe_call("pyramid_matrix", num_frames=num_frames, steps=steps, num_levels=num_levels, chunk_size=chunk_size,
                         delay=delay)
    got = submission.pyramid_matrix(num_frames, steps, num_levels=num_levels, chunk_size=chunk_size, delay=delay)
    expect_level_matrix(got, reference(num_frames, steps, num_levels, chunk_size, delay), call=call,
                  mistakes=lambda: known_mistakes(num_frames, steps, num_levels, chunk_size, delay))


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
    check_against_reference(submission, 3, 2, 1000, 1, 4)            # delay > steps: idle rows between the chunks
