"""LoRA (ftnb.lora) at process level, smoke profile: exact resume after a real kill -9 (both precisions), save/load in a
fresh process, the merged copy in `pipeline`, and one-line errors."""
import json, os, subprocess, sys
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file
from killrun import kill_at, same_weights, without_seconds

ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false', 'OMP_NUM_THREADS': '1'}

CHILD = r'''
import sys, time, json
from pathlib import Path
from safetensors.torch import save_file
from transformers import AutoTokenizer
from ftnb.core import default_checkpoint, set_seed, quiet_libraries
from ftnb.data import load_pairs, tokenize_pairs, make_loaders
from ftnb.models import load_classifier
from ftnb.lora import add_lora, save_lora
from ftnb.loop import train
quiet_libraries()
ckpt, out, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
ck = default_checkpoint('cls'); tok = AutoTokenizer.from_pretrained(ck); raw = load_pairs()
ds = tokenize_pairs(raw, tok, remove_text=True, rename_label=True)
tdl, edl = make_loaders(ds, tok, batch_size=8, seed=0)
set_seed(0)
model = add_lora(load_classifier(ck, raw['train'].features['label'].names, pooling='mean'), rank=4)
slow = [lambda s, h: time.sleep(0.3)] if mode == 'slow' else []
h = train(model, tdl, edl, epochs=1, lr=1e-3, eval_every=10, ckpt_dir=ckpt, ckpt_every=1, resume=mode == 'resume',
          seed=0, progress=False, callbacks=slow)
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out) + '.safetensors')
Path(str(out) + '.json').write_text(json.dumps(list(h)))
save_lora(model, str(out) + '-adapter', tokenizer=tok)
'''

def child(*args, env=None, code=CHILD):
    return subprocess.Popen([sys.executable, '-c', code, *map(str, args)], env={**ENV, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def test_lora_kill_and_resume_is_exact(tmp_path, precision_env):
    ref = child(tmp_path/'ref', tmp_path/'ref', 'plain', env=precision_env)
    assert ref.wait(timeout=600) == 0, ref.stderr.read()
    p = child(tmp_path/'run', tmp_path/'run', 'slow', env=precision_env)
    assert 0 < kill_at(p, tmp_path/'run'/'last'/'state.json', 5) and not (tmp_path/'run.safetensors').exists()
    r = child(tmp_path/'run', tmp_path/'run', 'resume', env=precision_env)
    assert r.wait(timeout=600) == 0, r.stderr.read()
    assert same_weights(tmp_path/'ref.safetensors', tmp_path/'run.safetensors')
    a = load_file(tmp_path/'ref.safetensors')
    assert any('lora_B' in k and a[k].abs().sum() > 0 for k in a)  # the adapters did train
    assert without_seconds(json.loads((tmp_path/'ref.json').read_text())) == without_seconds(json.loads((tmp_path/'run.json').read_text()))

LOAD = r'''
import sys, json, torch
from ftnb.lora import load_lora
from ftnb.core import eval_mode
model, tok = load_lora(sys.argv[1], merge=sys.argv[2] == 'merge')
x = tok(['a fine film', 'a dull one'], ['it works', 'it does not'], return_tensors='pt', padding=True)
with eval_mode(model), torch.no_grad(): print(json.dumps(model(**x).logits.tolist()))
'''

PIPE = r'''
import sys, json
import ftnb.models  # registers the mean-pooling head with the Auto classes
from transformers import pipeline
clf = pipeline('text-classification', model=sys.argv[1], device='cpu', top_k=None)
print(json.dumps(clf([{'text': 'a fine film', 'text_pair': 'it works'}, {'text': 'a dull one', 'text_pair': 'it does not'}])))
'''

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "A briefly trained LoRA model (mean-pooling head), its adapter folder and a merged copy."
    from transformers import AutoTokenizer
    from ftnb.core import default_checkpoint, set_seed, temp_env
    with temp_env(FTNB_SMOKE='1', HF_HUB_OFFLINE='1'):
        from ftnb.data import load_pairs, tokenize_pairs, make_loaders
        from ftnb.models import load_classifier, MeanPoolingClassifier
        from ftnb.lora import add_lora, save_lora
        from ftnb.loop import train
        d = tmp_path_factory.mktemp('lora')
        ck = default_checkpoint('cls'); tok = AutoTokenizer.from_pretrained(ck); raw = load_pairs()
        ds = tokenize_pairs(raw, tok, remove_text=True, rename_label=True)
        tdl, _ = make_loaders(ds, tok, batch_size=16, seed=0, eval_split=None)
        set_seed(0)
        model = add_lora(load_classifier(ck, raw['train'].features['label'].names, pooling='mean'))
        assert isinstance(model.get_base_model(), MeanPoolingClassifier)
        train(model, tdl, epochs=1, lr=1e-2, progress=False)
        save_lora(model, d/'adapter', tokenizer=tok); save_lora(model, d/'merged', tokenizer=tok, merge=True)
    return model, tok, d

def expected_logits(model, tok):
    from ftnb.core import eval_mode
    x = tok(['a fine film', 'a dull one'], ['it works', 'it does not'], return_tensors='pt', padding=True)
    with eval_mode(model), torch.no_grad(): return model(**x).logits

@pytest.mark.parametrize('how', ['adapter', 'merge'])
def test_load_in_fresh_process(trained, how):
    model, tok, d = trained
    r = subprocess.run([sys.executable, '-c', LOAD, str(d/'adapter'), how], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    got = torch.tensor(json.loads(r.stdout.strip().splitlines()[-1]))
    assert torch.allclose(got, expected_logits(model, tok), atol=1e-4)

def test_pipeline_on_merged_copy(trained):
    model, tok, d = trained
    assert not (d/'merged'/'adapter_config.json').exists() and (d/'merged'/'config.json').is_file()
    r = subprocess.run([sys.executable, '-c', PIPE, str(d/'merged')], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    probs = expected_logits(model, tok).softmax(-1)
    names = model.get_base_model().config.id2label
    for res, p in zip(out, probs):
        got = {s['label']: s['score'] for s in res}
        assert all(abs(got[names[i]] - float(p[i])) < 1e-4 for i in range(len(p)))

def test_one_line_errors(trained, tmp_path):
    from ftnb.lora import add_lora, load_lora
    from ftnb.models import load_classifier
    model, tok, d = trained
    ck = model.peft_config['default'].base_model_name_or_path
    with pytest.raises(ValueError, match=r"LoRA target module\(s\) \['q_lin'\] not in the model") as e:
        add_lora(load_classifier(ck, ['a', 'b']), targets=['q_lin'])
    assert '\n' not in str(e.value)
    with pytest.raises(ValueError, match='holds no LoRA adapter') as e: load_lora(d/'merged')
    assert '\n' not in str(e.value)
    with pytest.raises(FileNotFoundError, match='no folder at'): load_lora(tmp_path/'missing')
