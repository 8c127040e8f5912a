#!/usr/bin/python3
"""scoresde against the Python reference code, side by side in one run.

The reference samplers are score_sde_pytorch's `pc_sampler` (Euler-Maruyama; reverse diffusion +
Langevin) and `ode_sampler` (scipy's RK45), and DPM-Solver's `DPM_Solver` (DPM-Solver++ multistep
2M/3M and its adaptive solver), read from clones given by path; nothing of them is part of this
project. Our side is the `scoresde sample` program. For every row, each repeat runs one process
per side, the two sides alternating (which one goes first alternates too), with the same thread
count; the table gives the best wall time of each side over the repeats (the other repeats are in
the CSV), the NFE, and the quality of the samples against exact samples of the target, computed
here for both sides in the same way.

Problems:
  (a) exact Gaussian-mixture scores: the 2-D ring of 8 (data/ring8.json), the 16-D anisotropic
      mixture (data/aniso16.json) and a 32-D mixture of 8 isotropic components; both sides
      compute the score in float32 with the same algorithm (components diagonalised once, a
      [K, D, B] layout), so the comparison is of everything around it;
  (b) TorchScript networks, the same file on both sides: the MLP that examples/07_export_model.py
      trains and exports, and the U-Net of bench/training_throughput.py exported with
      torch.jit.trace (untrained but for a small random output layer: only its cost matters).

The ODE rows compare at equal accuracy, not equal tolerance: each side's samples are compared
with a tight solve (rtol = atol = 1e-9) of its own from the same prior draws, and the RMS
distance is the error; several tolerances per side give the NFE/time each needs for an error.

Usage:
  /usr/bin/python3 bench/reference_comparison.py --scoresde BUILD/cli/scoresde \
      --score-sde PATH/score_sde_pytorch --dpm-solver PATH/dpm-solver [--repeats 3] [--threads 1]
      [--only exact|network|ode|allocator] [--quick] [--csv FILE] [--work DIR]

Exit 77 (skipped) with a message when python3-torch or scipy or a reference clone is missing.
"""
import argparse
import csv
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BETA_MIN, BETA_MAX = 0.1, 20.0


def skip(message):
    print(f"reference_comparison: skipped: {message}")
    sys.exit(77)


# ---------------------------------------------------------------- the problems

def iso32_mixture():
    """8 isotropic components (std 0.2) on a ring of radius 4 spread over the 32 axes."""
    d, k = 32, 8
    means = []
    for i in range(k):
        m = [0.0] * d
        m[i % d] = 4.0 * math.cos(2 * math.pi * i / k)
        m[(i + 1) % d] += 4.0 * math.sin(2 * math.pi * i / k)
        means.append(m)
    covs = [[[0.04 if r == c else 0.0 for c in range(d)] for r in range(d)] for _ in range(k)]
    return {"name": "32-D, 8 isotropic components", "weights": [1.0 / k] * k, "means": means, "covs": covs}


def scaled_mixture(mixture, scale):
    """The mixture of scale * X."""
    return {"weights": mixture["weights"],
            "means": [[scale * v for v in m] for m in mixture["means"]],
            "covs": [[[scale * scale * v for v in row] for row in c] for c in mixture["covs"]]}


# ---------------------------------------------------------------- the Python side (a worker process)

def vp_alpha_sigma(t):
    log_alpha = -0.25 * t * t * (BETA_MAX - BETA_MIN) - 0.5 * t * BETA_MIN
    alpha = log_alpha.exp()
    return alpha, (1 - alpha * alpha).sqrt()


