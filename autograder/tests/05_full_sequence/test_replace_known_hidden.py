"""Hidden checks of replace_known: per-frame levels, one or all frames known, levels 0 and K."""
# dfkit-canary: hidden-tests-05_full_sequence-replace_known

import pytest
import torch

from autograder.assignments import visible_checks
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("05_full_sequence.replace_known")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference
full_sequence_levels = VISIBLE.full_sequence_levels

COURSE = make_schedule("cosine", 1000)


@pytest.mark.points(1)
def test_each_known_frame_at_its_own_level(submission, rng):
    # per-frame levels (a Diffusion Forcing matrix would give them): frame t of the truth goes to levels[:, t]
    B, W, a = 3, 6, 3
    levels = torch.from_numpy(rng.integers(0, 1001, size=(B, W)))
    check_against_reference(submission, tensor(rng, B, W, 1, 3, 3), levels, tensor(rng, B, a, 1, 3, 3), tensor(rng, B, a, 1, 3, 3))


@pytest.mark.points(1)
def test_one_known_frame_all_known_and_the_ends_of_the_schedule(submission, rng):
    levels = torch.tensor([[0, 0, 0, 0], [1000, 1000, 1000, 1000]])
    check_against_reference(submission, tensor(rng, 2, 4, 1, 3, 3), levels, tensor(rng, 2, 1, 1, 3, 3), tensor(rng, 2, 1, 1, 3, 3))
    levels = full_sequence_levels(rng, 2, 3)
    check_against_reference(submission, tensor(rng, 2, 3, 2, 3, 3), levels, tensor(rng, 2, 3, 2, 3, 3), tensor(rng, 2, 3, 2, 3, 3))
