"""`ftnb train` on two "machines" with `accelerate launch --num_machines 2`, both on this host, smoke profile.

Each machine is its own `accelerate launch --multi_gpu --num_machines 2 --machine_rank R --num_processes 2
--main_process_ip 127.0.0.1 --main_process_port PORT --rdzv_backend static --no_python .venv/bin/ftnb train --cpu ...`:
accelerate's torchrun launcher, one process per machine, the gloo backend (`Accelerator(cpu=True)` on a launch
without GPUs is MULTI_CPU). `--multi_gpu` only selects that launcher; `accelerate launch --cpu` with several
processes would use mpirun instead (tests/test_accelerate.py). The rendezvous is `static`: `c10d` works too, but it
ignores `--machine_rank` and numbers the machines in the order of its own sort, so which launcher holds global rank 0
(and writes the model) is not fixed; static makes machine 0's process rank 0, which the file checks below rely on.
(`-m ftnb.cli` is no way in: ftnb/cli.py has no `__main__` block, so that launch trains nothing and exits 0.)

The launched run is compared with one process trained on the same data with the same global batch (one process at
`--batch-size 16`, two machines at 8 each). With these settings the two runs do the same arithmetic up to float
rounding, so the comparison is tight; each setting removes a known source of *legitimate* difference:
- `--no-group-by-length`: ftnb's length-grouped batches are formed per batch size (8 vs 16), so the runs would see
  different examples at each step; the plain seeded order gives both the same 16 examples at every global step.
- dropout 0 (a copy of the smoke checkpoint with dropout set to 0 in its config): every process draws its own dropout
  masks, different from the single process's; with dropout the runs differ by noise (measured with dropout, bf16,
  length grouping and warm-up on: eval accuracy 0.5625 vs 0.5938, train losses ~0.01 apart).
- `FTNB_PRECISION=fp32`: bf16 rounding depends on the batch's shape and padding. (Both precisions under a launch are
  covered by tests/test_accelerate.py.)
- a warm-up of 3 optimizer steps: Accelerate steps a prepared schedule once per process at every optimizer step,
  and ftnb's loop counts the schedule in those ticks (3 steps on 2 processes = 6 ticks); the test checks every
  step's learning rate against the one process's, so a warm-up counted in ticks (1.5 steps) would fail it.
"""
import json, os, shutil, signal, statistics, subprocess, sys, time
from pathlib import Path
import pytest
import torch.distributed as dist
from ftnb.accel import free_port

BIN = Path(sys.executable).parent
ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false', 'OMP_NUM_THREADS': '1',
       'FTNB_PRECISION': 'fp32'}
TIMEOUT = 300  # seconds for each run (about 25 s on a 2-core machine)
BATCH = 8      # per process; the one-process run uses 2 * BATCH
N_EVAL = 96    # the smoke validation set

def _gloo() -> bool:
    return dist.is_available() and dist.is_gloo_available()

pytestmark = [
    pytest.mark.skipif(not _gloo(), reason="torch.distributed with the gloo backend is not available in this torch build: "
                       "a multi-machine CPU launch needs it"),
    pytest.mark.skipif(not (BIN/'accelerate').exists() or not (BIN/'ftnb').exists(),
                       reason=f"no `accelerate` launcher or `ftnb` console script in {BIN} (pip install -e '.[dev]')"),
]

def _no_dropout_checkpoint(dest:Path) -> Path:
    "A copy of the smoke checkpoint with dropout 0, so one process and two train the same function."
    from ftnb.core import smoke_checkpoint
    shutil.copytree(smoke_checkpoint(), dest)
    cfg = json.loads((dest/'config.json').read_text())
    cfg.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (dest/'config.json').write_text(json.dumps(cfg))
    return dest

def _args(ckpt, batch_size, out):
    return ['train', '--smoke', '--cpu', '--checkpoint', str(ckpt), '--no-group-by-length', '--warmup', '3', '--lr', '1e-3',
            '--epochs', '3', '--seed', '42', '--batch-size', str(batch_size), '--output-dir', str(out)]

def _stop(p):
    "End a launcher and the processes it started (its own session)."
    if p.poll() is None:
        try: os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError: pass
        p.wait()

def _launch_two(tmp_path, ckpt, out, port):
    "Start machine 0 and machine 1 (each its own launcher, folder, stdout and stderr); `[(rc, stdout, stderr)]`."
    procs, logs = [], []
    try:
        for r in (0, 1):
            cwd = tmp_path/f'machine{r}'; cwd.mkdir(exist_ok=True)
            so, se = open(tmp_path/f'machine{r}.out', 'w'), open(tmp_path/f'machine{r}.err', 'w')
            logs += [so, se]
            cmd = [str(BIN/'accelerate'), 'launch', '--multi_gpu', '--num_machines', '2', '--machine_rank', str(r),
                   '--num_processes', '2', '--main_process_ip', '127.0.0.1', '--main_process_port', port,
                   '--rdzv_backend', 'static', '--mixed_precision', 'no', '--dynamo_backend', 'no',
                   '--no_python', str(BIN/'ftnb'), *_args(ckpt, BATCH, out)]
            # machine 1 writes with umask 077: a file of its own in `out` would lack the group/other read bits
            procs.append(subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=so, stderr=se, start_new_session=True,
                                          umask=0o077 if r else 0o022))
        t_end = time.monotonic() + TIMEOUT
        for p in procs: p.wait(timeout=max(1, t_end - time.monotonic()))
    except subprocess.TimeoutExpired: pass
    finally:
        for p in procs: _stop(p)
        for f in logs: f.close()
    return [(p.returncode, (tmp_path/f'machine{r}.out').read_text(), (tmp_path/f'machine{r}.err').read_text())
            for r, p in enumerate(procs)]

