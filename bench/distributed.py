"""Beyond one machine, measured on this one: `ftnb predict` on 1 vs 2 processes, and `ftnb tune` with 1 vs 2 workers
sharing one study (SQLite): wall seconds per arm, and for the search finished trials per minute.

Run from the repository root: `python bench/distributed.py [--rows 4000] [--trials 4] [--repeats 3] [--part predict|tune|all]`.
Full profile: the embedded MiniLM with a fresh, seeded 3-class head (speed does not depend on the weights) on the
embedded Rotten Tomatoes snippets; the search is the default pair task, every trial 1 epoch at batch 32 (the same cost;
the learning rate, warm-up and weight decay vary), pruning off, the first --max-train/--max-eval pairs. The arms share the machine's cores: one process with all of them (OMP_NUM_THREADS = cores)
against one process per core (OMP_NUM_THREADS=1 each), and for predict one process on one core for scale. Arms
interleaved, --repeats times each; the median is reported. `accelerate launch` uses mpirun for several CPU
processes (Debian's openmpi-bin, `make mpi`). Writes bench/results/distributed.json."""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path
from common import *

BIN = Path(sys.executable).parent
MPI = {'OMPI_ALLOW_RUN_AS_ROOT': '1', 'OMPI_ALLOW_RUN_AS_ROOT_CONFIRM': '1', 'OMPI_MCA_rmaps_base_oversubscribe': '1'}
CHILD = "import sys\nfrom ftnb.cli import main\nsys.exit(main(sys.argv[1:]))\n"

def env(threads:int) -> dict:
    "The full-profile, offline environment with `threads` OpenMP threads per process."
    return {**os.environ, 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false', 'OMP_NUM_THREADS': str(threads), **MPI}

def launch(args:list, n:int, tmp:Path) -> list:
    "`ftnb ARGS` as one process, or as `n` under accelerate launch (mpirun on the CPU)."
    if n == 1: return [str(BIN/'ftnb'), *args]
    from ftnb.accel import free_port
    (tmp/'hostfile').write_text(f'localhost slots={n}\n'); (tmp/'child.py').write_text(CHILD)
    return [str(BIN/'accelerate'), 'launch', '--cpu', '--num_processes', str(n), '--num_machines', '1', '--main_process_port', free_port(),
            '--mpirun_hostfile', str(tmp/'hostfile'), str(tmp/'child.py'), *args]

def timed(cmd:list, e:dict) -> float:
    "Wall seconds of a command that must succeed."
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=e, capture_output=True, text=True)
    if r.returncode: raise RuntimeError(f"{' '.join(cmd[:6])} ... failed: {r.stderr[-2000:]}")
    return time.perf_counter() - t0

def predict_arms(rows:int, repeats:int, tmp:Path) -> dict:
    "Seconds of `ftnb predict` on `rows` snippets per arm, and whether every arm wrote the same predictions."
    import pandas as pd
    from ftnb.data import read_snippets
    texts = [t for _, _, t in read_snippets()][:rows]
    pd.DataFrame({'id': range(len(texts)), 'text': texts}).to_csv(tmp/'rows.csv', index=False)
    cores, m = os.cpu_count(), model_dir(tmp)
    arms = {f'1 process x {cores} threads': (1, cores), f'{cores} processes x 1 thread': (cores, 1), '1 process x 1 thread': (1, 1)}
    secs = {k: [] for k in arms}
    for _ in range(repeats):
        for k, (n, th) in arms.items():
            args = ['predict', '--model', str(m), '--data', str(tmp/'rows.csv'), '--output', str(tmp/f'{n}x{th}.csv'), '--no-progress']
            secs[k].append(timed(launch(args, n, tmp), env(th)))
    outs = [pd.read_csv(tmp/f'{n}x{th}.csv') for n, th in arms.values()]
    same = all((o['predicted_label'] == outs[0]['predicted_label']).all() for o in outs)
    diff = max(float((o.filter(like='prob_') - outs[0].filter(like='prob_')).abs().to_numpy().max()) for o in outs)
    return dict(rows=len(texts), seconds=secs, median_s={k: statistics.median(v) for k, v in secs.items()}, same_labels=same, max_abs_prob_diff=diff)

WORKER = """import sys, json, ftnb.tune as T
r = T.tune_run(output_dir=sys.argv[1], storage=sys.argv[2] if sys.argv[2] != '-' else None, n_trials=int(sys.argv[3]), pruner='none',
               space=T.search_space(epochs=(1, 1), batch_size=[32]), max_train=int(sys.argv[4]), max_eval=int(sys.argv[5]))
print(json.dumps({k: r[k] for k in ('n_complete', 'n_pruned')}))
"""

def tune_arms(trials:int, repeats:int, tmp:Path, max_train:int, max_eval:int) -> dict:
    """Finished trials per minute of one search with 1 worker (all cores) and with one worker per core. Every trial costs
    the same (1 epoch, batch 32; only the learning rate, warm-up and weight decay vary), so the arms do the same work."""
    cores = os.cpu_count()
    cmd = lambda out, url: [sys.executable, '-c', WORKER, str(out), url, str(trials), str(max_train), str(max_eval)]
    arms = {f'1 worker x {cores} threads': (1, cores), f'{cores} workers x 1 thread': (cores, 1)}
    secs, per_min = {k: [] for k in arms}, {k: [] for k in arms}
    for r in range(repeats):
        for k, (n, th) in arms.items():
            out, url = tmp/f'search-{n}-{r}', (f"sqlite:///{tmp/f'search-{n}-{r}.db'}" if n > 1 else '-')
            t0 = time.perf_counter()
            ps = [subprocess.Popen(cmd(out, url), env=env(th), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
            res = [p.communicate() for p in ps]
            if any(p.returncode for p in ps): raise RuntimeError(f"a worker failed: {[e[-2000:] for _, e in res]}")
            s = time.perf_counter() - t0
            done = sum(1 for l in (out/'trials.jsonl').read_text().splitlines() if l.strip())  # a shared study may finish one more
            secs[k].append(s); per_min[k].append(60 * done / s)
    return dict(trials=trials, max_train=max_train, max_eval=max_eval, space='1 epoch, batch 32', seconds=secs, trials_per_min=per_min,
                median_s={k: statistics.median(v) for k, v in secs.items()},
                median_trials_per_min={k: statistics.median(v) for k, v in per_min.items()})

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rows', type=int, default=4000); ap.add_argument('--trials', type=int, default=4)
    ap.add_argument('--max-train', type=int, default=400); ap.add_argument('--max-eval', type=int, default=200)
    ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--part', choices=['predict', 'tune', 'all'], default='all')
    a = ap.parse_args()
    full_profile()
    tmp = Path(tempfile.mkdtemp())
    old = json.loads((RESULTS/'distributed.json').read_text()) if (RESULTS/'distributed.json').exists() else {}
    res = {k: v for k, v in old.items() if k in ('predict', 'tune')}
    if a.part in ('predict', 'all'): res['predict'] = {**predict_arms(a.rows, a.repeats, tmp), 'machine': machine_info()}; print(json.dumps(res['predict']['median_s']))
    if a.part in ('tune', 'all'):
        res['tune'] = {**tune_arms(a.trials, a.repeats, tmp, a.max_train, a.max_eval), 'machine': machine_info()}; print(json.dumps(res['tune']['median_trials_per_min']))
    write_result('distributed', {'machine': machine_info(), **res})

if __name__ == '__main__': main()