def make_mixture_score(torch, mixture):
    """The exact score of the VP-perturbed mixture, float32, as scoresde computes it."""

    class MixtureScore(torch.nn.Module):
        def __init__(self):
            super().__init__()
            covs = torch.tensor(mixture["covs"], dtype=torch.float64)
            self.log_w = torch.tensor(mixture["weights"], dtype=torch.float64).log().float()
            self.mu = torch.tensor(mixture["means"], dtype=torch.float64).float()
            diagonal = bool((covs - torch.diag_embed(torch.diagonal(covs, dim1=1, dim2=2))).abs().max() == 0)
            if diagonal:
                self.basis, self.lam = None, torch.diagonal(covs, dim1=1, dim2=2).float()
            else:
                lam, basis = torch.linalg.eigh(covs)
                self.basis, self.lam = basis.float(), lam.float()
            self.d = self.mu.shape[1]

        def score(self, x, t):
            """x [B, D] (any trailing shape flattened), t [B] -> s(x, t) of x's shape."""
            shape = x.shape
            xt = x.reshape(shape[0], -1).t().contiguous().unsqueeze(0)        # [1, D, B]
            tc = t[:1] if bool(t.min() == t.max()) else t
            alpha, sigma = vp_alpha_sigma(tc.double())
            a, s = alpha.float().view(1, 1, -1), sigma.float().view(1, 1, -1)
            diff = xt - a * self.mu.unsqueeze(2)                               # [K, D, B]
            z = diff if self.basis is None else torch.bmm(self.basis.transpose(1, 2), diff)
            var = a * a * self.lam.unsqueeze(2) + s * s
            y = z / var
            log_joint = -0.5 * ((z * y).sum(1) + var.log().sum(1) + self.d * 1.8378770664093453) + self.log_w[:, None]
            ry = torch.softmax(log_joint, 0).unsqueeze(1) * y
            out = ry.sum(0) if self.basis is None else torch.bmm(self.basis, ry).sum(0)
            return (-out).t().reshape(shape)

    return MixtureScore()


class Flat4d:
    """score_sde's samplers index by [:, None, None, None]: flat data travel as [B, D, 1, 1]."""

    def __init__(self, module, sample_shape, calls):
        self.module, self.sample_shape, self.calls = module, sample_shape, calls

    def eval(self):
        return self

    def __call__(self, x, labels):
        self.calls[0] += 1
        b = x.shape[0]
        return self.module(x.reshape((b,) + self.sample_shape), labels).reshape(x.shape)


def worker(spec):
    import numpy as np
    import torch
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    shape = tuple(spec["sample_shape"])
    n = spec["n"]
    exact = None
    if "mixture" in spec:
        with open(spec["mixture"]) as f:
            exact = make_mixture_score(torch, json.load(f))
    else:
        network = torch.jit.load(spec["network"])
        network.eval()
    if spec["side"] == "score_sde":
        sys.path.insert(0, spec["score_sde"])
        import sampling
        import sde_lib
        calls = [0]  # score evaluations, counted (pc_sampler reports N (n_steps + 1) even without a corrector)
        if exact is not None:  # the exact score is the score: no network wrapper around it
            def score_fn(x, t):
                calls[0] += 1
                return exact.score(x, t)
            patched = lambda sde, model, train=False, continuous=False: score_fn
            sampling.get_score_fn = patched
            sampling.mutils.get_score_fn = patched
            model = None
        else:
            model = Flat4d(network, shape, calls)
        sde = sde_lib.VPSDE(beta_min=BETA_MIN, beta_max=BETA_MAX, N=spec["steps"])
        batch = (n, int(np.prod(shape)), 1, 1) if len(shape) == 1 else (n,) + shape
        if spec["method"] == "ode":
            sampler = sampling.get_ode_sampler(sde, batch, lambda x: x, denoise=False, rtol=spec["tol"],
                                               atol=spec["tol"], method="RK45", eps=1e-3, device="cpu")
            z = torch.randn(batch)
            start = time.perf_counter()
            x, _ = sampler(model, z=z)
        else:
            predictor = sampling.EulerMaruyamaPredictor if spec["method"] == "em" else sampling.ReverseDiffusionPredictor
            corrector = sampling.NoneCorrector if spec["method"] == "em" else sampling.LangevinCorrector
            sampler = sampling.get_pc_sampler(sde, batch, predictor, corrector, lambda x: x, snr=0.16, n_steps=1,
                                              probability_flow=False, continuous=True, denoise=True, eps=1e-3,
                                              device="cpu")
            start = time.perf_counter()
            x, _ = sampler(model)
    else:  # DPM-Solver
        sys.path.insert(0, spec["dpm_solver"])
        import dpm_solver_pytorch as dpm
        schedule = dpm.NoiseScheduleVP("linear", continuous_beta_0=BETA_MIN, continuous_beta_1=BETA_MAX)
        calls = [0]
        if exact is not None:
            def model(x, t):
                calls[0] += 1
                return exact.score(x, t)
            model_fn = dpm.model_wrapper(model, schedule, model_type="score")
        else:
            def model(x, t):
                calls[0] += 1
                return network(x, 999 * t)  # the network takes the label 999 t
            model_fn = dpm.model_wrapper(model, schedule, model_type="noise")
        solver = dpm.DPM_Solver(model_fn, schedule, algorithm_type="dpmsolver++")
        x = torch.randn((n,) + shape)
        start = time.perf_counter()
        with torch.no_grad():
            if spec["method"] == "dpm-adaptive":
                x = solver.sample(x, order=3, method="adaptive", t_end=1e-3, rtol=spec["tol"], atol=0.0078)
            else:
                x = solver.sample(x, steps=spec["steps"], order=spec["order"], skip_type="logSNR",
                                  method="multistep", lower_order_final=True, t_end=1e-3)
    seconds = time.perf_counter() - start
    nfe = calls[0]
    np.save(spec["out"], x.reshape((n,) + shape).float().numpy())
    print(json.dumps({"seconds": seconds, "nfe": int(nfe)}))


