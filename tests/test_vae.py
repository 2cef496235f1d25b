import math
from types import SimpleNamespace

import pytest
import torch
from torch.distributions import Bernoulli, MultivariateNormal, Normal

from dfkit.models import (
    VAE,
    VAEConfig,
    bernoulli_log_likelihood,
    elbo,
    gaussian_kl,
    gaussian_log_likelihood,
    iwae_bound,
    reparameterize,
    vae_loss,
)
from dfkit.train import TrainConfig, train


# ----------------------------------------------------------------------------- the formulas


def test_gaussian_kl_matches_the_closed_form_and_a_monte_carlo_estimate():
    generator = torch.Generator().manual_seed(0)
    mu = torch.randn(3, 4, generator=generator)
    logvar = torch.randn(3, 4, generator=generator) * 0.5
    kl = gaussian_kl(mu, logvar)
    assert kl.shape == (3,)

    sigma2 = logvar.exp()
    by_hand = 0.5 * (mu**2 + sigma2 - torch.log(sigma2) - 1).sum(dim=1)
    torch.testing.assert_close(kl, by_hand)

    q = Normal(mu, sigma2.sqrt())
    z = q.sample((200_000,))  # (S, 3, 4)
    monte_carlo = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(-1).mean(0)
    torch.testing.assert_close(kl, monte_carlo, rtol=0.03, atol=0.02)
    assert torch.all(gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)) == 0)


def test_reparameterize_has_the_right_moments_and_gradients():
    mu = torch.tensor([[1.0, -2.0, 0.5]])
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.25)]])
    z = reparameterize(mu.expand(100_000, 3), logvar.expand(100_000, 3), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(z.mean(0), mu[0], atol=0.02, rtol=0)
    torch.testing.assert_close(z.var(0), logvar[0].exp(), atol=0.05, rtol=0.02)

    same = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(7))
    again = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(7))
    assert torch.equal(same, again)

    mu = mu.clone().requires_grad_(True)
    logvar = logvar.clone().requires_grad_(True)
    noise = torch.tensor([[0.3, -1.0, 2.0]])
    z = reparameterize(mu, logvar, noise=noise)
    torch.testing.assert_close(z, mu + torch.exp(0.5 * logvar) * noise)
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))
    torch.testing.assert_close(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * noise)

    with pytest.raises(ValueError, match="noise of shape"):
        reparameterize(torch.zeros(2, 3), torch.zeros(2, 3), noise=torch.zeros(3))


def test_log_likelihoods_match_torch_distributions():
    generator = torch.Generator().manual_seed(0)
    x = (torch.rand(4, 1, 5, 5, generator=generator) > 0.5).float()
    logits = torch.randn(4, 1, 5, 5, generator=generator) * 3
    torch.testing.assert_close(bernoulli_log_likelihood(x, logits), Bernoulli(logits=logits).log_prob(x).sum((1, 2, 3)))

    mean = torch.randn(4, 1, 5, 5, generator=generator)
    torch.testing.assert_close(gaussian_log_likelihood(x, mean, math.log(0.3)), Normal(mean, 0.3).log_prob(x).sum((1, 2, 3)))
    log_scale = torch.randn(4, 1, 5, 5, generator=generator) * 0.2
    torch.testing.assert_close(gaussian_log_likelihood(x, mean, log_scale), Normal(mean, log_scale.exp()).log_prob(x).sum((1, 2, 3)))
    with pytest.raises(ValueError, match="same shape"):
        bernoulli_log_likelihood(x, logits[:, 0])


# ----------------------------------------------------------------------------- ELBO <= log p(x)


