"""Visible checks of autoregressive_matrix: each chunk walks the DDIM ladder once the previous chunk is clean."""

import pytest
import torch

from autograder.expect import describe_call, expect_level_matrix
from dfkit.diffusion.ddpm import ddim_levels
from dfkit.sequence.scheduling import autoregressive_matrix as reference

pytestmark = pytest.mark.question("06_diffusion_forcing.autoregressive_matrix")


def from_start_rows(start, num_levels, steps):
    """Frame t walks the DDIM ladder from row start[t] on: S[m, t] = ladder[clamp(m - start[t], 0, steps)]."""
    ladder = torch.tensor(ddim_levels(num_levels, steps))
    rows = torch.arange(int(start.max()) + steps + 1)[:, None]
    return ladder[(rows - start[None]).clamp(0, steps)].numpy()


def known_mistakes(num_frames, steps, num_levels, chunk_size) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    chunk = torch.arange(num_frames) // chunk_size
    right = from_start_rows(chunk * steps, num_levels, steps)
    fixed_stride = torch.tensor(list(range(num_levels, -1, -(num_levels // steps)))[:steps] + [0])
    return {
        "you move every frame on its own: the frames of a chunk walk the ladder together": from_start_rows(
            torch.arange(num_frames) * steps, num_levels, steps),
        "you leave an idle row between chunks: the next chunk starts on the row where the previous one is clean":
            from_start_rows(chunk * (steps + 1), num_levels, steps),
        "you start the next chunk one row before the previous one is clean": from_start_rows(
            chunk * max(steps - 1, 1), num_levels, steps),
        "you step the ladder by K // steps from K: the DDIM ladder is ⌊(steps - i) K / steps⌋, i = 0 … steps":
            fixed_stride[(torch.arange(right.shape[0])[:, None] - chunk[None] * steps).clamp(0, steps)].numpy(),
        "you put the frames on the rows: a row is one denoising step, a column one frame": right.T,
        "you list the rows clean first: row 0 is pure noise and every column goes down": right[::-1].copy(),
    }


def check_against_reference(submission, num_frames, steps, num_levels, chunk_size):
    call = describe_call("autoregressive_matrix", num_frames=num_frames, steps=steps, num_levels=num_levels, chunk_size=chunk_size)
    got = submission.autoregressive_matrix(num_frames, steps, num_levels=num_levels, chunk_size=chunk_size)
    expect_level_matrix(got, reference(num_frames, steps, num_levels, chunk_size), call=call,
                  mistakes=lambda: known_mistakes(num_frames, steps, num_levels, chunk_size))


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
