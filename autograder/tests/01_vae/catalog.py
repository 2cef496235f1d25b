"""Plausible wrong answers to the 01_vae exercises; each must fail at least one test.

``WRONG[question][label]`` is the source of a graded cell, as a student might write it.
"""

WRONG = {
    "01_vae.reparameterize": {
        "exp(logvar) as the standard deviation": '''
import torch
def reparameterize(mu, logvar, noise):
    return mu + torch.exp(logvar) * noise
''',
        "logvar used as the standard deviation": '''
def reparameterize(mu, logvar, noise):
    return mu + logvar * noise
''',
        "square root of exp(logvar) overflows": '''
import torch
def reparameterize(mu, logvar, noise):
    return mu + torch.sqrt(torch.exp(logvar)) * noise
''',
        "fresh noise instead of the given one": '''
import torch
def reparameterize(mu, logvar, noise):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
''',
        "noise added without the scale": '''
def reparameterize(mu, logvar, noise):
    return mu + noise
''',
        "always float32": '''
import torch
def reparameterize(mu, logvar, noise):
    return (mu + torch.exp(0.5 * logvar) * noise).float()
''',
    },
    "01_vae.gaussian_kl": {
        "no factor one half": '''
def gaussian_kl(mu, logvar):
    return (mu**2 + logvar.exp() - 1 - logvar).flatten(1).sum(dim=1)
''',
        "sigma where sigma squared belongs": '''
def gaussian_kl(mu, logvar):
    return 0.5 * (mu**2 + (0.5 * logvar).exp() - 1 - logvar).flatten(1).sum(dim=1)
''',
        "mean over the latent dimensions": '''
def gaussian_kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).flatten(1).mean(dim=1)
''',
        "sign flipped": '''
def gaussian_kl(mu, logvar):
    return -0.5 * (mu**2 + logvar.exp() - 1 - logvar).flatten(1).sum(dim=1)
''',
        "summed over the last dimension only": '''
def gaussian_kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)
''',
        "summed over the batch too": '''
def gaussian_kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum()
''',
        "log of exp(logvar) underflows": '''
import torch
def gaussian_kl(mu, logvar):
    var = torch.exp(logvar)
    return 0.5 * (mu**2 + var - 1 - torch.log(var)).flatten(1).sum(dim=1)
''',
        "no minus one": '''
def gaussian_kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - logvar).flatten(1).sum(dim=1)
''',
    },
    "01_vae.gaussian_log_likelihood": {
        "no log 2 pi": '''
import torch
def gaussian_log_likelihood(x, mean, log_scale):
    log_scale = torch.as_tensor(log_scale, dtype=x.dtype)
    per_dim = -0.5 * ((x - mean) / torch.exp(log_scale)) ** 2 - log_scale
    return per_dim.expand_as(x).flatten(1).sum(dim=1)
''',
        "log_scale read as a log-variance": '''
import math
import torch
def gaussian_log_likelihood(x, mean, log_scale):
    log_scale = torch.as_tensor(log_scale, dtype=x.dtype)
    per_dim = -0.5 * (x - mean) ** 2 / torch.exp(log_scale) - 0.5 * log_scale - 0.5 * math.log(2 * math.pi)
    return per_dim.expand_as(x).flatten(1).sum(dim=1)
''',
        "divided by sigma instead of sigma squared": '''
import math
import torch
def gaussian_log_likelihood(x, mean, log_scale):
    log_scale = torch.as_tensor(log_scale, dtype=x.dtype)
    per_dim = -0.5 * (x - mean) ** 2 / torch.exp(log_scale) - log_scale - 0.5 * math.log(2 * math.pi)
    return per_dim.expand_as(x).flatten(1).sum(dim=1)
''',
        "normalizer counted once per example": '''
import math
import torch
def gaussian_log_likelihood(x, mean, log_scale):
    log_scale = torch.as_tensor(log_scale, dtype=x.dtype)
    squares = (-0.5 * ((x - mean) / torch.exp(log_scale)) ** 2).flatten(1).sum(dim=1)
    return squares - log_scale.flatten()[0] - 0.5 * math.log(2 * math.pi)
''',
        "mean over dimensions": '''
import math
import torch
def gaussian_log_likelihood(x, mean, log_scale):
    log_scale = torch.as_tensor(log_scale, dtype=x.dtype)
    per_dim = -0.5 * ((x - mean) / torch.exp(log_scale)) ** 2 - log_scale - 0.5 * math.log(2 * math.pi)
    return per_dim.expand_as(x).flatten(1).mean(dim=1)
''',
        "sign flipped (the loss, not the log-likelihood)": '''
import math
import torch
def gaussian_log_likelihood(x, mean, log_scale):
    log_scale = torch.as_tensor(log_scale, dtype=x.dtype)
    per_dim = 0.5 * ((x - mean) / torch.exp(log_scale)) ** 2 + log_scale + 0.5 * math.log(2 * math.pi)
    return per_dim.expand_as(x).flatten(1).sum(dim=1)
''',
        "only a number for log_scale": '''
import math
import torch
def gaussian_log_likelihood(x, mean, log_scale):
    sigma = math.exp(float(log_scale))
    per_dim = -0.5 * ((x - mean) / sigma) ** 2 - float(log_scale) - 0.5 * math.log(2 * math.pi)
    return per_dim.flatten(1).sum(dim=1)
''',
    },
    "01_vae.bernoulli_log_likelihood": {
        "log of sigmoid overflows": '''
import torch
def bernoulli_log_likelihood(x, logits):
    p = torch.sigmoid(logits)
    return (x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(dim=1)
''',
        "log of sigmoid with an epsilon": '''
import torch
def bernoulli_log_likelihood(x, logits):
    p = torch.sigmoid(logits)
    return (x * torch.log(p + 1e-8) + (1 - x) * torch.log(1 - p + 1e-8)).flatten(1).sum(dim=1)
''',
        "binary_cross_entropy on probabilities clamps at -100": '''
import torch
import torch.nn.functional as F
def bernoulli_log_likelihood(x, logits):
    return -F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(dim=1)
''',
        "softplus that overflows": '''
import torch
def bernoulli_log_likelihood(x, logits):
    return (x * logits - torch.log(1 + torch.exp(logits))).flatten(1).sum(dim=1)
''',
        "sign flipped (the loss, not the log-likelihood)": '''
import torch.nn.functional as F
def bernoulli_log_likelihood(x, logits):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(dim=1)
''',
        "mean over pixels": '''
import torch.nn.functional as F
def bernoulli_log_likelihood(x, logits):
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).mean(dim=1)
''',
        "logits taken for probabilities": '''
import torch
def bernoulli_log_likelihood(x, logits):
    return (x * torch.log(logits) + (1 - x) * torch.log(1 - logits)).flatten(1).sum(dim=1)
''',
    },
}
