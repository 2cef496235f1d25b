"""Hidden checks of history_guidance_terms: scale 0 and level 0 of fractional, one window, three windows."""
# dfkit-canary: hidden-tests-07_guidance-history_guidance_terms

import pytest

from dfkit.lessons.guidance import combined_weights
from dfkit.lessons.guidance import history_guidance_terms as reference

pytestmark = pytest.mark.question("07_guidance.history_guidance_terms")


def check_against_reference(submission, kind, scale, **options):
    arguments = ", ".join([repr(kind), repr(scale)] + [f"{k}={v!r}" for k, v in options.items()])
    call = f"history_guidance_terms({arguments})"
    expected = combined_weights(reference(kind, scale, **options))
    got = submission.history_guidance_terms(kind, scale, **options)
    mine = combined_weights(got)
    if mine is None:
        raise AssertionError(f"{call}: expected a list of (keep, level, weight) triples, got {got!r}")
    keys = set(mine) | set(expected)
    if any(abs(mine.get(key, 0.0) - expected.get(key, 0.0)) > 1e-6 for key in keys):
        raise AssertionError(f"{call}: expected the views and weights {sorted(expected.items(), key=str)}, got {got!r}")


@pytest.mark.points(1)
def test_fractional_edges(submission, rng):
    check_against_reference(submission, "fractional", 0.0, level=300)      # the plain conditional
    check_against_reference(submission, "fractional", 2.0, level=0)        # ε(h) + 2 [ε(h) - ε(∅)]
    check_against_reference(submission, "vanilla", 0.5)


@pytest.mark.points(1)
def test_temporal_with_one_and_three_windows(submission, rng):
    check_against_reference(submission, "temporal", [2.0], windows=[3])
    check_against_reference(submission, "temporal", [0.5, 1.0, 0.25], windows=[1, 2, 6])
