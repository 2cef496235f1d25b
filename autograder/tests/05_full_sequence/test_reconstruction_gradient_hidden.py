"""Hidden checks of reconstruction_gradient: ∇_{x_k} of the known frames' reconstruction error, through the denoiser: one or all frames known, per-frame levels, two channels."""
# dfkit-canary: hidden-tests-05_full_sequence-reconstruction_gradient

import pytest
import torch

from autograder.assignments import visible_checks
from autograder.standins import ToyJointDenoiser

pytestmark = pytest.mark.question("05_full_sequence.reconstruction_gradient")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference
full_sequence_levels = VISIBLE.full_sequence_levels


@pytest.mark.points(1)
def test_one_known_frame_and_all_known(submission, rng):
    denoiser = ToyJointDenoiser(0.6, 2.0, 0.8)
    for W, a in ((4, 1), (3, 3)):
        levels = full_sequence_levels(rng, 2, W)
        check_against_reference(submission, denoiser, tensor(rng, 2, W, 1, 3, 3), levels, tensor(rng, 2, a, 1, 3, 3))


@pytest.mark.points(1)
def test_per_frame_levels_and_two_channels(submission, rng):
    levels = torch.from_numpy(rng.integers(0, 1001, size=(2, 5)))
    check_against_reference(submission, ToyJointDenoiser(1.0, 1.0, 1.0), tensor(rng, 2, 5, 2, 3, 3), levels, tensor(rng, 2, 2, 2, 3, 3))
    check_against_reference(submission, ToyJointDenoiser(0.7, 1.3, 0.2), tensor(rng, 2, 5, 2, 3, 3), levels, tensor(rng, 2, 2, 2, 3, 3),
                            no_grad=True)
