"""Visible checks of history_guidance_terms: the views and weights of vanilla, fractional and temporal history guidance."""

import pytest

from dfkit.lessons.guidance import combined_weights
from dfkit.lessons.guidance import history_guidance_terms as reference

pytestmark = pytest.mark.question("07_guidance.history_guidance_terms")


def describe(weights):
    names = {(None, None): "ε(h)", (0, None): "ε(∅)"}
    parts = [f"{w:+g}·{names.get(view, f'ε(keep={view[0]}, level={view[1]})')}" for view, w in sorted(weights.items(), key=str)]
    return " ".join(parts) or "0"


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
        raise AssertionError(f"{call}: expected the combination {describe(expected)}, got {describe(mine)} (from {got!r})")


@pytest.mark.visible
@pytest.mark.points(1)
def test_vanilla(submission, rng):
    for scale in (0.0, 1.0, 2.5):
        check_against_reference(submission, "vanilla", scale)


@pytest.mark.visible
@pytest.mark.points(1)
def test_fractional(submission, rng):
    check_against_reference(submission, "fractional", 1.5, level=200)
    check_against_reference(submission, "fractional", 0.5, level=600)


@pytest.mark.visible
@pytest.mark.points(1)
def test_temporal(submission, rng):
    check_against_reference(submission, "temporal", [1.0, 0.5], windows=[1, 4])
