"""The `ftnb` console script: help, one-line usage errors with exit code 2, a smoke training run."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
from ftnb.cli import main

FTNB = str(Path(sys.executable).parent/'ftnb')
ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}

def ftnb(*args, timeout=600):
    "Run the installed console script, as a user does."
    return subprocess.run([FTNB, *map(str, args)], env=ENV, capture_output=True, text=True, timeout=timeout)

def run_main(argv, capsys):
    "`main(argv)` in this process: (exit code, stderr)."
    try: rc = main([str(a) for a in argv])
    except SystemExit as e: rc = e.code
    return rc, capsys.readouterr().err

def test_help_and_usage_error_from_the_console_script():
    r = ftnb('train', '--help')
    assert r.returncode == 0 and '--output-dir' in r.stdout and '--max-train' in r.stdout and '--group-by-length' in r.stdout
    r = ftnb('train', '--epoch', '2')  # abbreviations are refused: a typo must not start a 3-epoch run
    assert r.returncode == 2 and r.stderr.strip().splitlines() == ["ftnb: error: unrecognized arguments: --epoch 2 (see `ftnb --help`)"]

@pytest.mark.parametrize('args,msg', [([], 'required'), (['train', '--lr', '0'], 'positive float'),
    (['train', '--precision', 'fp8'], 'invalid choice'), (['train', '--data', 'missing/pairs.csv'], 'no such file'),
    (['train', '--checkpoint', './no-model'], 'no such folder'), (['adapt', '--data', 'missing/reviews.csv'], 'no such file'),
    (['adapt', '--epochs', '-1'], 'positive float'), (['nonsense'], 'invalid choice')])
def test_usage_errors(args, msg, capsys):
    rc, err = run_main(args, capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and msg in err, err

def test_bad_paths(tmp_path, capsys):
    f = tmp_path/'f'; f.write_text('x')
    rc, err = run_main(['train', '--output-dir', f], capsys)
    assert rc == 2 and 'is a file' in err and len(err.strip().splitlines()) == 1
    rc, err = run_main(['train', '--resume', '--output-dir', tmp_path/'new'], capsys)
    assert rc == 2 and 'no checkpoint' in err
    (tmp_path/'p.csv').write_text('first,second,label\na,b,0\nc,d,1\n')  # wrong column names: found when read
    rc, err = run_main(['train', '--smoke', '--data', tmp_path/'p.csv', '--output-dir', tmp_path/'o'], capsys)
    assert rc == 2 and 'sentence1' in err and len(err.strip().splitlines()) == 1, err

def test_train_smoke(tmp_path):
    out = tmp_path/'run'
    r = ftnb('train', '--smoke', '--epochs', '1', '--max-train', '32', '--output-dir', out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'validation loss' in r.stdout and 'accuracy' in r.stdout
    assert {'config.json', 'model.safetensors', 'tokenizer.json', 'history.json', 'curves.png'} <= {p.name for p in out.iterdir()}
    h = json.loads((out/'history.json').read_text())
    assert [x['split'] for x in h].count('eval') == 1
