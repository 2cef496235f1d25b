import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import Dataset

from dfkit.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from dfkit.models import UNet, UNetConfig
from dfkit.train import TrainConfig, learning_rate, train

QUIET = dict(progress=False, device="cpu")


def test_training_a_small_regression_lowers_the_loss():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(512, 4, generator=generator)
    y = (x @ torch.tensor([1.0, -2.0, 0.5, 0.0]) + torch.tanh(2 * x[:, 3])).unsqueeze(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.SiLU(), torch.nn.Linear(32, 1))

    def loss_fn(model, batch, generator):
        inputs, targets = batch
        return (model(inputs) - targets).pow(2).mean()

    result = train(model, loss_fn, (x, y), TrainConfig(steps=300, batch_size=32, lr=1e-2, warmup_steps=20, **QUIET))
    assert len(result.losses) == result.steps == 300
    assert np.mean(result.losses[-20:]) < 0.05 * np.mean(result.losses[:20])
    with torch.no_grad():  # the EMA model is a good model too
        assert (result.ema_model(x) - y).pow(2).mean() < 0.05 * y.var()
    assert not result.model.training and not result.ema_model.training


def test_same_seed_same_result_other_seed_other_result():
    def run(seed):
        torch.manual_seed(0)
        model = torch.nn.Linear(2, 1)
        data = torch.randn(100, 3, generator=torch.Generator().manual_seed(1))

        def loss_fn(model, batch, generator):
            noise = torch.randn(batch.shape[0], 1, generator=generator)
            return (model(batch[:, :2]) - batch[:, 2:] - noise).pow(2).mean()

        return train(model, loss_fn, data, TrainConfig(steps=5, batch_size=4, seed=seed, **QUIET)).losses

    assert run(0) == run(0)
    assert run(0) != run(1)


def adam_moves(config: TrainConfig) -> np.ndarray:
    """How far each AdamW step moves one weight whose gradient is always 1: exactly that step's lr."""
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    seen = []

    def loss_fn(model, batch, generator):
        seen.append(model.weight.item())
        return model.weight.sum()  # gradient 1

    result = train(model, loss_fn, torch.zeros(3, 1), config)
    return -np.diff(seen + [result.model.weight.item()])


def test_warmup_scales_the_first_adam_steps():
    config = TrainConfig(steps=6, batch_size=1, lr=0.1, warmup_steps=4, grad_clip=None, ema_decay=None, **QUIET)
    np.testing.assert_allclose(adam_moves(config), [0.025, 0.05, 0.075, 0.1, 0.1, 0.1], rtol=1e-4)


def test_cosine_decay_after_the_warm_up_ends_near_zero():
    config = TrainConfig(steps=6, batch_size=1, lr=0.1, warmup_steps=2, lr_decay="cosine", grad_clip=None, ema_decay=None, **QUIET)
    # after 2 warm-up steps, lr ½(1 + cos(π p)) with p = 0, 1/4, 2/4, 3/4 of the 4 remaining steps
    expected = [0.05, 0.1, 0.1, 0.05 * (1 + np.cos(np.pi / 4)), 0.05, 0.05 * (1 - np.cos(np.pi / 4))]
    np.testing.assert_allclose(adam_moves(config), expected, rtol=1e-4)
    assert [learning_rate(config, step) for step in range(6)] == pytest.approx(expected)
    assert learning_rate(dataclasses.replace(config, lr_decay="none"), 5) == 0.1   # the default keeps the rate
    with pytest.raises(ValueError, match="lr_decay"):
        TrainConfig(lr_decay="linear").validate()


def test_nan_guard_names_the_step():
    calls = []

    def loss_fn(model, batch, generator):
        calls.append(1)
        loss = model(batch).pow(2).mean()
        return loss * float("nan") if len(calls) == 137 else loss

    with pytest.raises(FloatingPointError, match="loss became nan at step 137"):
        train(torch.nn.Linear(2, 2), loss_fn, torch.randn(10, 2), TrainConfig(steps=200, batch_size=2, **QUIET))

    def infinite(model, batch, generator):
        return model(batch).sum() * float("inf")

    with pytest.raises(FloatingPointError, match="loss became -?inf at step 1"):
        train(torch.nn.Linear(2, 2), infinite, torch.ones(10, 2), TrainConfig(steps=3, batch_size=2, **QUIET))


def test_ema_equals_its_formula():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    snapshots = []

    def loss_fn(model, batch, generator):
        snapshots.append(model.weight.detach().clone())  # call n sees the weights after n updates
        return (model(batch) - 1).pow(2).mean()

    decay = 0.8
    result = train(model, loss_fn, torch.randn(20, 3), TrainConfig(steps=6, batch_size=4, lr=0.05, ema_decay=decay, **QUIET))
    snapshots.append(result.model.weight.detach().clone())
    assert len(snapshots) == 7  # initial + after each of the 6 updates

    expected = snapshots[0].clone()
    for n in range(6):
        d = min(decay, (1 + n) / (10 + n))
        expected = d * expected + (1 - d) * snapshots[n + 1]
    torch.testing.assert_close(result.ema_model.weight, expected, rtol=1e-6, atol=1e-7)
    assert not torch.allclose(result.ema_model.weight, result.model.weight)


