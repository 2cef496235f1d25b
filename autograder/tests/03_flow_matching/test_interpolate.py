"""Visible checks of interpolate: x_t = (1 - t) · noise + t · data, one time per sample."""

import pytest
import torch

from autograder.expect import describe_call, expect_array, shown
from dfkit.diffusion.flow import interpolate as reference

pytestmark = pytest.mark.question("03_flow_matching.interpolate")


def known_mistakes(noise, data, t) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    t = torch.as_tensor(t, dtype=torch.float64)
    t = t.reshape(t.shape + (1,) * (noise.dim() - t.dim()))                    # one time per sample or per frame
    noise, data = noise.double(), data.double()
    return {
        "you swap noise and data: in the course's convention t = 0 is noise and t = 1 is data":
            ((1 - t) * data + t * noise).numpy(),
        "you mix with square roots as DDPM does (variance preserving): flow matching's path is the straight line "
        "(1 - t) · noise + t · data": ((1 - t).sqrt() * noise + t.sqrt() * data).numpy(),
    }


def check_against_reference(submission, noise, data, t):
    call = describe_call("interpolate", noise=shown(noise), data=shown(data), t=shown(t))
    expected = reference(noise, data, t)
    got = submission.interpolate(noise, data, t)
    tolerance = dict(rtol=1e-10, atol=1e-12) if expected.dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    expect_array(got, expected.numpy(), call=call, tensor=True, mistakes=lambda: known_mistakes(noise, data, t), **tolerance)
    if got.dtype != expected.numpy().dtype:
        raise AssertionError(f"{call}: expected a tensor of dtype {expected.dtype} (the dtype of noise and data), got {got.dtype}")


@pytest.mark.visible
@pytest.mark.points(1)
def test_points_and_images_at_their_own_times(submission, rng):
    for shape in ((4, 2), (3, 1, 5, 5)):
        for _ in range(2):
            noise = torch.from_numpy(rng.standard_normal(shape)).float()
            data = torch.from_numpy(rng.uniform(-1, 1, size=shape)).float()
            t = torch.from_numpy(rng.uniform(0, 1, size=shape[:1])).float()       # (B,): one time per sample
            check_against_reference(submission, noise, data, t)
    noise64, data64 = torch.from_numpy(rng.standard_normal((3, 2))), torch.from_numpy(rng.uniform(-1, 1, size=(3, 2)))
    check_against_reference(submission, noise64, data64, torch.from_numpy(rng.uniform(0, 1, size=3)))   # float64 stays float64
    check_against_reference(submission, noise64.float(), data64.float(), 0.25)                            # one float for the batch
