#!/usr/bin/python3
"""Export a score network from Python PyTorch as TorchScript, the way a score_sde user would.

The network predicts the noise eps of x_t = alpha x_0 + sigma eps and is conditioned on
sigma(t) labels. For data N(0, I) under VP, x_t ~ N(0, I) and E[eps | x_t] = sigma x_t, so the
network below, eps(x, sigma) = sigma * x, is exact: its score is -x. tests/unit/core/torchscript_model_test.cpp
loads the file with `noise` and `sigma` named and checks exactly that.

Usage: /usr/bin/python3 scripts/export_torchscript_example.py OUT.pt   (needs Debian's python3-torch)
"""
import sys

import torch


class SigmaTimesX(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gain = torch.nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return self.gain * label.view(-1, 1) * x


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: export_torchscript_example.py OUT.pt")
    torch.jit.script(SigmaTimesX()).save(sys.argv[1])


if __name__ == "__main__":
    main()
