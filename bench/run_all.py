"""Run every benchmark in one process tree, one after another, so that their numbers share a machine state.
`make bench` calls this. Each script prints its table and writes bench/results/<name>.json; `bench/summary.py`
collects the headline numbers into bench/results/summary.json (shown in the README)."""
import subprocess, sys, time
from pathlib import Path
HERE = Path(__file__).resolve().parent
SCRIPTS = ['data.py', 'mlm.py', 'mfu.py', 'profile_step.py', 'finetune.py']
for s in SCRIPTS:
    if not (HERE/s).exists(): print(f'(skipping {s}: not present)'); continue
    print(f'\n=== bench/{s}', flush=True); t0 = time.perf_counter()
    subprocess.run([sys.executable, str(HERE/s)], check=True)
    print(f'=== bench/{s}: {time.perf_counter()-t0:.0f} s', flush=True)
subprocess.run([sys.executable, str(HERE/'summary.py')], check=True)
