import dataclasses

import pytest
import torch

from dfkit import recipes
from dfkit.profiles import get_profile


@pytest.fixture
def tiny_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path))
    quick = get_profile("quick")
    return dataclasses.replace(
        quick,
        unet_training=dataclasses.replace(quick.unet_training, steps=3, progress=False),
        vae_training=dataclasses.replace(quick.vae_training, steps=3, progress=False),
    )


@pytest.mark.parametrize("name", recipes.IMAGE_MODELS)
def test_trains_once_then_loads_the_checkpoint(name, tiny_profile, tmp_path, monkeypatch):
    trained = recipes.image_model(name, tiny_profile, progress=False)
    assert (tmp_path / "quick" / f"{name}.json").exists()
    monkeypatch.setattr(recipes, "train_resumable", lambda *a, **k: pytest.fail("a saved checkpoint must not be retrained"))
    loaded = recipes.image_model(name, tiny_profile, progress=False)
    for (key, a), (_, b) in zip(trained.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), key


def test_a_checkpoint_from_other_presets_is_refused(tiny_profile):
    recipes.image_model("vae", tiny_profile, progress=False)
    longer = dataclasses.replace(tiny_profile, vae_training=dataclasses.replace(tiny_profile.vae_training, steps=4))
    with pytest.raises(ValueError, match="trained for 3 steps.*for 4; retrain"):
        recipes.image_model("vae", longer, progress=False)
    wider = dataclasses.replace(tiny_profile, vae=dataclasses.replace(tiny_profile.vae, latent_dim=tiny_profile.vae.latent_dim + 1))
    with pytest.raises(ValueError, match="retrain"):
        recipes.image_model("vae", wider, progress=False)
    assert recipes.image_model("vae", wider, retrain=True, progress=False).config == wider.vae
    assert recipes.image_model("vae", wider, progress=False).config == wider.vae
    assert recipes.model_config("flow", tiny_profile).level_scale == 1000.0


def test_losses_are_finite_and_unknown_names_fail(tiny_profile):
    model, loss_fn, data, _ = recipes.build("ddpm", tiny_profile)
    assert data.min() >= -1 and data.max() <= 1 and data.min() < -0.9
    loss = loss_fn(model, data[:4], torch.Generator().manual_seed(0))
    assert torch.isfinite(loss) and loss > 0
    with pytest.raises(ValueError, match="unknown image model"):
        recipes.build("gan", tiny_profile)
    with pytest.raises(ValueError, match="scale"):
        recipes.digits("train", "percent")


def test_initial_weights_do_not_depend_on_the_global_random_state(tiny_profile):
    torch.manual_seed(1)
    first = recipes.build("ddpm", tiny_profile)[0]
    torch.manual_seed(2)
    second = recipes.build("ddpm", tiny_profile)[0]
    for (key, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), key
