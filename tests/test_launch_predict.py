"""`ftnb predict` and `ftnb evaluate` on 2 CPU processes (`accelerate launch` + mpirun), smoke profile.

The two processes share each chunk's batches and the main one writes: the output must be the one-process output —
the same rows, in the same order, the same labels, probabilities within 1e-5 — and be written once. 101 rows in
chunks of 40 and batches of 8: neither splits evenly over the processes."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest
from ftnb.accel import free_port
from helpers import smoke_model

BIN = Path(sys.executable).parent
ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false', 'OMP_NUM_THREADS': '1',
       'OMPI_ALLOW_RUN_AS_ROOT': '1', 'OMPI_ALLOW_RUN_AS_ROOT_CONFIRM': '1', 'OMPI_MCA_rmaps_base_oversubscribe': '1'}
CHILD = "import sys\nfrom ftnb.cli import main\nsys.exit(main(sys.argv[1:]))\n"

def launched(args, tmp_path, n=2):
    "Run `ftnb ARGS` in `n` processes under accelerate launch + mpirun."
    (tmp_path/'hostfile').write_text(f'localhost slots={n}\n'); (tmp_path/'child.py').write_text(CHILD)
    cmd = [str(BIN/'accelerate'), 'launch', '--cpu', '--num_processes', str(n), '--num_machines', '1', '--main_process_port', free_port(),
           '--mpirun_hostfile', str(tmp_path/'hostfile'), str(tmp_path/'child.py'), *args]
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600, cwd=tmp_path)

@pytest.mark.skipif(shutil.which('mpirun') is None, reason="mpirun not found: Accelerate's multi-CPU launch needs "
                    "OpenMPI (`apt-get install openmpi-bin`, or `make mpi`)")
def test_two_process_predict_and_evaluate_match_one(tmp_path, run_main):
    smoke_model(tmp_path/'model')
    words = 'the plot is thin but the cast is wonderful and the music even better'.split()
    rows = [{'id': i, 'text': ' '.join(words[:1 + (i * 7) % len(words)]) * (1 + i % 3), 'label': ['negative', 'neutral', 'positive'][i % 3]}
            for i in range(101)]
    pd.DataFrame(rows).to_csv(tmp_path/'rows.csv', index=False)
    common = ['--model', str(tmp_path/'model'), '--data', str(tmp_path/'rows.csv'), '--batch-size', '8']
    predict, evaluate = lambda n: ['predict', *common, '--chunk-size', '40', '--output', str(tmp_path/f'p{n}.csv')], \
                        lambda n: ['evaluate', *common, '--output-dir', str(tmp_path/f'eval{n}')]
    assert run_main(*predict(1))[0] == 0 and run_main(*evaluate(1))[0] == 0  # one process: this one
    r = launched(predict(2), tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert r.stderr.count('ftnb predict: predictions in') == 1, r.stderr[-2000:]  # said once, by the main process
    e = launched(evaluate(2), tmp_path)
    assert e.returncode == 0 and e.stdout.count('ftnb evaluate:') == 1, e.stdout[-2000:] + e.stderr[-3000:]
    outs = {n: pd.read_csv(tmp_path/f'p{n}.csv') for n in (1, 2)}
    one, two = outs[1], outs[2]
    assert list(two['id']) == list(range(101)) and list(two.columns) == list(one.columns)
    assert (two['predicted_label'] == one['predicted_label']).all()
    probs = [c for c in one.columns if c.startswith('prob_')] + ['predicted_prob']
    assert (two[probs] - one[probs]).abs().to_numpy().max() <= 1e-5
    m1, m2 = (json.loads((tmp_path/f'eval{n}'/'metrics.json').read_text()) for n in (1, 2))
    assert m1.keys() == m2.keys() and all(abs(m1[k] - m2[k]) <= 1e-6 for k in m1)
    assert not list(tmp_path.glob('*.tmp')) and not list(tmp_path.glob('.*.tmp'))
