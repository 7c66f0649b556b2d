"""A smoke training run for tests/test_resume.py: `python resume_child.py CKPT_DIR OUT.safetensors [--resume] [--slow]`."""
import sys, time, json
from pathlib import Path
from transformers import AutoTokenizer
from safetensors.torch import save_model
from ftnb.core import default_checkpoint, set_seed
from ftnb.data import load_pairs, tokenize_pairs, make_loaders
from ftnb.models import load_classifier
from ftnb.loop import train

ckpt_dir, out = sys.argv[1], Path(sys.argv[2])
resume, slow = '--resume' in sys.argv, '--slow' in sys.argv
set_seed(42)
ck = default_checkpoint('cls')
tok = AutoTokenizer.from_pretrained(ck)
raw = load_pairs()
raw['train'] = raw['train'].select(range(96))
ds = tokenize_pairs(raw, tok, remove_text=True, rename_label=True)
train_dl, eval_dl = make_loaders(ds, tok, batch_size=8, group_by_length=True)
model = load_classifier(ck, raw['train'].features['label'].names, pooling='mean')
cbs = [lambda step, h: (print(f'step {step}', flush=True), time.sleep(0.3))] if slow else []
try:
    hist = train(model, train_dl, eval_dl, epochs=2, ckpt_dir=ckpt_dir, ckpt_every=3, resume=resume, progress=False, callbacks=cbs)
except ValueError as e:
    print(f'error: {e}', file=sys.stderr); sys.exit(3)
save_model(model, str(out))
hist.to_json(out.with_suffix('.json'))
