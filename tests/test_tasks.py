"""Every task end to end (smoke profile): `ftnb train` from a csv (single text with 3 string classes, a pair,
multi-label from 0/1 columns and from a list column, regression), `ftnb predict` (order kept, stdout, files),
`ftnb evaluate`, `pipeline` on the saved folders, and bad input: exit 2 + one line. Most commands run as `main(argv)`
in this process (`helpers.here`); predict, evaluate and an error also through the console script itself."""
import csv, io, json
import pytest
from helpers import ftnb, here, ok, one_line_error

WORDS = ['good', 'bad', 'fine', 'dull', 'great', 'awful', 'okay', 'superb', 'poor', 'nice', 'long', 'short']

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "A user's csv with every kind of label: a class name, a pair's second text, 0/1 tag columns, a JSON tag list, a score."
    d = tmp_path_factory.mktemp('data')
    with open(d/'reviews.csv', 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['id', 'review', 'other', 'sentiment', 'funny', 'long', 'tags', 'score'])
        for i in range(60):
            a, b = WORDS[i % 12], WORDS[(i * 5) % 12]
            w.writerow([f'r{i}', f'a {a} film, {i} minutes', f'the {b} cast', ['negative', 'neutral', 'positive'][i % 3],
                        i % 2, int(i % 3 == 0), json.dumps([t for t, on in (('funny', i % 2), ('long', i % 3 == 0)) if on]),
                        f'{(i % 9 - 4) * 0.5 + 0.25:.2f}'])
    return d

TASKS = {'sentiment': (['--text-a', 'review', '--label', 'sentiment'], 'single_label_classification'),
         'pair': (['--text-a', 'review', '--text-b', 'other', '--label', 'sentiment'], 'single_label_classification'),
         'tags': (['--text-a', 'review', '--label', 'funny,long'], 'multi_label_classification'),
         'taglist': (['--text-a', 'review', '--label', 'tags'], 'multi_label_classification'),
         'score': (['--text-a', 'review', '--label', 'score'], 'regression')}

@pytest.fixture(scope='module')
def runs(data):
    "One smoke training run per task, from the same csv (in this process: the console script's own runs are below)."
    out = {}
    for name, (args, _) in TASKS.items():
        ok(here('train', '--data', data/'reviews.csv', *args, '--epochs', '1', '--output-dir', data/f'run-{name}'))
        out[name] = data/f'run-{name}'
    return out

@pytest.mark.parametrize('name', list(TASKS))
def test_each_task_trains_predicts_and_loads_in_a_pipeline(name, data, runs):
    from ftnb import models  # noqa: F401 -- registers ftnb's mean-pooling head (the smoke and embedded checkpoints use it) with the Auto classes
    from transformers import AutoConfig, pipeline
    run = runs[name]
    cfg = AutoConfig.from_pretrained(run)
    assert (cfg.problem_type or 'single_label_classification') == TASKS[name][1]
    if name == 'sentiment': assert list(cfg.id2label.values()) == ['negative', 'neutral', 'positive']
    if name == 'score': assert cfg.num_labels == 1
    ok(here('predict', '--model', run, '--data', data/'reviews.csv', '--output', data/f'{name}.csv', '--chunk-size', '7'))
    rows = list(csv.DictReader(open(data/f'{name}.csv')))
    assert [r['id'] for r in rows] == [f'r{i}' for i in range(60)]           # every row once, in order
    first = list(rows[0])
    assert first[:8] == ['id', 'review', 'other', 'sentiment', 'funny', 'long', 'tags', 'score']  # input columns kept, first
    added = {'single_label_classification': ['predicted_label', 'predicted_prob'], 'regression': ['predicted_score'],
             'multi_label_classification': ['predicted_labels', 'prob_funny', 'prob_long']}[TASKS[name][1]]
    assert all(c in first for c in added), first
    kw = {'text': rows[0]['review'], 'text_pair': rows[0]['other']} if name == 'pair' else rows[0]['review']
    out = pipeline('text-classification', model=str(run))(kw, top_k=None)
    if name == 'sentiment':  # the pipeline and `ftnb predict` agree on the top class (bf16 vs fp32 aside: margin check)
        best = max(out, key=lambda o: o['score'])
        probs = sorted((float(rows[0][f'prob_{n}']) for n in cfg.id2label.values()), reverse=True)
        assert best['label'] == rows[0]['predicted_label'] or probs[0] - probs[1] < 0.02

