"""Hidden checks of history_guidance_terms: scale 0 and level 0 of fractional, one window, three windows."""
# dfkit-canary: hidden-tests-07_guidance-history_guidance_terms

import pytest

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("07_guidance.history_guidance_terms")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


@pytest.mark.points(1)
def test_fractional_edges(submission, rng):
    check_against_reference(submission, "fractional", 0.0, level=300)      # the plain conditional
    check_against_reference(submission, "fractional", 2.0, level=0)        # ε(h) + 2 [ε(h) - ε(∅)]
    check_against_reference(submission, "vanilla", 0.25)


@pytest.mark.points(1)
def test_temporal_with_one_and_three_windows(submission, rng):
    check_against_reference(submission, "temporal", [2.0], windows=[3])
    check_against_reference(submission, "temporal", [0.5, 1.0, 0.25], windows=[1, 2, 6])
