"Exact resume after a real `kill -9` (both precisions), and a clear error for a corrupt checkpoint (process level, smoke profile)."
import json, os, subprocess, sys
from pathlib import Path
import pytest
from killrun import kill_at, same_weights, without_seconds

HERE = Path(__file__).resolve().parent
ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}

def child(*args, env=None):
    return subprocess.Popen([sys.executable, str(HERE/'resume_child.py'), *map(str, args)], env={**ENV, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def test_kill_and_resume_is_exact(tmp_path, precision_env):
    ref = child(tmp_path/'ref', tmp_path/'ref.safetensors', env=precision_env)
    assert ref.wait(timeout=600) == 0, ref.stderr.read()
    p = child(tmp_path/'run', tmp_path/'run.safetensors', '--slow', env=precision_env)
    killed_at = kill_at(p, tmp_path/'run'/'last'/'state.json', 6)
    assert 0 < killed_at < 24 and not (tmp_path/'run.safetensors').exists()
    r = child(tmp_path/'run', tmp_path/'run.safetensors', '--resume', env=precision_env)
    assert r.wait(timeout=600) == 0, r.stderr.read()
    assert same_weights(tmp_path/'ref.safetensors', tmp_path/'run.safetensors')
    ha, hb = json.loads((tmp_path/'ref.json').read_text()), json.loads((tmp_path/'run.json').read_text())
    assert without_seconds(ha) == without_seconds(hb) and len([r for r in ha if r['split'] == 'eval']) == 2

def test_corrupt_checkpoint_gives_clear_error(tmp_path):
    p = child(tmp_path/'run', tmp_path/'out.safetensors')
    assert p.wait(timeout=600) == 0, p.stderr.read()
    f = tmp_path/'run'/'last'/'model.safetensors'
    f.write_bytes(f.read_bytes()[:2048])
    r = child(tmp_path/'run', tmp_path/'out2.safetensors', '--resume')
    assert r.wait(timeout=600) == 3
    err = r.stderr.read()
    assert 'model.safetensors is corrupt or truncated' in err and 'Traceback' not in err
