"""The frame codec of the latent sequence models: standardized latents of a per-frame VAE."""

import pytest
import torch

from dfkit.models.vae import VAE, VAEConfig
from dfkit.sequence.latent import FrameCodec, LatentSequenceModel, encode_means, latent_statistics
from dfkit.models.video import VideoBackbone, VideoBackboneConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_vae(seed=0) -> VAE:
    torch.manual_seed(seed)
    return VAE(VAEConfig(image_size=8, latent_dim=3, base_channels=4, channel_mults=(1, 2))).eval()


def clips(N=6, T=4, seed=0) -> torch.Tensor:
    return torch.randint(0, 256, (N, T, 1, 8, 8), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def test_latents_of_the_training_frames_are_standardized_per_dimension():
    vae, frames = tiny_vae(), clips()
    mean, std = latent_statistics(vae, frames, chunk=4)                  # uint8 clips, a few at a time
    codec = FrameCodec(vae, mean, std)
    latents = codec.encode(frames.float() / 255)                         # the same frames as floats in [0, 1]
    assert latents.shape == (6, 4, 3, 1, 1)
    flat = latents.flatten(0, 1)[..., 0, 0]                              # (N·T, D)
    torch.testing.assert_close(flat.mean(0), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(flat.std(0), torch.ones(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(encode_means(vae, frames, chunk=5), vae.encode(frames.float() / 255)[0], atol=1e-6, rtol=0)


def test_decoding_undoes_the_standardization_and_gives_pixels():
    vae, frames = tiny_vae(), clips()
    codec = FrameCodec(vae, *latent_statistics(vae, frames))
    latents = codec.encode(frames.float() / 255)
    decoded = codec.decode(latents)
    assert decoded.shape == (6, 4, 1, 8, 8) and decoded.min() >= 0 and decoded.max() <= 1
    torch.testing.assert_close(decoded, vae.reconstruct(frames.float() / 255))   # decode(encode(x)) is the VAE's reconstruction
    with pytest.raises(ValueError, match=r"latent frames of shape \(B, T, 3, 1, 1\)"):
        codec.decode(latents[..., 0, 0])


def test_bad_statistics_and_mismatched_backbones_fail_clearly():
    vae = tiny_vae()
    with pytest.raises(ValueError, match="positive std of shape \\(3,\\)"):
        FrameCodec(vae, torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="positive std of shape \\(3,\\)"):
        FrameCodec(vae, torch.zeros(4), torch.ones(4))
    codec = FrameCodec(vae, torch.zeros(3), torch.ones(3))
    backbone = VideoBackbone(VideoBackboneConfig(image_size=1, channels=5, widths=(), d_model=8, num_layers=1, num_heads=2))
    with pytest.raises(ValueError, match="expected a backbone with 3 channels"):
        LatentSequenceModel(backbone, codec)
    right = VideoBackbone(VideoBackboneConfig(image_size=1, channels=3, widths=(), d_model=8, num_layers=1, num_heads=2, max_frames=5))
    model = LatentSequenceModel(right, codec)
    assert model.is_causal and model.max_window == 5 and model.num_parameters() == right.num_parameters()
