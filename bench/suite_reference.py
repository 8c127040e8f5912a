#!/usr/bin/python3
"""DPM-Solver's own DPM-Solver++(2M)/(3M) on a problem of scoresde's suite, for the side-by-side
quality comparison of docs/solvers.md (issue 17's target: our dpmpp-3m no worse than theirs).

The mixture comes from `bench_solver_suite --dump DIR`; the exact VP score is the one of
bench/reference_comparison.py (float32, the same algorithm as ours); DPM-Solver runs with its
multistep defaults (logSNR grid, lower_order_final, t_end = 1e-3, no final denoising). The samples
go to --out; `bench_solver_suite --problems NAME --score OUT` measures them against the same exact
reference set as our solvers. The reference code is read from a clone given by path, never copied.

Usage: /usr/bin/python3 bench/suite_reference.py --mixture DIR/NAME.json --dpm-solver PATH
           --order 3 --steps 10 [--n 20000] [--seed 1] --out samples.npy
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mixture", required=True)
    parser.add_argument("--dpm-solver", required=True, help="a clone of github.com/LuChengTHU/DPM-Solver")
    parser.add_argument("--order", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print(f"suite_reference: skipped: {e} (apt install python3-torch)")
        sys.exit(77)
    from reference_comparison import BETA_MAX, BETA_MIN, make_mixture_score
    sys.path.insert(0, args.dpm_solver)
    import dpm_solver_pytorch as dpm

    torch.set_num_threads(1)
    with open(args.mixture) as f:
        mixture = json.load(f)
    exact = make_mixture_score(torch, mixture)
    schedule = dpm.NoiseScheduleVP("linear", continuous_beta_0=BETA_MIN, continuous_beta_1=BETA_MAX)
    model_fn = dpm.model_wrapper(lambda x, t: exact.score(x, t), schedule, model_type="score")
    solver = dpm.DPM_Solver(model_fn, schedule, algorithm_type="dpmsolver++")
    torch.manual_seed(args.seed)
    x = torch.randn(args.n, len(mixture["means"][0]))
    with torch.no_grad():
        x = solver.sample(x, steps=args.steps, order=args.order, skip_type="logSNR", method="multistep",
                          lower_order_final=True, t_end=1e-3)
    np.save(args.out, x.float().numpy())
    print(json.dumps({"out": args.out, "steps": args.steps, "order": args.order}))


if __name__ == "__main__":
    main()
