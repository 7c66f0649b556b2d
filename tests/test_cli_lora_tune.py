"""`ftnb train --lora` → `ftnb predict` on the adapter folder, and `ftnb tune` (run, resume, refusals), as a user runs them:
each first through the console script, then in this process (`helpers.here`: the same `main`, without the start-up)."""
import json
from helpers import ftnb, here, one_line_error

def test_train_lora_then_predict(tmp_path):
    r = ftnb('train', '--lora', '4', '--epochs', '1', '--output-dir', tmp_path/'run')
    assert r.returncode == 0, r.stderr[-2000:]
    files = {p.name for p in (tmp_path/'run').iterdir()}
    assert {'adapter_config.json', 'adapter_model.safetensors', 'ftnb_lora.json', 'history.json'} <= files
    assert 'model.safetensors' not in files                      # the adapter, not a copy of the whole model
    assert json.loads((tmp_path/'run'/'adapter_config.json').read_text())['r'] == 4
    (tmp_path/'in.csv').write_text('sentence1,sentence2\ngreat film,awful film\nboring,a delight\n')
    p = here('predict', '--model', tmp_path/'run', '--data', tmp_path/'in.csv', '--output', '-')
    assert p.returncode == 0, p.stderr[-2000:]
    rows = p.stdout.strip().splitlines()
    assert rows[0].startswith('sentence1,sentence2,predicted_label') and len(rows) == 3
    full = here('train', '--epochs', '1', '--output-dir', tmp_path/'run')  # a full run into the same folder replaces the adapter
    assert full.returncode == 0, full.stderr[-2000:]
    files = {p.name for p in (tmp_path/'run').iterdir()}
    assert 'model.safetensors' in files and not files & {'adapter_config.json', 'adapter_model.safetensors', 'ftnb_lora.json'}
    again = here('train', '--lora', '4', '--epochs', '1', '--output-dir', tmp_path/'run')  # and back: the old full model goes
    assert again.returncode == 0 and not {p.name for p in (tmp_path/'run').iterdir()} & {'model.safetensors', 'config.json'}

def test_tune_runs_resumes_and_refuses(tmp_path):
    out = tmp_path/'search'
    r = ftnb('tune', '--trials', '2', '--output-dir', out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'ftnb tune:' in r.stdout and (out/'study.db').is_file() and (out/'search.png').is_file()
    rows = [json.loads(l) for l in (out/'trials.jsonl').read_text().splitlines()]
    assert len(rows) == 2 and all({'params', 'verdict', 'seconds'} <= set(row) for row in rows)
    again = here('tune', '--trials', '3', '--output-dir', out)  # resumes the same study: one more trial, not three
    assert again.returncode == 0, again.stderr[-2000:]
    assert len((out/'trials.jsonl').read_text().splitlines()) == 3
    assert 'invalid choice' in one_line_error(here('tune', '--pruner', 'mean', '--output-dir', out))
    (tmp_path/'file').write_text('x')
    assert 'is a file' in one_line_error(here('tune', '--output-dir', tmp_path/'file'))
