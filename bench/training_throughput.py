#!/usr/bin/python3
"""The Python side of bench_training_throughput: the same networks, loss and optimizer step as
scoresde's Trainer, in PyTorch, timed the same way. Prints `parameters P` and then
`steps_per_second S`.

The model: Gaussian Fourier features of t (16 frequencies, scale 16), [x, features] -> 3 x
Linear(WIDTH = 128) + SiLU -> Linear(2); noise prediction. The loss: continuous DSM under VP
(beta 0.1 -> 20), sigma^2 weighting, summed over entries, mean over the batch. The step: Adam
(lr 2e-3 after a 100-step linear warm-up), gradient norm clipped to 1, EMA 0.995.
The data: the ring of 8 Gaussians (radius 4, std 0.2) scaled by 0.35.

The U-Net mirrors src/nn/unet.cpp layer for layer (the parameter counts agree: 1112801 at the
defaults): channels 32, levels 1-2-2, one residual block per level, attention at 7x7, GroupNorm(8),
SiLU, skip rescale 1/sqrt 2, Fourier label embedding -> 2 linear layers; its data are 256 random
28x28 images in [-1, 1], rows drawn with replacement.

Usage: /usr/bin/python3 bench/training_throughput.py STEPS BATCH THREADS mlp|unet [WIDTH]
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


SKIP = 1 / math.sqrt(2)


def conv3x3(cin, cout, stride=1):
    return torch.nn.Conv2d(cin, cout, 3, stride=stride, padding=1)


class ResBlock(torch.nn.Module):
    def __init__(self, cin, cout, emb, groups=8):
        super().__init__()
        self.norm1, self.conv1 = torch.nn.GroupNorm(groups, cin), conv3x3(cin, cout)
        self.label = torch.nn.Linear(emb, cout)
        self.norm2, self.conv2 = torch.nn.GroupNorm(groups, cout), conv3x3(cout, cout)
        self.skip = torch.nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        silu = torch.nn.functional.silu
        h = self.conv1(silu(self.norm1(x))) + self.label(silu(emb))[:, :, None, None]
        h = self.conv2(silu(self.norm2(h)))
        return (h + (self.skip(x) if self.skip is not None else x)) * SKIP


class Attention(torch.nn.Module):
    def __init__(self, c, groups=8):
        super().__init__()
        self.norm, self.qkv, self.out = torch.nn.GroupNorm(groups, c), torch.nn.Conv2d(c, 3 * c, 1), torch.nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        weights = torch.softmax(torch.bmm(q.transpose(1, 2), k) / math.sqrt(c), -1)
        return (x + self.out(torch.bmm(v, weights.transpose(1, 2)).reshape(b, c, h, w))) * SKIP


class UNet(torch.nn.Module):
    def __init__(self, c0=32, mult=(1, 2, 2), attention=(7,), side=28):
        super().__init__()
        e = 4 * c0
        self.embedding, self.embed1, self.embed2 = Fourier(), torch.nn.Linear(32, e), torch.nn.Linear(e, e)
        self.input = conv3x3(1, c0)
        self.down, self.down_attn, self.downsample = torch.nn.ModuleList(), torch.nn.ModuleList(), torch.nn.ModuleList()
        skips, ch = [c0], c0
        for level, m in enumerate(mult):
            self.down.append(ResBlock(ch, c0 * m, e))
            ch = c0 * m
            self.down_attn.append(Attention(ch) if side in attention else torch.nn.Identity())
            skips.append(ch)
            if level + 1 < len(mult):
                self.downsample.append(conv3x3(ch, ch, 2))
                skips.append(ch)
                side //= 2
        self.mid1, self.mid_attn, self.mid2 = ResBlock(ch, ch, e), Attention(ch), ResBlock(ch, ch, e)
        self.up, self.up_attn, self.upsample = torch.nn.ModuleList(), torch.nn.ModuleList(), torch.nn.ModuleList()
        for level in reversed(range(len(mult))):
            for _ in range(2):
                self.up.append(ResBlock(ch + skips.pop(), c0 * mult[level], e))
                ch = c0 * mult[level]
                self.up_attn.append(Attention(ch) if side in attention else torch.nn.Identity())
            if level > 0:
                self.upsample.append(conv3x3(ch, ch))
                side *= 2
        self.out_norm, self.output = torch.nn.GroupNorm(8, ch), conv3x3(ch, 1)
        torch.nn.init.zeros_(self.output.weight)
        torch.nn.init.zeros_(self.output.bias)
        self.levels = len(mult)

    def forward(self, x, t):
        silu = torch.nn.functional.silu
        emb = self.embed2(silu(self.embed1(self.embedding(t))))
        skips = [self.input(x)]
        h = skips[-1]
        for level in range(self.levels):
            h = self.down_attn[level](self.down[level](h, emb))
            skips.append(h)
            if level + 1 < self.levels:
                h = self.downsample[level](h)
                skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        block = 0
        for level in reversed(range(self.levels)):
            for _ in range(2):
                h = self.up_attn[block](self.up[block](torch.cat([h, skips.pop()], 1), emb))
                block += 1
            if level > 0:
                h = self.upsample[self.levels - 1 - level](torch.nn.functional.interpolate(h, scale_factor=2, mode="nearest"))
        return self.output(silu(self.out_norm(h)))


def vp_alpha_sigma(t, beta_min=0.1, beta_max=20.0):
    log_alpha = -0.25 * t * t * (beta_max - beta_min) - 0.5 * t * beta_min
    alpha = log_alpha.exp()
    return alpha, (1 - alpha * alpha).sqrt()


def ring(batch):
    k = torch.randint(0, 8, (batch,))
    angle = k * (2 * math.pi / 8)
    means = torch.stack([angle.cos(), angle.sin()], 1) * 4
    return (means + 0.2 * torch.randn(batch, 2)) * 0.35


def images(batch, pool=torch.rand(256, 1, 28, 28) * 2 - 1):
    return pool[torch.randint(0, pool.shape[0], (batch,))]


def main():
    steps, batch, threads, model = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    width = int(sys.argv[5]) if len(sys.argv) > 5 else 128
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = Mlp(width=width) if model == "mlp" else UNet()
    data = ring if model == "mlp" else images
    print(f"parameters {sum(p.numel() for p in net.parameters())}", flush=True)
    ema = [p.detach().clone() for p in net.parameters()]
    adam = torch.optim.Adam(net.parameters(), lr=2e-3)

    def step(k):
        x0 = data(batch)
        t = torch.rand(batch) * (1 - 1e-5) + 1e-5
        z = torch.randn_like(x0)
        alpha, sigma = vp_alpha_sigma(t)
        shape = (-1,) + (1,) * (x0.dim() - 1)
        alpha, sigma = alpha.view(shape), sigma.view(shape)
        xt = alpha * x0 + sigma * z
        score = -net(xt, t) / sigma
        loss = (score * sigma + z).square().flatten(1).sum(1).mean()
        for group in adam.param_groups:
            group["lr"] = 2e-3 * min(1.0, (k + 1) / 100)
        adam.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        adam.step()
        with torch.no_grad():
            for e, p in zip(ema, net.parameters()):
                e.mul_(0.995).add_(p, alpha=0.005)

    warmup = 20 if model == "mlp" else 3  # as the C++ side
    for k in range(warmup):
        step(k)
    start = time.perf_counter()
    for k in range(warmup, warmup + steps):
        step(k)
    print(f"steps_per_second {steps / (time.perf_counter() - start):.2f}")


if __name__ == "__main__":
    main()
