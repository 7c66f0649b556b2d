"""The `ftnb` console script: help, one-line usage errors with exit code 2, a smoke training run, one run per
output folder (a second run is refused; a run killed with `kill -9` resumes), bad input from a user's file."""
import json, os, signal, time
from pathlib import Path
import pytest
from helpers import ftnb, start, here, one_line_error

OUTPUTS = {'config.json', 'model.safetensors', 'tokenizer.json', 'history.json', 'curves.png'}

def wait_for(path, proc, timeout=120):
    "Wait until `path` exists (while `proc` runs); True if it does."
    t0 = time.time()
    while not Path(path).exists() and proc.poll() is None and time.time() - t0 < timeout: time.sleep(0.02)
    return Path(path).exists()

def test_help_and_usage_error_from_the_console_script():
    r = ftnb('train', '--help')
    assert r.returncode == 0 and '--output-dir' in r.stdout and '--max-train' in r.stdout and '--group-by-length' in r.stdout
    help_text = ' '.join(r.stdout.split())
    assert 'FTNB_PRECISION' in help_text and 'on a CPU' not in help_text  # true on every CPU
    r = here('train', '--epoch', '2')  # abbreviations are refused: a typo must not start a 3-epoch run (in this process)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == ["ftnb: error: unrecognized arguments: --epoch 2 (see `ftnb --help`)"]

def test_adapt_help_shows_adapts_own_defaults():
    import inspect
    from ftnb.mlm import adapt, ADAPT_OPTIM, Chunks
    r = here('adapt', '--help')  # in this process: the console script's help is tested above
    text, sig = ' '.join(r.stdout.split()), inspect.signature(adapt).parameters
    assert r.returncode == 0 and '--resume' in text
    for name in ['batch_size', 'seed']: assert f"(default: {sig[name].default})" in text, name
    for name in ['epochs', 'lr']: assert f"(default: {getattr(ADAPT_OPTIM, name)})" in text, name  # adapt's, not Optim's
    assert 'training chunks (default 4,000' in text  # --train-size's help is Chunks' docment

@pytest.mark.parametrize('args,msg', [([], 'required'), (['train', '--lr', '0'], 'positive float'),
    (['train', '--precision', 'fp8'], 'invalid choice'), (['train', '--data', 'missing/pairs.csv'], 'no such file'),
    (['train', '--checkpoint', './no-model'], 'no such folder'), (['adapt', '--data', 'missing/reviews.csv'], 'no such file'),
    (['adapt', '--epochs', '-1'], 'positive float'), (['nonsense'], 'invalid choice')])
def test_usage_errors(args, msg, run_main):
    rc, _, err = run_main(*args)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and msg in err, err

def test_bad_paths(tmp_path, run_main):
    f = tmp_path/'f'; f.write_text('x')
    rc, _, err = run_main('train', '--output-dir', f)
    assert rc == 2 and 'is a file' in err and len(err.strip().splitlines()) == 1
    for cmd in ['train', 'adapt']:
        rc, _, err = run_main(cmd, '--resume', '--output-dir', tmp_path/'new')
        assert rc == 2 and 'no checkpoint' in err
    (tmp_path/'p.csv').write_text('first,second,label\na,b,0\nc,d,1\n')  # wrong column names: found when read
    rc, _, err = run_main('train', '--smoke', '--data', tmp_path/'p.csv', '--output-dir', tmp_path/'o')
    assert rc == 2 and 'sentence1' in err and len(err.strip().splitlines()) == 1, err

def test_output_dir_that_cannot_be_created():
    line = one_line_error(here('train', '--smoke', '--output-dir', '/proc/nope'))
    assert 'cannot create the output folder /proc/nope' in line

def test_label_column_mixing_numbers_and_words(tmp_path):
    rows = ''.join(f'first {i},second {i},{l}\n' for i, l in enumerate([1, 'maybe', 0, 1, 0, 1, 0, 1]))
    (tmp_path/'mixed.csv').write_text('sentence1,sentence2,label\n' + rows)
    line = one_line_error(here('train', '--smoke', '--data', tmp_path/'mixed.csv', '--output-dir', tmp_path/'o'))
    assert "'label'" in line and 'maybe' in line