class NoisyDigits(Dataset):
    """A Dataset of dicts, like dfkit.data.ClipDataset."""

    def __init__(self):
        self.images = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(0))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return {"image": self.images[index], "index": index}


def denoising_loss(model, batch, generator):
    """Uses all three random streams: batch indices, the generator (noise), the global RNG (dropout)."""
    x = batch["image"]
    level = torch.rand(x.shape[0], generator=generator) * 1000
    noise = torch.randn(x.shape, generator=generator)
    return (model(x + noise * level[:, None, None, None] / 1000, level) - noise).pow(2).mean()


def fresh_unet(seed):
    torch.manual_seed(seed)
    return UNet(UNetConfig(image_size=8, base_channels=8, channel_mults=(1, 2), embedding_dim=16, dropout=0.1))


def test_resuming_from_a_checkpoint_is_bit_identical(tmp_path):
    base = dict(batch_size=4, lr=1e-3, warmup_steps=3, ema_decay=0.9, seed=3, **QUIET)
    straight = train(fresh_unet(0), denoising_loss, NoisyDigits(), TrainConfig(steps=8, **base))

    first = train(fresh_unet(0), denoising_loss, NoisyDigits(), TrainConfig(steps=4, checkpoint_dir=str(tmp_path), checkpoint_every=2, **base))
    assert first.checkpoint == tmp_path / "step_0000004.json"
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["step_0000002.json", "step_0000004.json"]
    # fresh objects, other initial weights and a scrambled global RNG: everything comes from the checkpoint
    torch.manual_seed(1234)
    second = train(fresh_unet(99), denoising_loss, NoisyDigits(), TrainConfig(steps=8, **base), resume_from=tmp_path)

    assert second.steps == 8 and second.losses == straight.losses
    for name, tensor in straight.model.state_dict().items():
        assert torch.equal(second.model.state_dict()[name], tensor), name
    for name, tensor in straight.ema_model.state_dict().items():
        assert torch.equal(second.ema_model.state_dict()[name], tensor), name

    # the training checkpoint is also an ordinary model checkpoint, with or without EMA weights
    model, meta = load_checkpoint(tmp_path / "step_0000004", expected_model=UNet)
    assert meta["step"] == 4 and torch.equal(model.out_conv.weight, first.model.out_conv.weight)
    ema, _ = load_checkpoint(tmp_path / "step_0000004", ema=True)
    assert torch.equal(ema.out_conv.weight, first.ema_model.out_conv.weight)


def test_resume_refuses_a_plain_model_checkpoint_or_another_model(tmp_path):
    save_checkpoint(tmp_path / "plain", fresh_unet(0))
    with pytest.raises(ValueError, match="without training state"):
        train(fresh_unet(0), denoising_loss, NoisyDigits(), TrainConfig(steps=2, batch_size=2, **QUIET), resume_from=tmp_path / "plain")
    train(torch.nn.Linear(64, 64), lambda m, b, g: m(b["image"].flatten(1)).pow(2).mean(), NoisyDigits(),
          TrainConfig(steps=1, batch_size=2, checkpoint_dir=str(tmp_path / "linear"), **QUIET))
    with pytest.raises(ValueError, match="does not fit UNet"):
        train(fresh_unet(0), denoising_loss, NoisyDigits(), TrainConfig(steps=2, batch_size=2, **QUIET), resume_from=tmp_path / "linear")


def test_data_forms_and_bad_inputs():
    seen = []

    def record(model, batch, generator):
        seen.append(batch)
        return model.weight.sum() * 0

    model = torch.nn.Linear(1, 1)
    config = TrainConfig(steps=2, batch_size=5, **QUIET)
    values = torch.arange(10.0) * 10
    train(model, record, values, config)
    train(model, record, values.numpy(), config)
    train(model, record, {"a": values, "b": -values}, config)
    train(model, record, [values[i] for i in range(10)], config)  # a list is a dataset of items
    train(model, record, torch.utils.data.TensorDataset(values, -values), config)
    for batch in seen[:4] + seen[6:8]:
        assert batch.shape == (5,) and set(batch.tolist()) <= set(values.tolist())
    assert torch.equal(seen[4]["b"], -seen[4]["a"])
    assert torch.equal(seen[8][1], -seen[8][0]) and torch.equal(seen[8][0], seen[0])
    assert not torch.equal(seen[0], seen[1])  # fresh random indices at every step
    assert torch.equal(seen[0], seen[2])  # same seed, same stream, whatever the container

    with pytest.raises(ValueError, match="expected data to be a tensor"):
        train(model, record, 3.0, config)
    with pytest.raises(ValueError, match="same number of examples"):
        train(model, record, (torch.zeros(3), torch.zeros(4)), config)
    with pytest.raises(ValueError, match="scalar tensor"):
        train(model, lambda m, b, g: m(b[:, None]), values, config)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train(model, record, values, TrainConfig(steps=2, checkpoint_every=1, **QUIET))