class LinearGaussianVAE(torch.nn.Module):
    """p(z) = N(0, I), p(x|z) = N(W z + b, σ² I), q(z|x) = N(A x + c, diag exp(logvar)).

    Its marginal is known in closed form: p(x) = N(b, W Wᵀ + σ² I). W has orthogonal columns so
    that the true posterior is a diagonal Gaussian, which this family of q can represent exactly.
    """

    def __init__(self, W, b, sigma, A, c, logvar):
        super().__init__()
        self.W, self.b, self.A, self.c, self.logvar = W, b, A, c, logvar
        self.config = SimpleNamespace(likelihood="gaussian", sigma=sigma, beta=1.0)

    def encode(self, x):
        return x @ self.A.T + self.c, self.logvar.expand(x.shape[0], -1)

    def decode(self, z):
        return z @ self.W.T + self.b

    def log_marginal(self, x):
        covariance = self.W @ self.W.T + self.config.sigma**2 * torch.eye(len(self.b), dtype=x.dtype)
        return MultivariateNormal(self.b, covariance).log_prob(x)

    def expected_elbo(self, x):
        """E_q[log p(x|z)] - KL(q || p(z)) computed exactly (no sampling)."""
        mu, logvar = self.encode(x)
        sigma2 = self.config.sigma**2
        residual = x - self.decode(mu)
        trace = (logvar.exp() * (self.W**2).sum(0)).sum(1)  # E ||W (z - mu)||² = Σ_j var_j ||W_:j||²
        expected_log_lik = -0.5 * len(self.b) * math.log(2 * math.pi * sigma2) - ((residual**2).sum(1) + trace) / (2 * sigma2)
        return expected_log_lik - gaussian_kl(mu, logvar)


def linear_gaussian(exact_posterior: bool) -> LinearGaussianVAE:
    generator = torch.Generator().manual_seed(3)
    dtype = torch.float64
    q, _ = torch.linalg.qr(torch.randn(5, 2, generator=generator, dtype=dtype))
    W = q * torch.tensor([1.5, 0.7], dtype=dtype)  # orthogonal columns
    b = torch.randn(5, generator=generator, dtype=dtype)
    sigma = 0.5
    posterior_var = 1.0 / (1.0 + (W**2).sum(0) / sigma**2)  # diagonal because WᵀW is
    A = posterior_var[:, None] * W.T / sigma**2
    c = -A @ b
    logvar = posterior_var.log()
    if not exact_posterior:
        A, c, logvar = 0.8 * A, c + 0.3, logvar + math.log(2.0)
    return LinearGaussianVAE(W, b, sigma, A, c, logvar)


def test_elbo_is_below_log_marginal_and_tight_at_the_true_posterior():
    x = torch.tensor([[0.5, -1.0, 2.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0], [-2.0, 1.0, 0.3, 0.2, -0.5]], dtype=torch.float64)
    repeats = 20_000
    batch = x.repeat_interleave(repeats, dim=0)
    for exact in (True, False):
        model = linear_gaussian(exact)
        log_px = model.log_marginal(x)
        estimate = elbo(model, batch, generator=torch.Generator().manual_seed(0))
        assert set(estimate) == {"elbo", "reconstruction", "kl"}
        torch.testing.assert_close(estimate["elbo"], estimate["reconstruction"] - estimate["kl"])
        mean_elbo = estimate["elbo"].reshape(3, repeats).mean(1)
        stderr = estimate["elbo"].reshape(3, repeats).std(1) / math.sqrt(repeats)
        exact_elbo = model.expected_elbo(x)
        # the one-sample estimator is unbiased for the ELBO ...
        assert torch.all((mean_elbo - exact_elbo).abs() < 5 * stderr + 1e-9)
        if exact:
            # ... which equals log p(x) when q is the true posterior
            torch.testing.assert_close(exact_elbo, log_px, rtol=0, atol=1e-9)
        else:
            # ... and is strictly below it otherwise, with IWAE in between
            assert torch.all(exact_elbo < log_px - 0.1)
            iwae = iwae_bound(model, batch[::100], num_samples=64, generator=torch.Generator().manual_seed(1)).reshape(3, -1).mean(1)
            assert torch.all(exact_elbo < iwae) and torch.all(iwae <= log_px + 0.01)
            assert torch.all(log_px - iwae < 0.25 * (log_px - exact_elbo))


