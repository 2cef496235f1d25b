"""Plausible wrong answers to the 02_ddpm exercises; each must fail at least one test.

``WRONG[question][label]`` is the source of a graded cell, as a student might write it.
"""

WRONG = {
    "02_ddpm.q_sample": {
        "variances where standard deviations belong": '''
import torch
def q_sample(x0, k, noise, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    alpha_bar = schedule.alpha_bars[k].view(shape)
    return alpha_bar * x0 + (1 - alpha_bar) * noise
''',
        "square root on the signal only": '''
import torch
def q_sample(x0, k, noise, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    alpha_bar = schedule.alpha_bars[k].view(shape)
    return alpha_bar.sqrt() * x0 + schedule.one_minus_alpha_bars[k].view(shape) * noise
''',
        "one forward step (beta_k) instead of the kernel": '''
import torch
def q_sample(x0, k, noise, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    beta = schedule.betas[k].view(shape)
    return (1 - beta).sqrt() * x0 + beta.sqrt() * noise
''',
        "off by one level: alpha_bar[k - 1]": '''
import torch
def q_sample(x0, k, noise, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    alpha_bar = schedule.alpha_bars[k - 1].view(shape)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
''',
        "the first sample's level for the whole batch": '''
import torch
def q_sample(x0, k, noise, schedule):
    alpha_bar = schedule.alpha_bars[k[0]]
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
''',
        "levels broadcast against the last axis": '''
import torch
def q_sample(x0, k, noise, schedule):
    alpha_bar = schedule.alpha_bars[k]
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
''',
        "signal and noise weights swapped": '''
import torch
def q_sample(x0, k, noise, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    alpha_bar = schedule.alpha_bars[k].view(shape)
    return (1 - alpha_bar).sqrt() * x0 + alpha_bar.sqrt() * noise
''',
        "computed in float64": '''
import torch
def q_sample(x0, k, noise, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    alpha_bar = schedule.alpha_bars[k].double().view(shape)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
''',
    },
    "02_ddpm.posterior_mean_variance": {
        "beta_k where beta-tilde belongs": '''
import torch
def posterior_mean_variance(x0, x_k, k, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    beta, alpha = schedule.betas[k].view(shape), schedule.alphas[k].view(shape)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k - 1].view(shape)
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * x_k
    return mean, beta
''',
        "alpha_bar_k where alpha_bar_(k-1) belongs": '''
import torch
def posterior_mean_variance(x0, x_k, k, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    beta, alpha = schedule.betas[k].view(shape), schedule.alphas[k].view(shape)
    ab = schedule.alpha_bars[k].view(shape)
    mean = ab.sqrt() * beta / (1 - ab) * x0 + alpha.sqrt() * (1 - ab) / (1 - ab) * x_k
    return mean, beta
''',
        "coefficients of x_0 and x_k swapped": '''
import torch
def posterior_mean_variance(x0, x_k, k, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    beta, alpha = schedule.betas[k].view(shape), schedule.alphas[k].view(shape)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k - 1].view(shape)
    mean = ab_prev.sqrt() * beta / (1 - ab) * x_k + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * x0
    return mean, (1 - ab_prev) / (1 - ab) * beta
''',
        "alpha_k without its square root": '''
import torch
def posterior_mean_variance(x0, x_k, k, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    beta, alpha = schedule.betas[k].view(shape), schedule.alphas[k].view(shape)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k - 1].view(shape)
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + alpha * (1 - ab_prev) / (1 - ab) * x_k
    return mean, (1 - ab_prev) / (1 - ab) * beta
''',
        "standard deviation returned as the variance": '''
import torch
def posterior_mean_variance(x0, x_k, k, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    beta, alpha = schedule.betas[k].view(shape), schedule.alphas[k].view(shape)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k - 1].view(shape)
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * x_k
    return mean, ((1 - ab_prev) / (1 - ab) * beta).sqrt()
''',
        "the first sample's level for the whole batch": '''
import torch
def posterior_mean_variance(x0, x_k, k, schedule):
    k = k[0]
    beta, alpha = schedule.betas[k], schedule.alphas[k]
    ab, ab_prev = schedule.alpha_bars[k], schedule.alpha_bars[k - 1]
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * x_k
    return mean, (1 - ab_prev) / (1 - ab) * beta
''',
    },
    "02_ddpm.diffusion_loss": {
        "regresses x_0 instead of the noise": '''
import torch
def diffusion_loss(denoiser, x0, schedule, k, noise):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    ab = schedule.alpha_bars[k].view(shape)
    x_k = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((denoiser(x_k, k) - x0) ** 2).mean()
''',
        "the denoiser sees x_0 instead of x_k": '''
import torch
def diffusion_loss(denoiser, x0, schedule, k, noise):
    return ((denoiser(x0, k) - noise) ** 2).mean()
''',
        "corruption without square roots": '''
import torch
def diffusion_loss(denoiser, x0, schedule, k, noise):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    ab = schedule.alpha_bars[k].view(shape)
    x_k = ab * x0 + (1 - ab) * noise
    return ((denoiser(x_k, k) - noise) ** 2).mean()
''',
        "sum instead of mean": '''
import torch
def diffusion_loss(denoiser, x0, schedule, k, noise):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    ab = schedule.alpha_bars[k].view(shape)
    x_k = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((denoiser(x_k, k) - noise) ** 2).sum()
''',
        "the denoiser is told level k - 1": '''
import torch
def diffusion_loss(denoiser, x0, schedule, k, noise):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    ab = schedule.alpha_bars[k].view(shape)
    x_k = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((denoiser(x_k, k - 1) - noise) ** 2).mean()
''',
        "absolute error instead of squared error": '''
import torch
def diffusion_loss(denoiser, x0, schedule, k, noise):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    ab = schedule.alpha_bars[k].view(shape)
    x_k = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return (denoiser(x_k, k) - noise).abs().mean()
''',
        "returns a Python float": '''
import torch
def diffusion_loss(denoiser, x0, schedule, k, noise):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    ab = schedule.alpha_bars[k].view(shape)
    x_k = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((denoiser(x_k, k) - noise) ** 2).mean().item()
''',
    },
    "02_ddpm.ancestral_step": {
        "beta_k where beta-tilde belongs, noise at k = 1 too": '''
import torch
def ancestral_step(x_k, k, eps_prediction, schedule, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    beta, alpha, ab = schedule.betas[k].view(shape), schedule.alphas[k].view(shape), schedule.alpha_bars[k].view(shape)
    mean = (x_k - beta / (1 - ab).sqrt() * eps_prediction) / alpha.sqrt()
    return mean + beta.sqrt() * noise
''',
        "beta_k where beta-tilde belongs": '''
import torch
def ancestral_step(x_k, k, eps_prediction, schedule, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    beta, alpha, ab = schedule.betas[k].view(shape), schedule.alphas[k].view(shape), schedule.alpha_bars[k].view(shape)
    mean = (x_k - beta / (1 - ab).sqrt() * eps_prediction) / alpha.sqrt()
    return mean + (k > 1).float().view(shape) * beta.sqrt() * noise
''',
        "variance used as the standard deviation": '''
import torch
def ancestral_step(x_k, k, eps_prediction, schedule, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    beta, alpha = schedule.betas[k].view(shape), schedule.alphas[k].view(shape)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k - 1].view(shape)
    mean = (x_k - beta / (1 - ab).sqrt() * eps_prediction) / alpha.sqrt()
    return mean + (1 - ab_prev) / (1 - ab) * beta * noise
''',
        "sqrt(1 - alpha_bar) where beta / sqrt(1 - alpha_bar) belongs": '''
import torch
def ancestral_step(x_k, k, eps_prediction, schedule, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    beta, alpha = schedule.betas[k].view(shape), schedule.alphas[k].view(shape)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k - 1].view(shape)
    mean = (x_k - (1 - ab).sqrt() * eps_prediction) / alpha.sqrt()
    return mean + ((1 - ab_prev) / (1 - ab) * beta).sqrt() * noise
''',
        "sign error in the mean": '''
import torch
def ancestral_step(x_k, k, eps_prediction, schedule, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    beta, alpha = schedule.betas[k].view(shape), schedule.alphas[k].view(shape)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k - 1].view(shape)
    mean = (x_k + beta / (1 - ab).sqrt() * eps_prediction) / alpha.sqrt()
    return mean + ((1 - ab_prev) / (1 - ab) * beta).sqrt() * noise
''',
        "divides by alpha_k instead of its square root": '''
import torch
def ancestral_step(x_k, k, eps_prediction, schedule, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    beta, alpha = schedule.betas[k].view(shape), schedule.alphas[k].view(shape)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k - 1].view(shape)
    mean = (x_k - beta / (1 - ab).sqrt() * eps_prediction) / alpha
    return mean + ((1 - ab_prev) / (1 - ab) * beta).sqrt() * noise
''',
        "returns the guess of x_0 plus noise": '''
import torch
def ancestral_step(x_k, k, eps_prediction, schedule, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    beta = schedule.betas[k].view(shape)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k - 1].view(shape)
    x0_hat = (x_k - (1 - ab).sqrt() * eps_prediction) / ab.sqrt()
    return x0_hat + ((1 - ab_prev) / (1 - ab) * beta).sqrt() * noise
''',
        "the first sample's level for the whole batch": '''
import torch
def ancestral_step(x_k, k, eps_prediction, schedule, noise):
    k = int(k[0])
    beta, alpha = schedule.betas[k], schedule.alphas[k]
    ab, ab_prev = schedule.alpha_bars[k], schedule.alpha_bars[k - 1]
    mean = (x_k - beta / (1 - ab).sqrt() * eps_prediction) / alpha.sqrt()
    return mean + (((1 - ab_prev) / (1 - ab) * beta).sqrt() * noise if k > 1 else 0)
''',
    },
    "02_ddpm.ddim_step": {
        "eta ignored (always deterministic)": '''
import torch
def ddim_step(x_k, k, k_prev, eps_prediction, schedule, eta, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k_prev].view(shape)
    x0_hat = (x_k - (1 - ab).sqrt() * eps_prediction) / ab.sqrt()
    return ab_prev.sqrt() * x0_hat + (1 - ab_prev).sqrt() * eps_prediction
''',
        "sigma squared not taken from the direction term": '''
import torch
def ddim_step(x_k, k, k_prev, eps_prediction, schedule, eta, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k_prev].view(shape)
    x0_hat = (x_k - (1 - ab).sqrt() * eps_prediction) / ab.sqrt()
    sigma = eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).sqrt()
    return ab_prev.sqrt() * x0_hat + (1 - ab_prev).sqrt() * eps_prediction + sigma * noise
''',
        "sigma without its second square-root factor": '''
import torch
def ddim_step(x_k, k, k_prev, eps_prediction, schedule, eta, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k_prev].view(shape)
    x0_hat = (x_k - (1 - ab).sqrt() * eps_prediction) / ab.sqrt()
    sigma = eta * ((1 - ab_prev) / (1 - ab)).sqrt()
    return ab_prev.sqrt() * x0_hat + (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps_prediction + sigma * noise
''',
        "x0 guessed with the target level's alpha_bar": '''
import torch
def ddim_step(x_k, k, k_prev, eps_prediction, schedule, eta, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k_prev].view(shape)
    x0_hat = (x_k - (1 - ab_prev).sqrt() * eps_prediction) / ab_prev.sqrt()
    sigma = eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).sqrt()
    return ab_prev.sqrt() * x0_hat + (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps_prediction + sigma * noise
''',
        "x_k where the guess of x_0 belongs": '''
import torch
def ddim_step(x_k, k, k_prev, eps_prediction, schedule, eta, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k_prev].view(shape)
    sigma = eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).sqrt()
    return ab_prev.sqrt() * x_k + (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps_prediction + sigma * noise
''',
        "variances where standard deviations belong in the guess of x_0": '''
import torch
def ddim_step(x_k, k, k_prev, eps_prediction, schedule, eta, noise):
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    ab, ab_prev = schedule.alpha_bars[k].view(shape), schedule.alpha_bars[k_prev].view(shape)
    x0_hat = (x_k - (1 - ab) * eps_prediction) / ab
    sigma = eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).sqrt()
    return ab_prev.sqrt() * x0_hat + (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps_prediction + sigma * noise
''',
        "the first sample's levels for the whole batch": '''
import torch
def ddim_step(x_k, k, k_prev, eps_prediction, schedule, eta, noise):
    ab, ab_prev = schedule.alpha_bars[k[0]], schedule.alpha_bars[k_prev[0]]
    x0_hat = (x_k - (1 - ab).sqrt() * eps_prediction) / ab.sqrt()
    sigma = eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).sqrt()
    return ab_prev.sqrt() * x0_hat + (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps_prediction + sigma * noise
''',
    },
}
