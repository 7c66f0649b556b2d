"""A smoke masked-LM adaptation for tests/test_mlm_resume.py: `python mlm_resume_child.py OUTPUT_DIR [--resume] [--slow]`.

`adapt` from the smoke checkpoint on 60 smoke reviews: two epochs of 4 steps, a checkpoint after every step
(in OUTPUT_DIR/checkpoints); the adapted model, tokenizer and history.json end up in OUTPUT_DIR."""
import os, sys, time
os.environ.setdefault('FTNB_PROGRESS', '0')
from ftnb.core import default_checkpoint
from ftnb.data import movie_reviews
from ftnb.mlm import adapt

out = sys.argv[1]
resume, slow = '--resume' in sys.argv, '--slow' in sys.argv
cbs = [lambda step, h: (print(f'step {step}', flush=True), time.sleep(0.5))] if slow else []
try:
    adapt(default_checkpoint('mlm'), movie_reviews().select(range(60)), epochs=2, batch_size=16, output_dir=out, resume=resume,
          ckpt_every=1, callbacks=cbs)  # 64 smoke chunks / 16 = 4 steps per epoch: evaluations at steps 0, 4, 8
except ValueError as e:
    print(f'error: {e}', file=sys.stderr); sys.exit(3)