# ----------------------------------------------------------------------------- the model


def tiny_vae(**overrides) -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(**{"base_channels": 8, "latent_dim": 4, **overrides}))


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_video_frames_are_encoded_and_decoded_one_by_one(likelihood):
    model = tiny_vae(image_size=16, likelihood=likelihood)
    frames = torch.rand(2, 3, 1, 16, 16)  # (B, T, C, H, W)
    mu, logvar = model.encode(frames)
    assert mu.shape == logvar.shape == (2, 3, 4)
    for b in range(2):
        for t in range(3):
            mu_1, logvar_1 = model.encode(frames[b, t][None])
            torch.testing.assert_close(mu[b, t], mu_1[0], rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(logvar[b, t], logvar_1[0], rtol=1e-5, atol=1e-6)
    decoded = model.decode(mu)
    assert decoded.shape == frames.shape
    torch.testing.assert_close(decoded[1, 2], model.decode(mu[1, 2][None])[0], rtol=1e-5, atol=1e-6)
    # the ELBO of a batch of clips is the sum of the per-frame ELBOs (same noise, frame by frame)
    per_clip = elbo(model, frames, generator=torch.Generator().manual_seed(0))["kl"]
    torch.testing.assert_close(per_clip, gaussian_kl(mu.flatten(0, 1), logvar.flatten(0, 1)).reshape(2, 3).sum(1))


def test_bad_shapes_fail_with_clear_messages():
    model = tiny_vae()
    with pytest.raises(ValueError, match=r"expected images of shape \(B, 1, 28, 28\) or frames \(B, T, 1, 28, 28\), got \(16, 28, 28\)"):
        model.encode(torch.zeros(16, 28, 28))
    with pytest.raises(ValueError, match=r"expected latents of shape \(B, 4\)"):
        model.decode(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="likelihood"):
        VAEConfig(likelihood="poisson").validate()
    with pytest.raises(ValueError, match="divisible by 2\\*\\*len\\(channel_mults\\) = 4"):
        VAE(VAEConfig(image_size=30))


def test_vae_loss_is_the_negative_mean_beta_elbo():
    model = tiny_vae()
    x = torch.rand(5, 1, 28, 28)
    parts = elbo(model, x, generator=torch.Generator().manual_seed(0))
    loss = vae_loss(model, x, torch.Generator().manual_seed(0), beta=0.25)
    torch.testing.assert_close(loss, -(parts["reconstruction"] - 0.25 * parts["kl"]).mean())
    torch.testing.assert_close(vae_loss(model, x, torch.Generator().manual_seed(0)), -parts["elbo"].mean())


def test_training_on_digits_lowers_the_loss_and_elbo_stays_below_iwae():
    from dfkit.data import load_digits

    images, _ = load_digits("train")
    x = torch.from_numpy(images[:2000]).float().div(255.0).unsqueeze(1)  # (N, 1, 28, 28)
    model = tiny_vae()
    config = TrainConfig(steps=150, batch_size=32, lr=2e-3, ema_decay=None, progress=False, seed=0)
    result = train(model, vae_loss, x, config)
    first, last = sum(result.losses[:10]) / 10, sum(result.losses[-10:]) / 10
    assert last < first - 200, (first, last)  # ~540 nats (all-grey) down to ~200

    test = x[:8]
    with torch.no_grad():
        generator = torch.Generator().manual_seed(0)
        mean_elbo = torch.stack([elbo(model, test, generator=generator)["elbo"] for _ in range(16)]).mean(0)
        iwae = iwae_bound(model, test, num_samples=32, generator=generator)
    assert torch.all(mean_elbo <= iwae + 0.5)
    assert model.reconstruct(test).shape == test.shape
    samples = model.sample(3, generator=torch.Generator().manual_seed(0))
    assert samples.min() >= 0 and samples.max() <= 1
    assert torch.equal(samples, model.sample(3, generator=torch.Generator().manual_seed(0)))
