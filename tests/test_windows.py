"""Whole documents and skewed labels through the command (smoke profile): `ftnb train --data reviews` reads every review
as overlapping windows (`--stride auto`), records how in the model's config, and `ftnb predict`/`evaluate` on the saved
model cut and combine windows the same way without being told; `--class-weights`; bad window and weight options are one
line. The real limit: a checkpoint whose tokenizer states none is still cut at its position embeddings."""
import csv, json
from pathlib import Path
import numpy as np
import pytest

def write_reviews(path, ds, n=None):
    "The split `ds` (text, label names) as a user's csv."
    names = ds.features['label'].names
    with open(path, 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['text', 'label'])
        for r in list(ds)[:n]: w.writerow([r['text'], names[r['label']]])
    return path

@pytest.fixture(scope='module')
def reviews_run(tmp_path_factory):
    "`ftnb train --data reviews --max-length 64` in this process: the smoke reviews, read as windows."
    import os
    from ftnb.cli import main
    env = {'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}
    old = {k: os.environ.get(k) for k in env}; os.environ.update(env)
    d = tmp_path_factory.mktemp('reviews')
    try:
        import contextlib, io
        out = io.StringIO()
        with contextlib.redirect_stdout(out): rc = main(['train', '--data', 'reviews', '--epochs', '1', '--max-length', '64', '--output-dir', str(d/'run')])
        yield d, rc, out.getvalue()
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v

def test_train_reviews_reads_windows(reviews_run):
    d, rc, out = reviews_run
    assert rc == 0, out
    assert 'windows of 64 tokens sharing 16' in out and '60 train texts as' in out, out
    cfg = json.loads((d/'run'/'config.json').read_text())
    assert cfg['ftnb_windows'] == {'max_length': 64, 'stride': 16, 'aggregate': 'mean'}
    h = json.loads((d/'run'/'history.json').read_text())
    assert 'accuracy' in [r for r in h if r['split'] == 'eval'][-1]

def test_predict_and_evaluate_aggregate_per_document(reviews_run, run_main, tmp_path):
    from ftnb.data import load_reviews_task
    from ftnb.tasks import load_trained, logits_of
    from ftnb.loop import Runtime
    d, rc, _ = reviews_run
    assert rc == 0
    test = load_reviews_task()['test']
    csv_in = write_reviews(tmp_path/'test.csv', test)
    model, tok = load_trained(d/'run')
    assert max(len(x) for x in tok(list(test['text']))['input_ids']) > 64 * 3   # texts far longer than the window
    rc, _, err = run_main('predict', '--model', d/'run', '--data', csv_in, '--output', tmp_path/'pred.csv', '--precision', 'fp32')
    assert rc == 0, err
    rows = list(csv.DictReader(open(tmp_path/'pred.csv')))
    assert [r['text'] for r in rows] == list(test['text'])   # one row per review, in order
    rt = Runtime('cpu', 'fp32')
    wins = logits_of(model, tok, list(test['text']), runtime=rt, max_length=64, stride=16)
    cut = logits_of(model, tok, list(test['text']), runtime=rt, max_length=64)
    p = np.array([[float(r['prob_neg']), float(r['prob_pos'])] for r in rows])
    soft = lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    assert np.allclose(p, soft(wins), atol=1e-5) and not np.allclose(p, soft(cut), atol=1e-5)
    rc, out, err = run_main('evaluate', '--model', d/'run', '--data', csv_in, '--output-dir', tmp_path/'ev', '--precision', 'fp32')
    assert rc == 0, err
    m = json.loads((tmp_path/'ev'/'metrics.json').read_text())
    assert m['n'] == len(test)   # documents, not windows
    y = np.array(test['label'])
    assert abs(m['accuracy'] - float((wins.argmax(-1) == y).mean())) < 1e-9
    rc, _, err = run_main('predict', '--model', d/'run', '--data', csv_in, '--output', tmp_path/'cut.csv', '--stride', 'none', '--precision', 'fp32')
    p2 = np.array([[float(r['prob_neg']), float(r['prob_pos'])] for r in csv.DictReader(open(tmp_path/'cut.csv'))])
    assert rc == 0 and np.allclose(p2, soft(cut), atol=1e-5)   # told otherwise, it truncates

def test_class_weights_and_short_texts(tmp_path, run_main):
    rows = [[f'a fine film {i}', 'common'] for i in range(36)] + [[f'a dull film {i}', 'rare'] for i in range(4)]
    with open(tmp_path/'skew.csv', 'w', newline='') as f: csv.writer(f).writerows([['text', 'label']] + rows)
    rc, out, err = run_main('train', '--data', tmp_path/'skew.csv', '--epochs', '1', '--class-weights', 'balanced', '--output-dir', tmp_path/'run')
    assert rc == 0, err
    w = [float(v) for v in out.split('class weights [')[1].split(']')[0].split(',')]
    assert w[1] > 4 * w[0] and 'texts cut at 512 tokens' in out, out   # the rare class weighs more; short texts: no windows
    assert json.loads((tmp_path/'run'/'config.json').read_text())['ftnb_windows']['stride'] is None

@pytest.mark.parametrize('argv,msg', [
    (['--stride', '64', '--max-length', '64'], 'stride=64 must be smaller than max_length=64'),
    (['--max-length', '4096'], "max_length=4096 is above the model's limit of 512 tokens"),
    (['--class-weights', '1,2,3'], 'got 3 class weights for 2 classes'),
    (['--class-weights', 'heavy'], "expected 'balanced' or numbers"),
    (['--stride', 'wide'], "expected a number of tokens, 'auto' or 'none'")])
def test_bad_window_and_weight_options(argv, msg, tmp_path, run_main):
    rc, _, err = run_main('train', '--data', 'reviews', '--output-dir', tmp_path/'o', *argv)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and msg in lines[0], (rc, err[-1500:])
    assert not (tmp_path/'o'/'config.json').exists()

def test_unbounded_tokenizer_is_cut_at_the_positions(tmp_path):
    "A tokenizer with no `model_max_length` (the smoke one) and a 220,000-character row: predicted, not a size error."
    import os
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    from transformers import AutoTokenizer
    from ftnb.core import temp_env, default_checkpoint
    from ftnb.data import model_limit
    from ftnb.models import load_classifier
    from ftnb.tasks import predict
    with temp_env(FTNB_SMOKE='1'):
        ck = default_checkpoint('cls')
        tok = AutoTokenizer.from_pretrained(ck)
        assert tok.model_max_length > 1_000_000 and model_limit(tok) == 512
        model = load_classifier(ck, ['neg', 'pos'])
        df = predict((model.eval(), tok), ['word ' * 44_000, 'short'], progress=False, precision='fp32')
    assert len(df) == 2 and set(df['predicted_label']) <= {'neg', 'pos'}