# ---------------------------------------------------------------- running both sides

def run_child(command, env=None):
    """Runs a command; returns (stdout, wall, user, sys, minor faults, max RSS MB) of the child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return {"stdout": proc.stdout, "process_wall": wall, "user": after.ru_utime - before.ru_utime,
            "sys": after.ru_stime - before.ru_stime, "faults": after.ru_minflt - before.ru_minflt,
            "rss_mb": after.ru_maxrss / 1024.0}


PYTHON_ENV = None  # the Python side's environment: its allocator (main sets it)


def run_python(spec):
    child = run_child([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)], PYTHON_ENV)
    result = json.loads(child["stdout"].strip().splitlines()[-1])
    child.update(result)
    return child


def run_ours(args, spec, extra):
    out = spec["out"]
    command = [args.scoresde, "sample", "--n", str(spec["n"]), "--seed", str(spec["seed"]), "--threads",
               str(args.threads), "--out", out] + extra
    if "mixture" in spec:
        command += ["--target", spec["mixture"], "--sde", "vp"]
    else:
        command += ["--model", spec["network"], "--sde", "vp", "--parameterization", "noise", "--conditioning",
                    "999t", "--shape", ",".join(str(v) for v in spec["sample_shape"])]
    child = run_child(command)
    with open(os.path.splitext(out)[0] + ".json") as f:
        summary = json.load(f)
    child.update({"seconds": summary["seconds"], "nfe": summary["nfe"]})
    return child


def sliced_w2(np, x, y, projections=64, seed=0):
    """Sliced 2-Wasserstein distance between equal-sized samples, fixed directions."""
    x, y = x.reshape(len(x), -1).astype(np.float64), y.reshape(len(y), -1).astype(np.float64)
    n = min(len(x), len(y))
    directions = np.random.default_rng(seed).standard_normal((x.shape[1], projections))
    directions /= np.linalg.norm(directions, axis=0)
    px, py = np.sort(x[:n] @ directions, axis=0), np.sort(y[:n] @ directions, axis=0)
    return float(np.sqrt(np.mean((px - py) ** 2)))


def exact_samples(np, mixture, n, seed):
    rng = np.random.default_rng(seed)
    w = np.array(mixture["weights"])
    k = rng.choice(len(w), size=n, p=w / w.sum())
    chol = np.linalg.cholesky(np.array(mixture["covs"]))
    z = rng.standard_normal((n, len(mixture["means"][0])))
    return np.array(mixture["means"])[k] + np.einsum("bij,bj->bi", chol[k], z)


class Table:
    def __init__(self, csv_path):
        self.rows, self.csv_path = [], csv_path

    def add(self, **row):
        self.rows.append(row)
        if self.csv_path:
            with open(self.csv_path, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=sorted({k for r in self.rows for k in r}))
                writer.writeheader()
                writer.writerows(self.rows)


def compare(args, table, np, problem, label, ours_extra, python_spec, quality, repeats):
    """One row: both sides `repeats` times, alternating; prints the best walls and quality."""
    best = {}
    for r in range(repeats):
        order = ["ours", "python"] if r % 2 == 0 else ["python", "ours"]
        for side in order:
            out = os.path.join(args.work, f"{side}.npy")
            spec = dict(python_spec, out=out)
            result = run_ours(args, spec, ours_extra) if side == "ours" else run_python(spec)
            result["quality"] = quality(np.load(out))
            table.add(problem=problem, row=label, side=side, repeat=r, seconds=result["seconds"],
                      process_wall=result["process_wall"], user=result["user"], sys=result["sys"],
                      faults=result["faults"], rss_mb=result["rss_mb"], nfe=result["nfe"], quality=result["quality"])
            if side not in best or result["seconds"] < best[side]["seconds"]:
                best[side] = result
    o, p = best["ours"], best["python"]
    print(f"| {problem} | {label} | {o['nfe']} | {o['seconds']:.3g} | {o['quality']:.4f} | {p['nfe']} | "
          f"{p['seconds']:.3g} | {p['quality']:.4f} | **{p['seconds'] / o['seconds']:.2f}x** |", flush=True)
    return best


def header(title, quality_name):
    print(f"\n{title}\n\n| problem | row | NFE ours | s ours | {quality_name} ours | NFE Python | s Python | "
          f"{quality_name} Python | speed-up |\n|---|---|---:|---:|---:|---:|---:|---:|---:|", flush=True)


# ---------------------------------------------------------------- the sections

def exact_section(args, table, np, problems):
    header("Exact mixture scores (float32, batch %d, %d thread(s); sampling seconds, best of %d)"
           % (args.n, args.threads, args.repeats), "sliced W2")
    for name, path, mixture in problems:
        reference = exact_samples(np, mixture, args.n, seed=1)
        # The floor: exact samples against the reference, over seeds. With well separated modes it
        # is wide (the ring at 20000 samples: 0.136 +- 0.026), as the number of samples per mode
        # fluctuates; two sides within it sample equally well.
        floors = [sliced_w2(np, exact_samples(np, mixture, args.n, seed=s), reference) for s in range(10, 15)]
        floor = f"{np.mean(floors):.3f} +- {np.std(floors):.3f}"
        quality = lambda x: sliced_w2(np, x, reference)
        base = {"mixture": path, "sample_shape": [len(mixture["means"][0])], "n": args.n, "seed": 3,
                "threads": args.threads, "score_sde": args.score_sde, "dpm_solver": args.dpm_solver}
        steps = 200 if args.quick else 1000
        compare(args, table, np, name, f"EM {steps} (floor {floor})", ["--solver", "em", "--steps", str(steps)],
                dict(base, side="score_sde", method="em", steps=steps), quality, args.repeats)
        if not args.quick:
            compare(args, table, np, name, f"RD + Langevin {steps}",
                    ["--solver", "pc", "--steps", str(steps), "--predictor", "reverse-diffusion", "--corrector",
                     "langevin", "--snr", "0.16", "--step-size", "batch-mean"],
                    dict(base, side="score_sde", method="pc", steps=steps), quality, args.repeats)
        for order, steps in ((2, 10), (2, 20), (3, 10), (3, 20)):
            compare(args, table, np, name, f"DPM-Solver++({order}M) {steps}",
                    ["--solver", f"dpmpp-{order}m", "--steps", str(steps), "--schedule", "logsnr", "--no-denoise"],
                    dict(base, side="dpm", method="multistep", order=order, steps=steps), quality, args.repeats)
        compare(args, table, np, name, "adaptive, rtol 0.05",
                ["--solver", "dpm-adaptive", "--rtol", "0.05", "--atol", "0.0078", "--no-denoise"],
                dict(base, side="dpm", method="dpm-adaptive", tol=0.05, steps=0), quality, args.repeats)


def network_section(args, table, np, networks):
    header("TorchScript networks, the same file on both sides (batch given per row, %d thread(s))" % args.threads,
           "sliced W2")
    for name, path, sample_shape, n, steps, reference in networks:
        quality = (lambda x: sliced_w2(np, x, reference)) if reference is not None else (lambda x: float("nan"))
        base = {"network": path, "sample_shape": sample_shape, "n": n, "seed": 3, "threads": args.threads,
                "score_sde": args.score_sde, "dpm_solver": args.dpm_solver}
        compare(args, table, np, name, f"EM {steps}, batch {n}", ["--solver", "em", "--steps", str(steps)],
                dict(base, side="score_sde", method="em", steps=steps), quality, args.repeats)
        compare(args, table, np, name, f"DPM-Solver++(2M) 20, batch {n}",
                ["--solver", "dpmpp-2m", "--steps", "20", "--schedule", "logsnr", "--no-denoise"],
                dict(base, side="dpm", method="multistep", order=2, steps=20), quality, args.repeats)


def ode_section(args, table, np, problems):
    print("\nProbability-flow ODE at equal accuracy (exact scores; error = RMS distance to the same side's "
          "solve at rtol = atol = 1e-9 from the same prior draws; batch %d)\n" % args.ode_n)
    print("| problem | side | tol | NFE | seconds | error |\n|---|---|---:|---:|---:|---:|")
    for name, path, mixture in problems:
        d = len(mixture["means"][0])
        base = {"mixture": path, "sample_shape": [d], "n": args.ode_n, "seed": 3, "threads": args.threads,
                "score_sde": args.score_sde, "dpm_solver": args.dpm_solver, "side": "score_sde", "method": "ode",
                "steps": 1000}
        tight = {}
        for side in ("ours", "python"):
            out = os.path.join(args.work, f"tight_{side}.npy")
            spec = dict(base, out=out, tol=1e-9)
            if side == "ours":
                run_ours(args, spec, ["--solver", "ode-dopri5", "--rtol", "1e-9", "--atol", "1e-9", "--no-denoise",
                                      "--dtype", "float64"])
            else:
                run_python(spec)
            tight[side] = np.load(out).astype(np.float64)
        for tol in (1e-3, 1e-4, 1e-5):
            for side in ("ours", "python"):
                out = os.path.join(args.work, f"ode_{side}.npy")
                spec = dict(base, out=out, tol=tol)
                best = None
                for _ in range(args.repeats):
                    result = (run_ours(args, spec, ["--solver", "ode-dopri5", "--rtol", str(tol), "--atol", str(tol),
                                                    "--no-denoise"]) if side == "ours" else run_python(spec))
                    if best is None or result["seconds"] < best["seconds"]:
                        best = result
                error = float(np.sqrt(np.mean((np.load(out).astype(np.float64) - tight[side]) ** 2)))
                table.add(problem=name, row=f"ode tol {tol}", side=side, seconds=best["seconds"], nfe=best["nfe"],
                          quality=error)
                print(f"| {name} | {'scoresde dopri5' if side == 'ours' else 'score_sde RK45'} | {tol:g} | "
                      f"{best['nfe']} | {best['seconds']:.2f} | {error:.2e} |", flush=True)


def allocator_section(args, table, np, ring_path):
    """The same run under different argument lists and environments: the allocator's stability."""
    print("\nOne sampling run (ring, EM 1000, batch 20000) under different argument lists and environments\n")
    print("| variant | process wall s | sampling s | sys s | sys / wall | minor faults | max RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = [args.scoresde, "sample", "--target", ring_path, "--sde", "vp", "--solver", "em", "--steps", "1000",
            "--n", "20000", "--threads", str(args.threads)]
    out = os.path.join(args.work, "alloc.npy")
    variants = [("plain", base + ["--out", out], None),
                ("--eps 0.001 added", base + ["--eps", "0.001", "--out", out], None),
                ("--seed 5 --batch 0 added", base + ["--seed", "5", "--batch", "0", "--out", out], None),
                ("options reordered", base[:2] + base[8:] + base[2:8] + ["--out", out], None),
                ("large environment", base + ["--out", out], dict(os.environ, PADDING="x" * 100000))]
    walls = []
    for label, command, env in variants:
        best = None
        for _ in range(args.repeats):
            child = run_child(command, env)
            with open(os.path.splitext(out)[0] + ".json") as f:
                child["seconds"] = json.load(f)["seconds"]
            if best is None or child["process_wall"] < best["process_wall"]:
                best = child
        walls.append(best["process_wall"])
        table.add(problem="allocator", row=label, side="ours", seconds=best["seconds"],
                  process_wall=best["process_wall"], sys=best["sys"], faults=best["faults"], rss_mb=best["rss_mb"])
        print(f"| {label} | {best['process_wall']:.2f} | {best['seconds']:.2f} | {best['sys']:.2f} | "
              f"{100 * best['sys'] / best['process_wall']:.1f} % | {best['faults']} | {best['rss_mb']:.0f} |",
              flush=True)
    print(f"\nmax/min process wall: {max(walls) / min(walls):.3f}")


