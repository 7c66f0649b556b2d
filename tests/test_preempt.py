"""`ftnb train` and `ftnb adapt` stopped by SIGTERM mid-epoch (a spot instance reclaimed, Slurm's time limit): exit code
75, one line on stderr saying how to resume, a complete checkpoint, nothing held or half-written; `--resume` then ends
bit for bit where an uninterrupted run ends (process level, smoke profile)."""
import json, os, re, shlex, signal, threading, time
from pathlib import Path
from killrun import same_weights, without_seconds
from helpers import start

PREEMPTED = 75
CASES = {  # one step per example: 256 steps in the training epoch, 64 per adaptation epoch, so a signal lands mid-epoch
    'train': (['--smoke', '--epochs', '1', '--max-train', '256', '--batch-size', '1'], 256, 256,
              {'model.safetensors', 'optimizer.bin', 'scheduler.bin', 'random_states_0.pkl', 'state.json'}),
    'adapt': (['--smoke', '--epochs', '2', '--batch-size', '1'], 64, 128, {'model.safetensors', 'optim.pt', 'rng.pt', 'state.json'})}

def sigterm_after(p, step:int, total:int, timeout:float=300) -> tuple:
    "Send `p` SIGTERM once the bar of its `total`-step run shows `step` steps; return `(exit code, stdout, stderr)`."
    lines, seen = [], threading.Event()
    def read():  # the bar redraws with '\r': text mode reads each redraw as a line
        for line in p.stderr:
            lines.append(line)
            m = re.search(rf'train:.*\|\s*(\d+)/{total}\b', line)  # not the bar of a cold cache's warm-start head
            if m and int(m.group(1)) >= step: seen.set()
    reader = threading.Thread(target=read, daemon=True); reader.start()
    t0 = time.time()
    while not seen.is_set() and p.poll() is None and time.time() - t0 < timeout: time.sleep(0.01)
    assert p.poll() is None, 'the run ended before the signal: ' + ''.join(lines)[-2000:]
    os.kill(p.pid, signal.SIGTERM)
    rc = p.wait(timeout=timeout); reader.join(timeout)
    return rc, p.stdout.read(), ''.join(lines)

def check_stopped(cmd:str, args:list, out:Path, rc:int, stdout:str, stderr:str, n_batches:int, files:set) -> int:
    "The stopped run's exit code, its one line on stderr, its checkpoint, and nothing left behind; return its last step."
    lines = [l for l in stderr.splitlines() if l.startswith('ftnb ')]
    m = re.fullmatch(rf'ftnb {cmd}: stopped by SIGTERM after step (\d+); resume with: (.*)', lines[-1]) if lines else None
    assert rc == PREEMPTED and len(lines) == 1 and m and 'Traceback' not in stderr, (rc, stderr[-3000:])
    assert shlex.split(m.group(2)) == ['ftnb', cmd, *args, '--output-dir', str(out), '--resume']
    step, last = int(m.group(1)), out/'checkpoints'/'last'
    assert f"stopped by SIGTERM after step {step} of " in stdout and f"checkpoint written to {last}" in stdout, stdout
    state = json.loads((last/'state.json').read_text())
    assert {f.name for f in last.iterdir()} >= files and state['step'] == step
    assert state['epoch'] == 0 and 0 < state['batch'] < n_batches, state  # mid-epoch
    assert not [p for p in out.rglob('*') if p.name.endswith(('.tmp', '.old')) or p.name in ('.ftnb.owner', '.saving')]
    assert not (out/'model.safetensors').exists() and not (out/'history.json').exists()
    return step

def stop_and_resume(tmp_path, cmd:str):
    "Run `ftnb cmd` uninterrupted and, alongside, stopped by SIGTERM after a few steps; resume it; compare the two."
    args, n_batches, total, files = CASES[cmd]
    ref, out = tmp_path/'ref', tmp_path/'run'
    p_ref, p = start(cmd, *args, '--output-dir', ref), start(cmd, *args, '--output-dir', out)  # two cores: side by side
    step = check_stopped(cmd, args, out, *sigterm_after(p, 5, total), n_batches, files)
    r = start(cmd, *args, '--output-dir', out, '--resume')
    stdout, stderr = r.communicate(timeout=600)
    assert r.returncode == 0, stderr[-3000:]
    ref_out, ref_err = p_ref.communicate(timeout=600)
    assert p_ref.returncode == 0, ref_err[-3000:]
    assert same_weights(ref/'model.safetensors', out/'model.safetensors')
    h_ref, h = (without_seconds(json.loads((d/'history.json').read_text())) for d in (ref, out))
    assert h == h_ref and any(x['step'] > step for x in h if x['split'] == 'eval')
    assert not (out/'checkpoints').exists() and not (out/'.ftnb.owner').exists()

def test_sigterm_stops_train_and_resume_is_exact(tmp_path): stop_and_resume(tmp_path, 'train')

def test_sigterm_stops_adapt_and_resume_is_exact(tmp_path): stop_and_resume(tmp_path, 'adapt')
