"Masked-LM adaptation resumes exactly after a real `kill -9` (process level, smoke profile, both precisions)."
import json, os, subprocess, sys
from pathlib import Path
from killrun import kill_at, same_weights, without_seconds

HERE = Path(__file__).resolve().parent
ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}

def child(out, *args, env=None):
    return subprocess.Popen([sys.executable, str(HERE/'mlm_resume_child.py'), str(out), *args], env={**ENV, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def test_kill_and_resume_is_exact(tmp_path, precision_env):
    ref = child(tmp_path/'ref', env=precision_env)
    assert ref.wait(timeout=600) == 0, ref.stderr.read()
    p = child(tmp_path/'run', '--slow', env=precision_env)
    killed_at = kill_at(p, tmp_path/'run'/'checkpoints'/'last'/'state.json', 3)
    assert 3 <= killed_at < 8 and not (tmp_path/'run'/'model.safetensors').exists()
    r = child(tmp_path/'run', '--resume', env=precision_env)
    assert r.wait(timeout=600) == 0, r.stderr.read()
    assert same_weights(tmp_path/'ref'/'model.safetensors', tmp_path/'run'/'model.safetensors')
    strip = lambda d: without_seconds(json.loads((d/'history.json').read_text()))
    ha, hb = strip(tmp_path/'ref'), strip(tmp_path/'run')
    assert ha == hb and [r['step'] for r in ha if r['split'] == 'eval'] == [0, 4, 8]
    assert all('perplexity' in r for r in ha if r['split'] == 'eval')
    assert not (tmp_path/'run'/'checkpoints').exists()  # removed with the run's folder when the adapted model was saved
