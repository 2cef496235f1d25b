"""Visible checks of marginal_velocity: E[x_1 - x_0 | x_t] when the data are a few points."""

import pytest
import torch

from autograder.expect import describe_call, expect_array, shown
from dfkit.lessons.flow_matching import marginal_velocity as reference

pytestmark = pytest.mark.question("03_flow_matching.marginal_velocity")


def known_mistakes(x_t, t, points) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    x, data = x_t.double().flatten(1), points.double().flatten(1)                # (B, D), (N, D)
    t = torch.as_tensor(t, dtype=torch.float64).expand(len(x))[:, None]         # (B, 1)

    def velocity(weights):                                                        # weights (B, N)
        return ((weights @ data - x) / (1 - t)).reshape(x_t.shape).numpy()

    def posterior(centres, variance):                                             # centres (B, N, D)
        return torch.softmax(-((x[:, None] - centres) ** 2).sum(-1) / (2 * variance), dim=1)

    scaled = t[:, :, None] * data[None]                                           # (B, N, D): t p_i
    right = velocity(posterior(scaled, (1 - t) ** 2))
    first_time = t[:1].expand_as(t)
    return {
        "you weight the points with a variance of 1 - t: x_t given p_i has standard deviation 1 - t, so variance (1 - t)²":
            velocity(posterior(scaled, 1 - t)),
        "you centre each point's Gaussian on p_i: given x_1 = p_i, x_t has mean t p_i":
            velocity(posterior(data[None].expand_as(scaled), (1 - t) ** 2)),
        "you average the conditional velocities with equal weights: each point counts by its posterior weight given x_t":
            velocity(torch.full((len(x), len(data)), 1 / len(data), dtype=torch.float64)),
        "you point from the data towards x_t: the velocity (p_i - x_t) / (1 - t) moves x_t towards the data": -right,
        "you use one time for the whole batch: t holds a time per point": ((posterior(first_time[:, :, None] * data[None], (1 - first_time) ** 2)
                                                                           @ data - x) / (1 - first_time)).reshape(x_t.shape).numpy(),
    }


def check_against_reference(submission, x_t, t, points):
    call = describe_call("marginal_velocity", x_t=shown(x_t), t=shown(t), points=shown(points))
    expected = reference(x_t, t, points)
    got = submission.marginal_velocity(x_t, t, points)
    tolerance = dict(rtol=1e-6, atol=1e-8) if expected.dtype == torch.float64 else dict(rtol=1e-3, atol=1e-4)
    expect_array(got, expected.numpy(), call=call, tensor=True, mistakes=lambda: known_mistakes(x_t, t, points), **tolerance)
    if got.dtype != expected.numpy().dtype:
        raise AssertionError(f"{call}: expected a tensor of dtype {expected.dtype} (the dtype of x_t), got {got.dtype}")


@pytest.mark.visible
@pytest.mark.points(1)
def test_points_in_the_plane(submission, rng):
    for _ in range(3):
        points = torch.from_numpy(rng.uniform(-2, 2, size=(6, 2)))
        x_t = torch.from_numpy(rng.standard_normal((5, 2)))
        t = torch.from_numpy(rng.uniform(0.05, 0.9, size=5))                  # (B,): one time per point
        check_against_reference(submission, x_t, t, points)
    # near t = 1 the weights' exponents are huge (a softmax keeps them finite); at t = 1, u_1(x) = x
    points = torch.from_numpy(rng.uniform(-2, 2, size=(6, 2)))
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((3, 2))), torch.tensor([0.999, 0.9999, 1.0], dtype=torch.float64), points)


@pytest.mark.visible
@pytest.mark.points(1)
def test_images_at_their_own_times(submission, rng):
    points = torch.from_numpy(rng.uniform(-1, 1, size=(6, 1, 2, 2))).float()
    noise = torch.from_numpy(rng.standard_normal((3, 1, 2, 2))).float()
    t = torch.from_numpy(rng.uniform(0.1, 0.8, size=3)).float()
    x_t = (1 - t[:, None, None, None]) * noise + t[:, None, None, None] * points[:3]   # points on their paths
    check_against_reference(submission, x_t, t, points)
