"""What the process-level tests share: the `ftnb` console script as a user runs it (`ftnb`, `start`), the same command
in the test's own process (`here`: no interpreter start-up, which costs seconds per call — for the many cases that need
no console script of their own), the checks on what they return (`ok`, `one_line_error`), and a saved smoke model."""
import contextlib, io, os, subprocess, sys
from pathlib import Path

FTNB = str(Path(sys.executable).parent/'ftnb')
SMOKE = {'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}
ENV = {**os.environ, **SMOKE}

def ftnb(*args, timeout=600) -> subprocess.CompletedProcess:
    "Run the installed console script, as a user does (smoke profile, offline)."
    return subprocess.run([FTNB, *map(str, args)], env=ENV, capture_output=True, text=True, timeout=timeout)

def start(*args) -> subprocess.Popen:
    "Start the console script in the background."
    return subprocess.Popen([FTNB, *map(str, args)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def here(*args) -> subprocess.CompletedProcess:
    "`ftnb ARGS` as `ftnb.cli.main` in this process (smoke profile, offline): what `ftnb` returns, without its start-up."
    from ftnb.cli import main
    from ftnb.core import temp_env
    out, err = io.StringIO(), io.StringIO()
    with temp_env(**SMOKE), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: rc = main([str(a) for a in args])
        except SystemExit as e:  # as the interpreter does: None is 0, a message goes to stderr with 1
            rc = 0 if e.code is None else e.code if isinstance(e.code, int) else (print(e.code, file=sys.stderr) or 1)
    return subprocess.CompletedProcess(['ftnb', *map(str, args)], rc, out.getvalue(), err.getvalue())

def ok(r:subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    "`r`, after checking that the command succeeded (its stderr's end otherwise)."
    assert r.returncode == 0, r.stderr[-3000:]
    return r

def one_line_error(r:subprocess.CompletedProcess) -> str:
    "The stderr of a failed run: exit code 2, exactly one line, no traceback."
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and 'Traceback' not in r.stderr, (r.returncode, r.stderr[-2000:])
    return lines[0]

def smoke_model(d:Path, names=('negative', 'neutral', 'positive')) -> Path:
    "A smoke-profile classifier (untrained head: predictions are predictions) saved in `d` with its tokenizer."
    from transformers import AutoTokenizer
    from ftnb.core import default_checkpoint, set_seed, temp_env
    from ftnb.models import load_classifier
    with temp_env(**SMOKE):
        ck = default_checkpoint('cls'); set_seed(0)
        load_classifier(ck, list(names)).save_pretrained(d); AutoTokenizer.from_pretrained(ck).save_pretrained(d)
    return d