def export_networks(args, np):
    """The MLP of example 07 and the U-Net of bench/training_throughput.py as TorchScript files."""
    mlp = os.path.join(args.work, "mlp.pt")
    if not os.path.exists(mlp):
        subprocess.run([sys.executable, os.path.join(ROOT, "examples", "07_export_model.py"), mlp,
                        "300" if args.quick else "3000"], check=True, capture_output=True)
    unet = os.path.join(args.work, "unet.pt")
    if not os.path.exists(unet):
        code = f"""
import sys, torch
sys.path.insert(0, {HERE!r})
import training_throughput as tt
torch.manual_seed(0)
net = tt.UNet()
torch.nn.init.normal_(net.output.weight, std=0.01)  # zero-initialised otherwise: give it an output
class Labelled(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net
    def forward(self, x, label):
        return self.net(x, label / 999)  # trained on t in [0, 1]; takes the label 999 t
model = Labelled(net).eval()
with torch.no_grad():
    torch.jit.trace(model, (torch.zeros(2, 1, 28, 28), torch.full((2,), 500.0))).save({unet!r})
"""
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    ring = json.load(open(os.path.join(ROOT, "data", "ring8.json")))
    reference = exact_samples(np, scaled_mixture(ring, 0.25), 20000, seed=1)  # example 07 trains on ring / 4
    n_unet = 16 if args.quick else 64
    return [("MLP (example 07)", mlp, [2], 2000 if args.quick else 20000, 200 if args.quick else 1000, reference),
            ("U-Net (28x28)", unet, [1, 28, 28], n_unet, 20 if args.quick else 100, None)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--scoresde", default=os.path.join(ROOT, "build", "cli", "scoresde"))
    parser.add_argument("--score-sde", help="a clone of github.com/yang-song/score_sde_pytorch")
    parser.add_argument("--dpm-solver", help="a clone of github.com/LuChengTHU/DPM-Solver")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--ode-n", type=int, default=5000)
    parser.add_argument("--only", choices=["exact", "network", "ode", "allocator"])
    parser.add_argument("--quick", action="store_true", help="fewer steps and samples: a smoke run")
    parser.add_argument("--csv", default="reference_comparison.csv")
    parser.add_argument("--work", help="folder for samples and exported models (default: a temporary one)")
    parser.add_argument("--python-allocator", choices=["tcmalloc", "glibc-tuned", "glibc"], default="tcmalloc",
                        help="the Python side's malloc: tcmalloc by LD_PRELOAD (default: the one scoresde links), "
                             "glibc with MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ raised, or plain glibc")
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    try:
        import numpy as np
        import scipy  # noqa: F401 (score_sde's ode_sampler)
        import torch  # noqa: F401
    except ImportError as e:
        skip(f"{e.name} is missing; install Debian's python3-torch and python3-scipy and run with /usr/bin/python3")
    for flag, path, probe in (("--score-sde", args.score_sde, "sampling.py"),
                              ("--dpm-solver", args.dpm_solver, "dpm_solver_pytorch.py")):
        if not path or not os.path.exists(os.path.join(path, probe)):
            skip(f"{flag} must name a clone holding {probe} (docs/benchmarks.md says how to get it)")
    if not os.access(args.scoresde, os.X_OK):
        skip(f"no scoresde program at {args.scoresde}; build the project or pass --scoresde")
    global PYTHON_ENV
    if args.python_allocator == "tcmalloc":
        tcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"
        if not os.path.exists(tcmalloc):
            skip(f"--python-allocator tcmalloc needs {tcmalloc} (Debian's libtcmalloc-minimal4)")
        PYTHON_ENV = dict(os.environ, LD_PRELOAD=tcmalloc)
    elif args.python_allocator == "glibc-tuned":
        PYTHON_ENV = dict(os.environ, MALLOC_MMAP_THRESHOLD_="33554432", MALLOC_TRIM_THRESHOLD_="1073741824")
    if args.quick:
        args.n, args.ode_n, args.repeats = 2000, 1000, 1
    temporary = None
    if not args.work:
        temporary = tempfile.TemporaryDirectory(prefix="reference_comparison_")
        args.work = temporary.name
    os.makedirs(args.work, exist_ok=True)
    table = Table(args.csv)
    iso32 = os.path.join(args.work, "iso32.json")
    with open(iso32, "w") as f:
        json.dump(iso32_mixture(), f)
    problems = [(name, path, json.load(open(path))) for name, path in
                (("2-D ring", os.path.join(ROOT, "data", "ring8.json")),
                 ("16-D anisotropic", os.path.join(ROOT, "data", "aniso16.json")),
                 ("32-D isotropic", iso32))]
    print(f"scoresde {args.scoresde} against score_sde {args.score_sde} and DPM-Solver {args.dpm_solver}; "
          f"{args.threads} thread(s), {args.repeats} repeat(s), sides alternating; Python's malloc: "
          f"{args.python_allocator}")
    if args.only in (None, "allocator"):
        allocator_section(args, table, np, problems[0][1])
    if args.only in (None, "exact"):
        exact_section(args, table, np, problems)
    if args.only in (None, "network"):
        network_section(args, table, np, export_networks(args, np))
    if args.only in (None, "ode"):
        ode_section(args, table, np, problems[:2])
    print(f"\nCSV: {args.csv}")


if __name__ == "__main__":
    main()
