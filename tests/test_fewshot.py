"""`ftnb train --few-shot` and `ftnb labels` end to end (smoke profile): a csv with 8 examples per class trains with the
few-shot trainer (chapter 06d), and the result goes through `ftnb predict` and a `pipeline`; a pair task too; and
the bad input of the few-labels setting (a class with one example, --few-shot with --lora, multi-label) is one line."""
import csv, json
import numpy as np
from pathlib import Path
import pytest
from helpers import ftnb, here, ok
from test_tasks import WORDS

NAMES = ['negative', 'neutral', 'positive']

def write_csv(path, per_class:int, pairs:bool=False, skip:dict=None):
    "A labelled csv with `per_class` rows per class (`skip`: fewer rows for some classes)."
    with open(path, 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['text', 'other', 'label'])
        for c, name in enumerate(NAMES):
            for i in range((skip or {}).get(name, per_class)):
                w.writerow([f'a {WORDS[(3 * i + c) % 12]} film, {name} {i}', f'the {WORDS[(5 * i + c) % 12]} cast', name])
    return path

@pytest.fixture(scope='module')
def few(tmp_path_factory):
    "A 3-class csv with 8 examples per class (a train split carved from it: ftnb's 80/10/10), trained with --few-shot."
    d = tmp_path_factory.mktemp('few')
    data = write_csv(d/'few.csv', 10)
    r = ok(ftnb('train', '--data', data, '--text-b', 'none', '--few-shot', '--output-dir', d/'run'))
    return d, r

def test_few_shot_trains_predicts_and_loads_in_a_pipeline(few):
    from ftnb import models  # noqa: F401 -- registers ftnb's head with the Auto classes
    from transformers import pipeline
    d, r = few
    assert 'validation accuracy' in r.stdout or 'validation loss' in r.stdout, r.stdout
    hist = json.loads((d/'run'/'history.json').read_text())
    assert [h['split'] for h in hist][-1] == 'eval' and any(h['split'] == 'train' for h in hist)  # the contrastive steps, then the scored model
    assert json.loads((d/'run'/'ftnb_run.json').read_text())['recipe']['few_shot_iterations'] == 20
    (d/'new.csv').write_text('text\na great film\nan awful cast\n')
    p = ok(here('predict', '--model', d/'run', '--data', d/'new.csv', '--output', '-'))
    rows = list(csv.DictReader(p.stdout.splitlines()))
    assert [x['text'] for x in rows] == ['a great film', 'an awful cast'] and all(x['predicted_label'] in NAMES for x in rows)
    out = pipeline('text-classification', model=str(d/'run'), device='cpu')(['a great film', 'an awful cast'])
    assert [o['label'] for o in out] == [x['predicted_label'] for x in rows]

def test_few_shot_pairs(tmp_path, run_main):
    data = write_csv(tmp_path/'pairs.csv', 10)
    rc, out, err = run_main('train', '--data', data, '--text-b', 'other', '--few-shot', '--output-dir', tmp_path/'run')
    assert rc == 0, err
    assert json.loads((tmp_path/'run'/'config.json').read_text())['pooling'] == 'pair'

def test_labels_counts_and_advises(tmp_path, run_main):
    rc, out, err = run_main('labels', '--data', write_csv(tmp_path/'l.csv', 20), '--text-b', 'none')
    assert rc == 0, err
    assert 'train: ' in out and 'negative ' in out and 'smallest' in out, out

def test_bad_input_is_one_line(tmp_path, run_main):
    lonely = write_csv(tmp_path/'lonely.csv', 20, skip={'neutral': 1})  # after the 80/10/10 split, 'neutral' has at most 1 training row
    rc, out, err = run_main('train', '--data', lonely, '--text-b', 'none', '--few-shot', '--output-dir', tmp_path/'a')
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "class 'neutral' has" in err and 'at least 2' in err, err
    ok_csv = write_csv(tmp_path/'ok.csv', 10)
    rc, out, err = run_main('train', '--data', ok_csv, '--text-b', 'none', '--few-shot', '--lora', '--output-dir', tmp_path/'b')
    assert rc == 2 and '--few-shot cannot be combined with --lora' in err, err
    tags = tmp_path/'tags.csv'
    tags.write_text('text,funny,long\n' + ''.join(f'film {i},{i % 2},{int(i % 3 == 0)}\n' for i in range(30)))
    rc, out, err = run_main('train', '--data', tags, '--label', 'funny,long', '--few-shot', '--output-dir', tmp_path/'c')
    assert rc == 2 and 'single-label' in err and len(err.strip().splitlines()) == 1, err

def test_per_class_samples_the_training_split(tmp_path, run_main):
    data = write_csv(tmp_path/'d.csv', 30)
    rc, out, err = run_main('train', '--data', data, '--text-b', 'none', '--per-class', '50', '--few-shot', '--output-dir', tmp_path/'a')
    assert rc == 2 and 'asked for 50 examples per class but class' in err and len(err.strip().splitlines()) == 1, err
    rc, out, err = run_main('train', '--data', data, '--text-b', 'none', '--per-class', '4', '--few-shot', '--output-dir', tmp_path/'b')
    assert rc == 0, err
    assert '(12 train /' in out, out  # 4 of each of the 3 classes

def test_few_shot_on_windows_scores_documents(tmp_path, run_main):
    "Long texts read as windows: the few-shot run trains on each text's first window and scores whole documents, like `ftnb train`."
    long = tmp_path/'long.csv'
    with open(long, 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['text', 'label'])
        for i in range(36): w.writerow([' '.join(f'{WORDS[(i + k) % 12]} film' for k in range(8 + 9 * (i % 5))), NAMES[i % 3]])  # 1 to 6 windows
    rc, out, err = run_main('train', '--data', long, '--few-shot', '--max-length', '32', '--stride', '8', '--output-dir', tmp_path/'run')
    assert rc == 0, err
    assert 'windows of 32 tokens' in out and 'validation loss' in out, out
    hist = json.loads((tmp_path/'run'/'history.json').read_text())
    from ftnb.data import load_task
    from ftnb.tasks import predict
    val = load_task(long, seed=42)['validation']  # the split `ftnb train` carved (its default --seed)
    pred = predict(tmp_path/'run', list(val['text']), progress=False)  # one prediction per document, windows aggregated
    names = val.features['label'].names
    acc = float(np.mean([p == names[y] for p, y in zip(pred['predicted_label'], val['label'])]))
    assert hist[-1]['split'] == 'eval' and abs(hist[-1]['accuracy'] - acc) < 1e-9, (hist[-1], acc)