def _tail(res):
    return '\n'.join(f"--- machine {r} rc={rc}\nstdout: {o[-1500:]}\nstderr: {e[-2500:]}" for r, (rc, o, e) in enumerate(res))

def test_two_machines_match_one_process(tmp_path):
    ckpt = _no_dropout_checkpoint(tmp_path/'smoke-nodrop')
    # the one-process reference (the same data, order and global batch), run beside the launch to save wall time
    with open(tmp_path/'one.out', 'w') as so, open(tmp_path/'one.err', 'w') as se:  # files: no pipe to fill up
        one = subprocess.Popen([str(BIN/'ftnb'), *_args(ckpt, 2*BATCH, tmp_path/'one')], env=ENV, cwd=tmp_path,
                               stdout=so, stderr=se, start_new_session=True)
        try:
            out = tmp_path/'two'
            for attempt in range(2):  # the free port can be taken before machine 0 binds it: then try another one, once
                res = _launch_two(tmp_path, ckpt, out, free_port())
                if not any('utilizing it' in e or 'address already in use' in e.lower() for _, _, e in res): break
                shutil.rmtree(out, ignore_errors=True)
            try: one.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired: pass
        finally: _stop(one)
    one_out, one_err = (tmp_path/'one.out').read_text(), (tmp_path/'one.err').read_text()
    assert one.returncode == 0, f"one process: rc={one.returncode}\n" + one_out[-2000:] + one_err[-3000:]
    assert '1 process(es) on cpu, fp32' in one_out, one_out
    assert [rc for rc, _, _ in res] == [0, 0], _tail(res)
    # world size 2: the CLI's first line, printed once, by global rank 0 (machine 0); machine 1 prints nothing
    assert '2 process(es) on cpu, fp32' in res[0][1] and 'ftnb train:' not in res[1][1] and 'done in' not in res[1][1], _tail(res)
    for rc, o, e in res:
        # ftnb ends its gloo process group at exit: no abort, no warning about a group left alive
        assert 'terminate called' not in e and 'destroy_process_group' not in e, _tail(res)

    # only global rank 0 (machine 0) wrote: every file is readable by group/other, and neither machine's folder got a file
    names = {p.name for p in out.iterdir()}
    assert {'config.json', 'model.safetensors', 'tokenizer.json', 'history.json', 'curves.png', 'README.md'} <= names, names
    assert not any(n.endswith(('.tmp', '.old')) or n == 'checkpoints' for n in names), names
    for p in [out, *out.rglob('*')]:
        if p.suffix != '.safetensors':  # safetensors writes 0600 files itself
            assert p.stat().st_mode & 0o044, f'{p} was written by machine 1 (umask 077)'
    for r in (0, 1): assert not list((tmp_path/f'machine{r}').iterdir()), f'machine {r} wrote into its working folder'

    h1, h2 = (json.loads((d/'history.json').read_text()) for d in (tmp_path/'one', out))
    # the same records: the same steps, evaluations, learning rates and sample counts (2 machines x 8 = 16 per step)
    assert [(r['split'], r['step'], r['samples']) for r in h2] == [(r['split'], r['step'], r['samples']) for r in h1]
    lrs = lambda h: [r['lr'] for r in h if r['split'] == 'train']  # eval records have none
    assert lrs(h2) == pytest.approx(lrs(h1), rel=1e-9, abs=1e-12)
    # Tolerances: the two runs differ only by float rounding (the batches are padded to different lengths and the
    # gradients are averaged by gloo instead of within one batch): measured, every train and eval loss agreed to 6e-8
    # and the accuracies were equal. 5e-4 leaves room for other CPUs' kernels while staying 4x below the smallest real
    # divergence seen (the warm-up rounding above: ~2e-3 within a few steps, before the loop counted it in ticks; dropout noise: ~1e-2). Accuracy may
    # differ by one of the 96 validation pairs, should one sit on the decision boundary.
    assert max(abs(a['loss'] - b['loss']) for a, b in zip(h1, h2)) < 5e-4, [(a['loss'], b['loss']) for a, b in zip(h1, h2)]
    e1, e2 = h1[-1], h2[-1]
    assert e1['split'] == e2['split'] == 'eval'
    assert abs(e1['accuracy'] - e2['accuracy']) <= 1/N_EVAL + 1e-9, (e1, e2)
    assert f"accuracy {e2['accuracy']:.4f}" in res[0][1]  # the CLI's "done in ..." line reports the saved history's value

    # and it trained: the training loss fell from the first epoch to the last (measured 0.706 -> 0.623), eval loss too
    train = [r for r in h2 if r['split'] == 'train']
    first, last = (statistics.mean(r['loss'] for r in train if e < r['epoch'] <= e + 1) for e in (0, 2))
    assert last < first - 0.03, (first, last)
    evals = [r['loss'] for r in h2 if r['split'] == 'eval']
    assert evals[-1] < evals[0], evals
