"Masked-LM adaptation resumes exactly after a real `kill -9` (process level, smoke profile, both precisions)."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import torch
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}

def child(out, *args, env=None):
    return subprocess.Popen([sys.executable, str(HERE/'mlm_resume_child.py'), str(out), *args], env={**ENV, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def ckpt_step(out):
    f = Path(out)/'checkpoints'/'last'/'state.json'
    try: return json.loads(f.read_text())['step']
    except (OSError, ValueError, KeyError): return 0

def test_kill_and_resume_is_exact(tmp_path, precision_env):
    ref = child(tmp_path/'ref', env=precision_env)
    assert ref.wait(timeout=600) == 0, ref.stderr.read()
    p = child(tmp_path/'run', '--slow', env=precision_env)
    t0 = time.time()
    while ckpt_step(tmp_path/'run') < 3 and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
    assert p.poll() is None, 'the run finished before it could be killed: ' + p.stderr.read()[-2000:]
    os.kill(p.pid, signal.SIGKILL); p.wait()
    killed_at = ckpt_step(tmp_path/'run')
    assert 3 <= killed_at < 8 and not (tmp_path/'run'/'model.safetensors').exists()
    r = child(tmp_path/'run', '--resume', env=precision_env)
    assert r.wait(timeout=600) == 0, r.stderr.read()
    a, b = load_file(tmp_path/'ref'/'model.safetensors'), load_file(tmp_path/'run'/'model.safetensors')
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    strip = lambda d: [{k: v for k, v in r.items() if k != 'seconds'} for r in json.loads((d/'history.json').read_text())]
    ha, hb = strip(tmp_path/'ref'), strip(tmp_path/'run')
    assert ha == hb and [r['step'] for r in ha if r['split'] == 'eval'] == [0, 4, 8]
    assert all('perplexity' in r for r in ha if r['split'] == 'eval')
    assert not (tmp_path/'run'/'checkpoints').exists()  # removed with the run's folder when the adapted model was saved