def test_train_smoke(tmp_path):
    out = tmp_path/'run'
    r = ftnb('train', '--smoke', '--epochs', '1', '--max-train', '32', '--output-dir', out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'validation loss' in r.stdout and 'accuracy' in r.stdout
    assert OUTPUTS <= {p.name for p in out.iterdir()}
    assert not any(p.name.endswith('.tmp') for p in out.iterdir()) and not (out/'.ftnb.owner').exists()
    h = json.loads((out/'history.json').read_text())
    assert [x['split'] for x in h].count('eval') == 1
    assert json.loads((out/'config.json').read_text())['pooling'] == 'pair'  # --pooling auto: pairs on a mean-pooled encoder

def test_same_seed_same_run(tmp_path):
    """Two runs with one --seed train the same model: the new head's init is seeded too, not only the data order (both in this
    process, one after the other: nothing left over from the first may change the second)."""
    from killrun import same_weights, without_seconds
    args = ['train', '--smoke', '--epochs', '1', '--max-train', '32', '--seed', '7']
    for d in ('a', 'b'): assert (r := here(*args, '--output-dir', tmp_path/d)).returncode == 0, r.stderr[-2000:]
    assert same_weights(tmp_path/'a'/'model.safetensors', tmp_path/'b'/'model.safetensors')
    hist = [without_seconds(json.loads((tmp_path/d/'history.json').read_text())) for d in ('a', 'b')]
    assert hist[0] == hist[1]

def test_train_head_choice(tmp_path):
    "config.json's head: `--pooling mean` overrides auto's pair head; single texts get auto's mean head (01a tests reloads)."
    rows = ''.join(f'"review number {i}, {w}",{w}\n' for i, w in enumerate(['good', 'bad'] * 20))
    (tmp_path/'single.csv').write_text('text,label\n' + rows)
    runs = {'mean': ['--pooling', 'mean'], 'single': ['--data', tmp_path/'single.csv']}
    for d, extra in runs.items():
        r = here('train', '--smoke', *extra, '--epochs', '1', '--max-train', '32', '--output-dir', tmp_path/d)
        assert r.returncode == 0, r.stderr[-2000:]
    cfgs = [json.loads((tmp_path/d/'config.json').read_text()) for d in runs]
    assert [(c['pooling'], c['model_type']) for c in cfgs] == [('mean', 'ftnb-mean-pooling')] * 2
    assert 'no source was given' in one_line_error(here('train', '--smoke', '--text-b', 'none', '--output-dir', tmp_path/'x'))

def test_second_run_into_the_same_folder_is_refused(tmp_path):
    out, args = tmp_path/'run', ['train', '--smoke', '--epochs', '1', '--max-train', '32']
    first = start(*args, '--output-dir', out)
    assert wait_for(out/'.ftnb.owner', first), first.communicate()[1][-2000:]  # it holds the folder now
    os.kill(first.pid, signal.SIGSTOP)  # keep it holding the folder, deterministically, while the second one starts
    try: second = ftnb(*args, '--output-dir', out)
    finally: os.kill(first.pid, signal.SIGCONT)
    line = one_line_error(second)
    assert 'is in use by another run' in line and f'pid {first.pid}' in line, line
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0 and 'validation loss' in stdout, stderr[-2000:]
    assert OUTPUTS <= {p.name for p in out.iterdir()}

def kill_and_resume(out, *args):
    "Start `ftnb *args`, kill it with SIGKILL once it has saved a checkpoint, `--resume` it; return (saved history, result)."
    p = start(*args, '--output-dir', out)
    assert wait_for(out/'checkpoints'/'last'/'state.json', p), p.communicate()[1][-2000:]
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert (out/'checkpoints'/'last').is_dir() and not (out/'history.json').exists(), 'the run ended before it was killed'
    assert (out/'.ftnb.owner').exists()  # the killed run's owner note stays; its OS lock died with it
    saved = json.loads((out/'checkpoints'/'last'/'state.json').read_text())['history']
    return saved, ftnb(*args, '--resume', '--output-dir', out)

def test_killed_train_resumes(tmp_path):
    out = tmp_path/'run'
    saved, r = kill_and_resume(out, 'train', '--smoke', '--epochs', '3', '--max-train', '32')
    assert r.returncode == 0 and 'validation loss' in r.stdout, r.stderr[-2000:]
    h = json.loads((out/'history.json').read_text())
    assert h[:len(saved)] == saved  # the records of the killed run, timings included: it continued, not restarted
    assert [x['epoch'] for x in h if x['split'] == 'eval'] == [1, 2, 3]
    assert not (out/'checkpoints').exists() and not (out/'.ftnb.owner').exists()

def test_killed_adapt_resumes(tmp_path):
    out = tmp_path/'run'
    saved, r = kill_and_resume(out, 'adapt', '--smoke', '--epochs', '3')
    assert r.returncode == 0 and 'resuming' in r.stdout, r.stderr[-2000:]
    h = json.loads((out/'history.json').read_text())
    assert h[:len(saved)] == saved and len([x for x in h if x['split'] == 'eval']) == 4  # before training, then per epoch

def test_help_lists_predict_and_evaluate(run_main):
    def out(*argv):  # in this process: the console script itself is tested above
        rc, text, _ = run_main(*argv)
        assert rc in (0, None); return ' '.join(text.split())
    top = out('--help')
    assert 'predict' in top and 'evaluate' in top
    text = out('train', '--help')
    assert '--task' in text and 'multi_label_classification' in text and "'none': single texts" in text
    for cmd, flag in [('predict', '--output'), ('evaluate', '--top')]:
        text = out(cmd, '--help')
        assert flag in text and '--model' in text
    rc, _, err = run_main('predict', '--data', 'x.csv')  # --model is required: a usage error, one line
    assert rc == 2 and len(err.strip().splitlines()) == 1 and '--model' in err
