"""`ftnb adapt` on a user's unlabeled text, then `ftnb train --checkpoint` on the adapted model, as a user runs them
(smoke profile); and the inputs adaptation refuses, each in one line (in this process: `helpers.here`)."""
import json
from helpers import ftnb, here, one_line_error

WORDS = ['moving', 'dull', 'clever', 'slow', 'funny', 'bleak', 'tender', 'loud']

def texts(n:int) -> str:
    return ''.join(f'"the film number {i} was {WORDS[i % 8]} and its cast was {WORDS[(3 * i) % 8]}, I thought"\n' for i in range(n))

def test_adapt_unlabeled_text_then_train(tmp_path):
    (tmp_path/'texts.csv').write_text('text\n' + texts(400))   # a text column and nothing else
    r = ftnb('adapt', '--smoke', '--data', tmp_path/'texts.csv', '--epochs', '1', '--output-dir', tmp_path/'adapt')
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'held-out perplexity' in r.stdout and f"next: ftnb train --checkpoint {tmp_path/'adapt'}" in r.stdout
    rows = ''.join(f'"review number {i}, {w}",{w}\n' for i, w in enumerate(['good', 'bad'] * 20))
    (tmp_path/'labelled.csv').write_text('text,label\n' + rows)
    r = here('train', '--smoke', '--checkpoint', tmp_path/'adapt', '--data', tmp_path/'labelled.csv', '--epochs', '1',
             '--output-dir', tmp_path/'clf')
    assert r.returncode == 0, r.stderr[-2000:]
    cfg = json.loads((tmp_path/'clf'/'config.json').read_text())
    assert (cfg['model_type'], cfg['pooling']) == ('ftnb-mean-pooling', 'mean')  # no pooler in an adapted MLM: the mean head
    # a tokenizer that no longer matches the model's embeddings: refused before training, in one line
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(tmp_path/'adapt'); tok.add_tokens(['[NEWTOKEN1]', '[NEWTOKEN2]']); tok.save_pretrained(tmp_path/'adapt')
    line = one_line_error(here('train', '--smoke', '--checkpoint', tmp_path/'adapt', '--data', tmp_path/'labelled.csv',
                               '--output-dir', tmp_path/'clf2'))
    assert 'its tokenizer has' in line and 'resize_token_embeddings' in line, line

def test_adapt_refuses_what_cannot_work(tmp_path):
    (tmp_path/'reviews.csv').write_text('review\n' + texts(50))
    (tmp_path/'short.txt').write_text('a fine film\nloved it\n')
    line = one_line_error(here('adapt', '--smoke', '--data', tmp_path/'reviews.csv', '--output-dir', tmp_path/'a'))
    assert "has no column 'text'" in line and 'pass --text' in line, line
    assert here('adapt', '--smoke', '--data', tmp_path/'reviews.csv', '--text', 'review', '--epochs', '1',
                '--output-dir', tmp_path/'b').returncode == 0
    line = one_line_error(here('adapt', '--smoke', '--data', tmp_path/'short.txt', '--output-dir', tmp_path/'c'))
    assert 'fewer than one chunk' in line, line
    line = one_line_error(here('adapt', '--smoke', '--data', tmp_path/'reviews.csv', '--text', 'review', '--train-size', '5000',
                               '--output-dir', tmp_path/'d'))
    assert 'pass smaller sizes' in line, line
