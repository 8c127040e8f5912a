#!/usr/bin/python3
"""The Python side of bench_training_throughput: the same MLP, loss and optimizer step as
scoresde's Trainer, in PyTorch, timed the same way. Prints one line: `steps_per_second S`.

The model: Gaussian Fourier features of t (16 frequencies, scale 16), [x, features] -> 3 x
Linear(WIDTH = 128) + SiLU -> Linear(2); noise prediction. The loss: continuous DSM under VP
(beta 0.1 -> 20), sigma^2 weighting, summed over entries, mean over the batch. The step: Adam
(lr 2e-3 after a 100-step linear warm-up), gradient norm clipped to 1, EMA 0.995.
The data: the ring of 8 Gaussians (radius 4, std 0.2) scaled by 0.35.

Usage: /usr/bin/python3 bench/training_throughput.py STEPS BATCH THREADS [WIDTH]
"""
import math
import sys
import time

import torch


class Fourier(torch.nn.Module):
    def __init__(self, features=16, scale=16.0):
        super().__init__()
        self.register_buffer("frequencies", torch.randn(features) * scale)

    def forward(self, t):
        angle = t[:, None] * self.frequencies[None, :] * (2 * math.pi)
        return torch.cat([angle.sin(), angle.cos()], 1)


class Mlp(torch.nn.Module):
    def __init__(self, d=2, width=128, depth=3):
        super().__init__()
        self.embedding = Fourier()
        layers, width_in = [], d + 32
        for _ in range(depth):
            layers.append(torch.nn.Linear(width_in, width))
            width_in = width
        self.hidden = torch.nn.ModuleList(layers)
        self.output = torch.nn.Linear(width_in, d)

    def forward(self, x, t):
        h = torch.cat([x, self.embedding(t)], 1)
        for layer in self.hidden:
            h = torch.nn.functional.silu(layer(h))
        return self.output(h)


def vp_alpha_sigma(t, beta_min=0.1, beta_max=20.0):
    log_alpha = -0.25 * t * t * (beta_max - beta_min) - 0.5 * t * beta_min
    alpha = log_alpha.exp()
    return alpha, (1 - alpha * alpha).sqrt()


def ring(batch):
    k = torch.randint(0, 8, (batch,))
    angle = k * (2 * math.pi / 8)
    means = torch.stack([angle.cos(), angle.sin()], 1) * 4
    return (means + 0.2 * torch.randn(batch, 2)) * 0.35


def main():
    steps, batch, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    width = int(sys.argv[4]) if len(sys.argv) > 4 else 128
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = Mlp(width=width)
    ema = [p.detach().clone() for p in net.parameters()]
    adam = torch.optim.Adam(net.parameters(), lr=2e-3)

    def step(k):
        x0 = ring(batch)
        t = torch.rand(batch) * (1 - 1e-5) + 1e-5
        z = torch.randn_like(x0)
        alpha, sigma = vp_alpha_sigma(t)
        xt = alpha[:, None] * x0 + sigma[:, None] * z
        score = -net(xt, t) / sigma[:, None]
        loss = (score * sigma[:, None] + z).square().sum(1).mean()
        for group in adam.param_groups:
            group["lr"] = 2e-3 * min(1.0, (k + 1) / 100)
        adam.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        adam.step()
        with torch.no_grad():
            for e, p in zip(ema, net.parameters()):
                e.mul_(0.995).add_(p, alpha=0.005)

    for k in range(20):  # warm-up, as the C++ side
        step(k)
    start = time.perf_counter()
    for k in range(20, 20 + steps):
        step(k)
    print(f"steps_per_second {steps / (time.perf_counter() - start):.2f}")


if __name__ == "__main__":
    main()
