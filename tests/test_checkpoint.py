import json

import pytest
import torch

import dfkit
from dfkit.checkpoint import checkpoint_paths, load_checkpoint, read_checkpoint, save_checkpoint
from dfkit.models import UNet, UNetConfig, VAE, VAEConfig


def small_unet(seed: int = 0) -> UNet:
    torch.manual_seed(seed)
    return UNet(UNetConfig(image_size=16, base_channels=8, channel_mults=(1, 2), embedding_dim=16, level_scale=1000.0, attention_at=(1,), num_heads=2))


def test_save_then_load_rebuilds_the_same_model(tmp_path):
    model = small_unet()
    with torch.no_grad():
        model.out_conv.weight.normal_()
    json_path = save_checkpoint(tmp_path / "unet", model, step=123)
    files = checkpoint_paths(tmp_path / "unet")
    assert json_path == files["json"] and files["weights"].exists()

    meta = json.loads(files["json"].read_text())
    assert meta["model_class"] == "UNet" and meta["config_class"] == "UNetConfig"
    assert meta["config"]["channel_mults"] == [1, 2] and meta["config"]["level_scale"] == 1000.0
    assert meta["dfkit_version"] == dfkit.__version__ and meta["step"] == 123
    assert len(meta["weights_sha256"]) == 64

    for path in (tmp_path / "unet", files["json"], files["weights"]):
        loaded, meta = load_checkpoint(path, expected_model=UNet)
        assert meta["config"] == model.config  # tuples restored, frozen dataclass equal
        x, level = torch.randn(2, 1, 16, 16), torch.tensor([0.1, 0.9])
        assert torch.equal(loaded(x, level), model.eval()(x, level))


def test_a_directory_holds_model_files_and_extra_state_round_trips(tmp_path):
    model = VAE(VAEConfig(base_channels=8, latent_dim=3))
    extra = {"ema/w": torch.arange(4.0), "rng": torch.Generator().manual_seed(5).get_state(), "losses": [1.0, 0.5], "note": "hi"}
    save_checkpoint(tmp_path, model, extra_state=extra)
    assert (tmp_path / "model.safetensors").exists() and (tmp_path / "model.state.safetensors").exists()
    loaded, meta = load_checkpoint(tmp_path, expected_model="VAE")
    assert isinstance(loaded, VAE) and meta["step"] is None
    state = meta["extra_state"]
    assert torch.equal(state["ema/w"], extra["ema/w"]) and state["rng"].dtype == torch.uint8
    assert torch.equal(state["rng"], extra["rng"]) and state["losses"] == [1.0, 0.5] and state["note"] == "hi"


def test_loading_the_wrong_model_is_a_clear_error(tmp_path):
    save_checkpoint(tmp_path / "unet", small_unet())
    with pytest.raises(ValueError, match="holds a UNet, expected a VAE"):
        load_checkpoint(tmp_path / "unet", expected_model=VAE)

    # a config that does not match the weights (e.g. edited, or weights from another run)
    files = checkpoint_paths(tmp_path / "unet")
    meta = json.loads(files["json"].read_text())
    meta["config"]["base_channels"] = 16
    files["json"].write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="does not fit UNet .*shape mismatch"):
        load_checkpoint(tmp_path / "unet")

    meta["config"] = {"image_size": 16, "no_such_field": 3}
    files["json"].write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"fields \['no_such_field'\]"):
        load_checkpoint(tmp_path / "unet")

    meta["model_class"] = "os.system"
    files["json"].write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="not a registered dfkit model"):
        load_checkpoint(tmp_path / "unet")

    # weights of one model copied in place of another's
    save_checkpoint(tmp_path / "vae", VAE(VAEConfig(base_channels=8)))
    from dfkit.checkpoint import load_weights

    weights, _ = read_checkpoint(tmp_path / "vae")
    with pytest.raises(ValueError, match="does not fit UNet .*missing"):
        load_weights(small_unet(), weights)


def test_corrupted_or_truncated_files_are_clear_errors(tmp_path):
    save_checkpoint(tmp_path / "unet", small_unet(), extra_state={"x": torch.ones(3)})
    files = checkpoint_paths(tmp_path / "unet")

    data = files["weights"].read_bytes()
    files["weights"].write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupted or truncated"):
        load_checkpoint(tmp_path / "unet")

    flipped = bytearray(data)
    flipped[-5] ^= 0xFF
    files["weights"].write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupted or truncated"):
        load_checkpoint(tmp_path / "unet")

    # even with a matching checksum, a file that is not safetensors is refused without unpickling
    files["weights"].write_bytes(b"\x80\x04not a safetensors file")
    meta = json.loads(files["json"].read_text())
    import hashlib

    meta["weights_sha256"] = hashlib.sha256(files["weights"].read_bytes()).hexdigest()
    files["json"].write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="cannot read tensors"):
        load_checkpoint(tmp_path / "unet")

    text = files["json"].read_text()
    files["json"].write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="not valid JSON"):
        load_checkpoint(tmp_path / "unet")

    files["json"].write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not a dfkit checkpoint"):
        load_checkpoint(tmp_path / "unet")

    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nothing_here")
