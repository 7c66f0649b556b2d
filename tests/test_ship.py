"""Shipping a model (chapter 06c) through the console script, smoke profile: `ftnb export` -> `ftnb predict`/`evaluate` on
the exported folder for every task (fp32 and int8; windows; LoRA merged; the stock [CLS] head), what `ftnb train` leaves for a user (calibration,
model card, the head's code loading without ftnb), and bad input: exit 2 + one line. A file of its own (its own runs of
the same csv) so that pytest-xdist runs it beside test_tasks.py."""
import csv, json, subprocess, sys
import pytest
from helpers import ftnb, here, ok, one_line_error, ENV
from test_tasks import data, runs, TASKS  # noqa: F401 -- the same csv and one run per task

def predictions(path):
    return list(csv.DictReader(open(path)))

def run(*argv) -> str:
    "`ftnb *argv` in this process (no interpreter start-up: most calls here); its stdout, after checking it succeeded."
    return ok(here(*argv)).stdout

@pytest.mark.parametrize('name', list(TASKS))
def test_export_then_predict_every_task(name, data, runs, tmp_path):
    q = ['--quantize', 'int8'] if name in ('sentiment', 'tags') else []  # int8 on one classes task and one tags task
    argv = ('export', runs[name], '--output', tmp_path/'x', *q)
    out = ok(ftnb(*argv)).stdout if name == 'sentiment' else run(*argv)  # once through the console script
    assert 'against PyTorch on 64 rows' in out and (tmp_path/'x'/'model.onnx').is_file(), out
    info = json.loads((tmp_path/'x'/'config.json').read_text())['ftnb_onnx']
    assert info['check']['fp32']['max_abs_diff'] < 1e-3 and info['quantize'] == (q[1] if q else None)
    run('predict', '--model', runs[name], '--data', data/'reviews.csv', '--output', tmp_path/'torch.csv', '--precision', 'fp32')
    run('predict', '--model', tmp_path/'x', '--data', data/'reviews.csv', '--output', tmp_path/'onnx.csv')
    a, b = predictions(tmp_path/'torch.csv'), predictions(tmp_path/'onnx.csv')
    assert list(a[0]) == list(b[0]) and [r['id'] for r in b] == [f'r{i}' for i in range(60)]  # the same columns, rows in order
    num = [c for c in a[0] if c.startswith('prob_') or c == 'predicted_score']
    worst = max(abs(float(x[c]) - float(y[c])) for x, y in zip(a, b) for c in num)
    assert worst < (0.05 if q else 1e-4), worst
    label = {'sentiment': 'sentiment', 'pair': 'sentiment', 'tags': 'funny,long', 'taglist': 'tags', 'score': 'score'}[name]
    out = run('evaluate', '--model', tmp_path/'x', '--data', data/'reviews.csv', '--label', label)
    assert (', ece ' in out) == (TASKS[name][1] == 'single_label_classification'), out

def test_export_windows_lora_and_cls_head(data, tmp_path):
    long = tmp_path/'long.csv'
    with open(long, 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['text', 'label'])
        for i in range(40): w.writerow([' '.join(['good' if i % 2 else 'bad'] * (20 + i) + ['film'] * 30), ['neg', 'pos'][i % 2]])
    for extra, name in [(['--max-length', '32', '--stride', '8'], 'win'), (['--lora', '4'], 'lora'), (['--pooling', 'cls'], 'cls')]:
        run('train', '--data', long, '--epochs', '1', '--output-dir', tmp_path/name, *extra)
        run('export', tmp_path/name)
        run('predict', '--model', tmp_path/name, '--data', long, '--output', tmp_path/f'{name}-torch.csv', '--precision', 'fp32')
        run('predict', '--model', tmp_path/f'{name}-onnx', '--data', long, '--output', tmp_path/f'{name}-onnx.csv')
        a, b = predictions(tmp_path/f'{name}-torch.csv'), predictions(tmp_path/f'{name}-onnx.csv')
        assert max(abs(float(x['prob_pos']) - float(y['prob_pos'])) for x, y in zip(a, b)) < 1e-4, name
    cfg = json.loads((tmp_path/'win-onnx'/'config.json').read_text())
    assert cfg['ftnb_windows'] == {'max_length': 32, 'stride': 8, 'aggregate': 'mean'}  # predict reads the export as trained

def test_train_leaves_calibration_card_and_portable_code(runs, tmp_path):
    run = runs['sentiment']
    cfg = json.loads((run/'config.json').read_text())
    cal = cfg['ftnb_calibration']
    assert cal['method'] == 'temperature' and cal['temperature'] > 0 and cal['ece_after'] <= cal['ece_before'] + 1e-9
    assert 'ftnb_calibration' not in json.loads((runs['tags']/'config.json').read_text())  # tags: no single top probability
    card = (run/'README.md').read_text()
    facts = json.loads((run/'ftnb_run.json').read_text())
    assert card.startswith('---\nlibrary_name: transformers') and f"T = {cal['temperature']}" in card
    assert facts['command'].startswith('ftnb train --data') and facts['command'] in card and facts['machine']['cpu'] in card
    code = f'''
import sys, json
sys.modules['ftnb'] = None  # ftnb cannot be imported
from transformers import pipeline
print(json.dumps(pipeline('text-classification', model={str(run)!r}, trust_remote_code=True)('a good film, 3 minutes', top_k=None)))'''
    env = {**ENV, 'HF_MODULES_CACHE': str(tmp_path/'modules')}
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(o['label'] for o in json.loads(r.stdout.strip().splitlines()[-1])) == ['negative', 'neutral', 'positive']

def test_export_bad_input_is_one_line(data, runs, tmp_path, run_main):
    (tmp_path/'notamodel').mkdir()
    run('export', runs['sentiment'], '--output', tmp_path/'good')
    bad = tmp_path/'bad'; bad.mkdir()
    for f in (tmp_path/'good').iterdir(): (bad/f.name).write_bytes(f.read_bytes())
    (bad/'model.onnx').write_bytes((bad/'model.onnx').read_bytes()[:1000])  # a corrupt graph
    cut = tmp_path/'cut'; cut.mkdir()
    for f in runs['sentiment'].iterdir():
        if f.is_file(): (cut/f.name).write_bytes(f.read_bytes())
    w = cut/'model.safetensors'; w.write_bytes(w.read_bytes()[:w.stat().st_size // 2])  # a truncated copy
    (tmp_path/'keep').mkdir(); (tmp_path/'keep'/'notes.txt').write_text('mine')
    cases = [(['export', tmp_path/'notamodel'], 'has no config.json'),
             (['export', runs['sentiment'], '--quantize', 'int4', '--output', tmp_path/'q'], "no 'int4' dynamic quantization"),
             (['export', runs['sentiment'], '--output', tmp_path/'keep'], 'is not an ftnb export'),
             (['predict', '--model', bad, '--data', data/'reviews.csv'], 'cannot be read by onnxruntime'),
             (['predict', '--model', cut, '--data', data/'reviews.csv'], 'the weights cannot be loaded')]
    for argv, msg in cases:
        rc, _, err = run_main(*argv)
        lines = err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and msg in lines[0], (argv, rc, err[-2000:])
    assert 'cannot be read by onnxruntime' in one_line_error(ftnb(*cases[3][0]))  # and once through the console script
    assert not (tmp_path/'q').exists() and (tmp_path/'keep'/'notes.txt').read_text() == 'mine'  # nothing written, nothing lost
