"Exact resume after a real `kill -9` (both precisions), and a clear error for a corrupt checkpoint (process level, smoke profile)."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}

def child(*args, env=None):
    return subprocess.Popen([sys.executable, str(HERE/'resume_child.py'), *map(str, args)], env={**ENV, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def ckpt_step(d):
    f = Path(d)/'last'/'state.json'
    try: return json.loads(f.read_text())['step']
    except (OSError, ValueError, KeyError): return 0

def test_kill_and_resume_is_exact(tmp_path, precision_env):
    ref = child(tmp_path/'ref', tmp_path/'ref.safetensors', env=precision_env)
    assert ref.wait(timeout=600) == 0, ref.stderr.read()
    p = child(tmp_path/'run', tmp_path/'run.safetensors', '--slow', env=precision_env)
    t0 = time.time()
    while ckpt_step(tmp_path/'run') < 6 and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
    assert p.poll() is None, 'the run finished before it could be killed'
    os.kill(p.pid, signal.SIGKILL); p.wait()
    killed_at = ckpt_step(tmp_path/'run')
    assert 0 < killed_at < 24 and not (tmp_path/'run.safetensors').exists()
    r = child(tmp_path/'run', tmp_path/'run.safetensors', '--resume', env=precision_env)
    assert r.wait(timeout=600) == 0, r.stderr.read()
    a, b = load_file(tmp_path/'ref.safetensors'), load_file(tmp_path/'run.safetensors')
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    ha, hb = json.loads((tmp_path/'ref.json').read_text()), json.loads((tmp_path/'run.json').read_text())
    strip = lambda h: [{k: v for k, v in r.items() if k != 'seconds'} for r in h]  # train records too: the running loss is saved
    assert strip(ha) == strip(hb) and len([r for r in ha if r['split'] == 'eval']) == 2

def test_corrupt_checkpoint_gives_clear_error(tmp_path):
    p = child(tmp_path/'run', tmp_path/'out.safetensors')
    assert p.wait(timeout=600) == 0, p.stderr.read()
    f = tmp_path/'run'/'last'/'model.safetensors'
    f.write_bytes(f.read_bytes()[:2048])
    r = child(tmp_path/'run', tmp_path/'out2.safetensors', '--resume')
    assert r.wait(timeout=600) == 3
    err = r.stderr.read()
    assert 'model.safetensors is corrupt or truncated' in err and 'Traceback' not in err
