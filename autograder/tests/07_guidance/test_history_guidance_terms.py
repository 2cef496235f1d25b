"""Visible checks of history_guidance_terms: the views and weights of vanilla, fractional and temporal history guidance."""

import pytest

from dfkit.lessons.guidance import combined_weights
from dfkit.sequence.guidance import history_guidance_terms as reference

pytestmark = pytest.mark.question("07_guidance.history_guidance_terms")


def describe(weights):
    names = {(None, None): "ε(h)", (0, None): "ε(∅)"}
    parts = [f"{w:+g}·{names.get(view, f'ε(keep={view[0]}, level={view[1]})')}" for view, w in sorted(weights.items(), key=str)]
    return " ".join(parts) or "0"


def known_mistakes(kind, scale, level=None, windows=None) -> dict:
    """What the catalogued wrong answers give on this call (as term lists), by the concept each one misses."""
    if kind == "vanilla":
        return {
            "you swap the weights: ε(∅) + w [ε(h) - ε(∅)] gives the conditional view the weight w and the unconditional "
            "one 1 - w": [(None, None, 1 - scale), (0, None, scale)],
            "you use the other guidance convention, (1 + w) ε(h) - w ε(∅): the course's scale w = 1 means no guidance, "
            "ε(∅) + w [ε(h) - ε(∅)]": [(None, None, 1 + scale), (0, None, -scale)],
        }
    if kind == "fractional":
        return {
            "you leave out -w ε(∅): the guidance term is w [ε(h at k_f) - ε(∅)], and the weights sum to 1":
                [(None, None, 1.0), (None, level, scale)],
            "you subtract the fractional view from the conditional one: the guidance term is w [ε(h at k_f) - ε(∅)]":
                [(None, None, 1.0 + scale), (None, level, -scale)],
        }
    return {
        "you give ε(∅) the weight 1: it is 1 - Σ w_i, so that the weights sum to 1":
            [(0, None, 1.0)] + [(n, None, w) for n, w in zip(windows, scale)],
        "you give ε(∅) the weight -Σ w_i: the combination starts from ε(∅) itself, so its weight is 1 - Σ w_i":
            [(0, None, -sum(scale))] + [(n, None, w) for n, w in zip(windows, scale)],
    }


def same_combination(mine, expected) -> bool:
    return all(abs(mine.get(key, 0.0) - expected.get(key, 0.0)) <= 1e-6 for key in set(mine) | set(expected))


def check_against_reference(submission, kind, scale, **options):
    arguments = ", ".join([repr(kind), repr(scale)] + [f"{k}={v!r}" for k, v in options.items()])
    call = f"history_guidance_terms({arguments})"
    expected = combined_weights(reference(kind, scale, **options))
    got = submission.history_guidance_terms(kind, scale, **options)
    mine = combined_weights(got)
    if mine is None:
        raise AssertionError(f"{call}: expected a list of (keep, level, weight) triples, got {got!r}")
    if not same_combination(mine, expected):
        concept = next((f" This is what you get when {concept}." for concept, terms in known_mistakes(kind, scale, **options).items()
                        if same_combination(mine, combined_weights(terms))), "")
        raise AssertionError(f"{call}: expected the combination {describe(expected)}, got {describe(mine)} (from {got!r}).{concept}")


@pytest.mark.visible
@pytest.mark.points(1)
def test_vanilla(submission, rng):
    for scale in (2.5, 0.0, 1.0):          # 2.5 first: at w = 0 two known mistakes give the same combination
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
