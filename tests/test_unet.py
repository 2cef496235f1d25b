import math

import pytest
import torch

from dfkit.models import UNet, UNetConfig
from dfkit.models.unet import sinusoidal_embedding

TINY = dict(base_channels=8, embedding_dim=16, num_heads=2)


def randomize_output_layer(model: UNet, seed: int = 0) -> UNet:
    """The output conv starts at zero; give it weights so that the output depends on the input."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.out_conv.weight.copy_(0.1 * torch.randn(model.out_conv.weight.shape, generator=generator))
    return model


@pytest.mark.parametrize(
    "size, mults",
    [(28, (1, 2, 2)), (32, (1, 2, 2)), (64, (1, 2, 2, 2)), (28, (1, 2))],
)
def test_output_has_the_input_shape_and_starts_at_zero(size, mults):
    torch.manual_seed(0)
    model = UNet(UNetConfig(image_size=size, in_channels=2, channel_mults=mults, attention_at=(len(mults) - 1,), **TINY))
    x = torch.randn(3, 2, size, size)
    out = model(x, torch.tensor([0.0, 10.0, 999.0]))
    assert out.shape == x.shape
    assert torch.count_nonzero(out) == 0  # zero-initialized output conv
    randomize_output_layer(model)
    out = model(x, torch.tensor([0.0, 10.0, 999.0]))
    assert out.shape == x.shape and out.abs().mean() > 1e-3


def test_out_channels_can_differ_from_in_channels():
    model = UNet(UNetConfig(image_size=16, in_channels=3, out_channels=1, channel_mults=(1, 2), **TINY))
    assert model(torch.randn(2, 3, 16, 16), 5.0).shape == (2, 1, 16, 16)


def test_the_level_changes_the_output_and_level_scale_rescales_it():
    torch.manual_seed(0)
    model = randomize_output_layer(UNet(UNetConfig(image_size=16, channel_mults=(1, 2), **TINY)))
    x = torch.randn(1, 1, 16, 16).expand(4, 1, 16, 16)
    out = model(x, torch.tensor([0.0, 10.0, 500.0, 1000.0]))
    for i in range(4):
        for j in range(i + 1, 4):
            assert (out[i] - out[j]).abs().max() > 1e-4, (i, j)

    # A flow-matching model embeds 1000 * t: with the same weights, t = 0.5 must act like level 500.
    flow = UNet(UNetConfig(image_size=16, channel_mults=(1, 2), level_scale=1000.0, **TINY))
    flow.load_state_dict(model.state_dict())
    torch.testing.assert_close(flow(x[:1], torch.tensor([0.5])), model(x[:1], torch.tensor([500.0])))
    # a single number is one level for the whole batch
    torch.testing.assert_close(model(x[:2], 500.0), model(x[:2], torch.tensor([500.0, 500.0])))


def test_sinusoidal_embedding_follows_its_formula():
    level = torch.tensor([0.0, 3.0, 700.0])
    emb = sinusoidal_embedding(level, 8)
    half = 4
    for b, value in enumerate(level.tolist()):
        for i in range(half):
            omega = 10_000.0 ** (-i / half)
            assert emb[b, i].item() == pytest.approx(math.sin(value * omega), abs=1e-4)
            assert emb[b, half + i].item() == pytest.approx(math.cos(value * omega), abs=1e-4)


def test_no_sample_sees_another_sample_of_the_batch():
    """Catches BatchNorm or attention over the batch: output i must not depend on input j != i."""
    torch.manual_seed(0)
    model = randomize_output_layer(UNet(UNetConfig(image_size=16, channel_mults=(1, 2), attention_at=(0, 1), **TINY)))
    model.train()
    x = torch.randn(4, 1, 16, 16)
    level = torch.tensor([1.0, 200.0, 400.0, 900.0])
    before = model(x, level)
    changed = x.clone()
    changed[2] = 10 * torch.randn(1, 16, 16)
    level_changed = level.clone()
    level_changed[2] = 5.0
    after = model(changed, level_changed)
    keep = [0, 1, 3]
    torch.testing.assert_close(after[keep], before[keep], rtol=1e-5, atol=1e-6)
    assert (after[2] - before[2]).abs().max() > 1e-3

    # the same with gradients: d out[0] / d x[j] is exactly zero for j != 0
    x.requires_grad_(True)
    model(x, level)[0].sum().backward()
    assert x.grad[0].abs().sum() > 0
    assert torch.count_nonzero(x.grad[1:]) == 0


def test_bad_inputs_and_configs_fail_with_clear_messages():
    model = UNet(UNetConfig(image_size=28, **TINY))
    with pytest.raises(ValueError, match=r"expected images of shape \(B, 1, 28, 28\), got \(16, 28, 28\)"):
        model(torch.zeros(16, 28, 28), torch.zeros(16))
    with pytest.raises(ValueError, match=r"expected images of shape \(B, 1, 28, 28\), got \(2, 1, 32, 32\)"):
        model(torch.zeros(2, 1, 32, 32), torch.zeros(2))
    with pytest.raises(ValueError, match=r"expected level of shape \(2,\)"):
        model(torch.zeros(2, 1, 28, 28), torch.zeros(3))
    with pytest.raises(ValueError, match="divisible by 2\\*\\*\\(len\\(channel_mults\\)-1\\) = 4"):
        UNet(UNetConfig(image_size=30, channel_mults=(1, 2, 2)))
    with pytest.raises(ValueError, match="attention_at"):
        UNet(UNetConfig(attention_at=(5,)))
