"""Hyper-parameter search on the embedded pair task and MiniLM with the same budget (trials, seed, space) three ways:
diagnosis pruning (ftnb.tune's `prune_reason`), Optuna's MedianPruner, and no pruning — the best validation
accuracy each found and the wall time each spent. Each search runs in this one process, one after the other.
Writes bench/results/tune.json (the table chapter 06b shows).
Usage: python bench/tune.py [--trials 6] [--max-train 2000] [--max-eval 204] [--epochs 1 2] [--lora]"""
import argparse, json, tempfile, time
from pathlib import Path
from common import *
full_profile()
import optuna
from ftnb.tune import tune_data, compare_pruners, default_space, read_trials

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--trials', type=int, default=6)
    ap.add_argument('--max-train', type=int, default=2000)
    ap.add_argument('--max-eval', type=int, default=204)
    ap.add_argument('--epochs', type=int, nargs=2, default=[1, 2])
    ap.add_argument('--evals-per-epoch', type=int, default=4)
    ap.add_argument('--lora', action='store_true')
    ap.add_argument('--seed', type=int, default=42)
    a = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = tune_data(max_train=a.max_train, max_eval=a.max_eval, seed=a.seed)
    space = default_space(a.lora, batch_size=(16, 32), epochs=tuple(a.epochs))  # ftnb's default lr range (LoRA's with --lora)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        rows = compare_pruners(data, d, n_trials=a.trials, space=space, lora=a.lora or None, seed=a.seed,
                               evals_per_epoch=a.evals_per_epoch)
        trials = {r['pruner']: read_trials(Path(d)/r['pruner']) for r in rows}
    for r in rows: print({k: v for k, v in r.items() if k != 'best_params'})
    write_result('tune', dict(train_examples=a.max_train, eval_examples=a.max_eval, trials=a.trials, lora=a.lora, seed=a.seed,
                              space={k: list(v) for k, v in space.items()}, evals_per_epoch=a.evals_per_epoch,
                              wall_seconds=time.perf_counter() - t0, comparison=rows, trial_rows=trials))

if __name__ == '__main__': main()
