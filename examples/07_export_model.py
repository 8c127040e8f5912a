#!/usr/bin/python3
"""Example 07, the Python half: train a score network in PyTorch and export it with TorchScript.

The network is written the way score_sde's code writes one: it predicts the noise eps of
x_t = alpha(t) x_0 + sigma(t) eps and takes the DDPM-style label 999 t. So on the C++ side it is
loaded with `noise` and `999t` named (07_torchscript_model.cpp, or
`scoresde sample --model OUT.pt --parameterization noise --conditioning 999t --shape 2`).

Data: the ring of 8 Gaussians (radius 4, std 0.2), divided by 4 so that the network sees inputs
of order 1; the C++ side multiplies its samples by 4.

Usage: /usr/bin/python3 examples/07_export_model.py OUT.pt [STEPS]   (needs Debian's python3-torch)
"""
import math
import sys

import torch

BETA_MIN, BETA_MAX = 0.1, 20.0  # score_sde's VP SDE


def alpha_sigma(t: torch.Tensor):
    log_alpha = -0.25 * t**2 * (BETA_MAX - BETA_MIN) - 0.5 * t * BETA_MIN
    alpha = torch.exp(log_alpha)
    return alpha, torch.sqrt(1.0 - alpha**2)


def ring(n: int, generator: torch.Generator) -> torch.Tensor:
    angle = torch.randint(0, 8, (n,), generator=generator) * (math.pi / 4)
    centres = torch.stack([angle.cos(), angle.sin()], 1) * 4
    return (centres + 0.2 * torch.randn(n, 2, generator=generator)) / 4


class NoisePredictor(torch.nn.Module):
    """MLP on (x, Fourier features of the label 999 t)."""

    def __init__(self, width: int = 128):
        super().__init__()
        self.register_buffer("freq", torch.randn(16, generator=torch.Generator().manual_seed(0)) * 16 / 999)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(2 + 32, width), torch.nn.SiLU(),
            torch.nn.Linear(width, width), torch.nn.SiLU(),
            torch.nn.Linear(width, width), torch.nn.SiLU(),
            torch.nn.Linear(width, 2))

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        phase = 2 * math.pi * label[:, None] * self.freq[None, :]
        return self.net(torch.cat([x, phase.sin(), phase.cos()], 1))


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: 07_export_model.py OUT.pt [STEPS]")
    steps = int(sys.argv[2]) if len(sys.argv) == 3 else 3000
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    model = NoisePredictor()
    ema = NoisePredictor()  # the exponential moving average of the weights is what we export
    ema.load_state_dict(model.state_dict())
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for step in range(steps):
        x0 = ring(512, generator)
        t = torch.rand(512, generator=generator) * (1 - 1e-3) + 1e-3
        eps = torch.randn(512, 2, generator=generator)
        alpha, sigma = alpha_sigma(t)
        xt = alpha[:, None] * x0 + sigma[:, None] * eps
        loss = (model(xt, 999 * t) - eps).square().sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for average, weight in zip(ema.parameters(), model.parameters()):
                average.mul_(0.995).add_(weight, alpha=0.005)
        if (step + 1) % max(1, steps // 5) == 0:
            print(f"python: step {step + 1}/{steps}  loss {loss.item():.4f}", flush=True)
    ema.eval()
    example = (torch.zeros(4, 2), torch.full((4,), 500.0))
    torch.jit.trace(ema, example).save(sys.argv[1])
    print(f"python: wrote {sys.argv[1]}")


if __name__ == "__main__":
    main()