def test_predict_to_stdout_and_other_formats(data, runs):
    r = ok(ftnb('predict', '--model', runs['sentiment'], '--data', data/'reviews.csv', '--output', '-', '--no-progress'))
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 60 and rows[59]['id'] == 'r59' and 'predicted_label' in rows[0]
    ok(here('predict', '--model', runs['score'], '--data', data/'reviews.csv', '--output', data/'s.jsonl'))
    back = [json.loads(l) for l in open(data/'s.jsonl')]
    assert len(back) == 60 and isinstance(back[0]['predicted_score'], float)
    ok(here('predict', '--model', runs['sentiment'], '--data', data/'reviews.csv'))  # default: beside the input
    assert (data/'reviews.predictions.csv').is_file()

def test_evaluate_prints_metrics_confusion_and_mistakes(data, runs):
    r = ok(ftnb('evaluate', '--model', runs['sentiment'], '--data', data/'reviews.csv', '--label', 'sentiment', '--top', '3'))
    assert 'accuracy' in r.stdout and 'macro_f1' in r.stdout and 'confusion matrix' in r.stdout and 'most confidently wrong' in r.stdout
    assert {p.name for p in (runs['sentiment']/'eval').iterdir()} >= {'metrics.json', 'confusion.png', 'wrong.csv'}
    r = ok(here('evaluate', '--model', runs['score'], '--data', data/'reviews.csv', '--label', 'score'))
    assert 'pearson' in r.stdout and (runs['score']/'eval'/'scatter.png').is_file()
    r = ok(here('evaluate', '--model', runs['tags'], '--data', data/'reviews.csv', '--label', 'funny,long'))
    assert 'subset_accuracy' in r.stdout

def write(path, header, rows):
    with open(path, 'w', newline='') as f: w = csv.writer(f); w.writerow(header); w.writerows(rows)
    return path

def test_bad_input_is_one_line(data, runs, tmp_path, run_main):  # run_main: in this process (tests/conftest.py)
    gap = write(tmp_path/'gap.csv', ['text', 'label'], [['fine', 'a'], ['', 'b']] * 10)
    one = write(tmp_path/'one.csv', ['text', 'label'], [['fine', 'a'], ['good', 'a']] * 10)
    words = write(tmp_path/'words.csv', ['text', 'label'], [['fine', 'a'], ['good', 'b']] * 10)
    odd = write(tmp_path/'odd.csv', ['review', 'sentiment'], [['fine', 'positive'], ['good', 'amazing']])
    nocol = write(tmp_path/'nocol.csv', ['body'], [['fine']])
    (tmp_path/'notamodel').mkdir()
    cases = [(['train', '--data', gap, '--output-dir', tmp_path/'o'], "'text' is empty"),
             (['train', '--data', one, '--output-dir', tmp_path/'o'], "a single class ('a')"),
             (['train', '--data', words, '--task', 'regression', '--output-dir', tmp_path/'o'], "is not a number"),
             (['evaluate', '--model', runs['sentiment'], '--data', odd, '--label', 'sentiment'], "label 'amazing' in column 'sentiment' is not one of the model's labels"),
             (['predict', '--model', tmp_path/'notamodel', '--data', odd], 'has no config.json'),
             (['predict', '--model', tmp_path/'nowhere', '--data', odd], 'no model folder'),
             (['predict', '--model', runs['sentiment'], '--data', nocol], "has no column 'review' (the model was trained on it)"),
             (['predict', '--model', runs['pair'], '--data', odd], "has no column 'other'"),
             (['predict', '--model', runs['sentiment'], '--data', tmp_path/'missing.csv'], 'no such file'),
             (['predict', '--model', runs['sentiment'], '--data', odd, '--output', odd], 'is the input file')]
    for argv, msg in cases:
        rc, _, err = run_main(*argv)
        lines = err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and msg in lines[0], (argv, rc, err[-2000:])
    assert 'is not a number' in one_line_error(ftnb(*cases[2][0]))  # and once through the console script itself
    assert not (tmp_path/'odd.predictions.csv').exists()  # nothing half-written
