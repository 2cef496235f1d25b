"""Run by tests/test_train.py under ``torchrun --nproc_per_node=2``: trains a tiny model with
dfkit.train.train and writes what each rank ends with to ``<out>/rank<r>.safetensors``."""

import os
import sys

import torch
from safetensors.torch import save_file

from dfkit.train import TrainConfig, train


def main(out: str) -> None:
    rank = int(os.environ["RANK"])
    torch.manual_seed(100 + rank)  # different initial weights on purpose: DDP must broadcast rank 0's
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    initial = {f"initial/{k}": v.clone() for k, v in model.state_dict().items()}
    data = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))  # columns: 3 inputs, 1 target
    seen = []

    def loss_fn(model, batch, generator):
        seen.append(batch.clone())
        noise = 0.01 * torch.randn(batch.shape[0], 1, generator=generator)
        return (model(batch[:, :3]) - batch[:, 3:] - noise).pow(2).mean()

    config = TrainConfig(steps=6, batch_size=8, lr=1e-2, ema_decay=0.9, progress=False, device="cpu",
                         checkpoint_dir=os.path.join(out, "checkpoints"), checkpoint_every=3)
    result = train(model, loss_fn, data, config)
    tensors = {f"model/{k}": v for k, v in result.model.state_dict().items()}
    tensors.update({f"ema/{k}": v for k, v in result.ema_model.state_dict().items()})
    tensors.update(initial)
    tensors["batches"] = torch.stack(seen)
    tensors["losses"] = torch.tensor(result.losses)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, f"rank{rank}.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1])
