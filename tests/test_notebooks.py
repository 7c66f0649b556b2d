"""Every notebook runs top to bottom as a test (nbdev_test), one pytest case per notebook, in the smoke profile.
The precision-sensitive chapters (the loop, Accelerate, masked-LM training) run a second time under the precision this machine
would not pick (`FTNB_PRECISION`, see conftest.py)."""
import os, subprocess, sys
from pathlib import Path
import pytest
from conftest import precision_params

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))
PRECISION_SENSITIVE = ['01b_lora.ipynb', '03_custom_loop.ipynb', '04_accelerate.ipynb', '06_mlm_adaptation.ipynb', '06a_tasks.ipynb']  # training or inference paths that branch on precision
CASES = [pytest.param(nb, {}, id=nb) for nb in NBS] + [
    pytest.param(nb, env, id=f'{nb}-{pid}') for nb in PRECISION_SENSITIVE for pid, env in precision_params()[1:]]

@pytest.mark.parametrize('nb,extra_env', CASES)
def test_notebook(nb, extra_env):
    env = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false', **extra_env}
    nbdev_test = Path(sys.executable).parent/'nbdev_test'
    r = subprocess.run([str(nbdev_test), '--path', f'nbs/{nb}', '--do_print'], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f'{nb} failed:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}'