def test_ddp_two_ranks_end_with_identical_weights(tmp_path):
    worker = Path(__file__).with_name("ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone", str(worker), str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    ranks = [load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1)]
    initial_differs = any(not torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0] if k.startswith("initial/"))
    assert initial_differs  # the worker starts the ranks from different weights on purpose
    for key in ranks[0]:
        if key.startswith(("model/", "ema/")):
            assert torch.equal(ranks[0][key], ranks[1][key]), key
            if key.startswith("model/"):
                assert not torch.equal(ranks[0][key], ranks[0]["initial/" + key[len("model/"):]]), key
    assert not torch.equal(ranks[0]["batches"], ranks[1]["batches"])  # each rank draws its own data
    assert torch.equal(ranks[0]["losses"], ranks[1]["losses"])  # logged losses are averaged over ranks

    # only rank 0 wrote checkpoints; they hold both ranks' RNG states for resuming
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.json")) == ["step_0000003.json", "step_0000006.json"]
    _, meta = read_checkpoint(tmp_path / "checkpoints" / "step_0000006")
    assert meta["extra_state"]["world_size"] == 2
    assert {"rng/0/data", "rng/1/data", "rng/0/noise", "rng/1/noise"} <= set(meta["extra_state"])
    assert not torch.equal(meta["extra_state"]["rng/0/data"], meta["extra_state"]["rng/1/data"])



def test_profile_presets_build_and_fit_their_budgets():
    from dfkit.models import VAE
    from dfkit.profiles import PROFILES

    unet_sizes = {"quick": (20e3, 100e3), "class": (0.5e6, 1.5e6), "gpu": (10e6, 30e6)}
    for name, profile in PROFILES.items():
        profile.unet_training.validate()
        profile.vae_training.validate()
        low, high = unet_sizes[name]
        assert low <= UNet(profile.unet).num_parameters() <= high, name
        assert profile.unet.image_size == profile.vae.image_size == 28
        VAE(profile.vae)
    assert PROFILES["quick"].unet_training.steps < PROFILES["class"].unet_training.steps < PROFILES["gpu"].unet_training.steps


def test_train_resumable_continues_only_the_same_training(tmp_path):
    """An interrupted run resumes from its newest saved state, to the uninterrupted weights; a run of
    other settings (here the learning rate) ignores that state and starts from step 0."""
    from dfkit.train import train_resumable

    data = torch.randn(64, 3, generator=torch.Generator().manual_seed(1))
    calls = {"n": 0, "stop_at": None}

    def loss_fn(model, batch, generator):
        calls["n"] += 1
        if calls["n"] == calls["stop_at"]:
            raise KeyboardInterrupt
        return (model(batch[:, :2]) - batch[:, 2:]).pow(2).mean()

    def fresh_model():
        torch.manual_seed(0)
        return torch.nn.Linear(2, 1)

    config = TrainConfig(steps=40, batch_size=8, lr=1e-2, **QUIET)
    reference = train(fresh_model(), loss_fn, data, config).model.state_dict()

    calls.update(n=0, stop_at=27)
    with pytest.raises(KeyboardInterrupt):
        train_resumable(fresh_model(), loss_fn, data, config, tmp_path / "work")
    assert sorted(p.name for p in (tmp_path / "work").glob("step_*.json")) == ["step_0000024.json"]   # every 4 steps, newest kept

    calls.update(stop_at=None)
    other = train_resumable(fresh_model(), loss_fn, data, dataclasses.replace(config, lr=5e-3), tmp_path / "work")
    assert len(other.losses) == 40 and not (tmp_path / "work" / "step_0000024.json").exists()   # started afresh

    calls.update(n=0, stop_at=27)
    for path in (tmp_path / "work").glob("step_*"):
        path.unlink()
    with pytest.raises(KeyboardInterrupt):
        train_resumable(fresh_model(), loss_fn, data, config, tmp_path / "work")
    calls.update(n=0, stop_at=None)
    resumed = train_resumable(fresh_model(), loss_fn, data, config, tmp_path / "work")
    assert calls["n"] == 40 - 24                                          # only the missing steps ran
    assert all(torch.equal(resumed.model.state_dict()[k], reference[k]) for k in reference)
