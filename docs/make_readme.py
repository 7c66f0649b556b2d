"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which cannot be installed here).

Hidden cells and `#|` directives are dropped; code cells become ```python blocks and their saved text
outputs become plain ``` blocks, so README.md shows what the executed notebook showed."""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def cell_src(c): return ''.join(c['source']) if isinstance(c['source'], list) else c['source']

def out_text(o):
    if o.get('output_type') == 'stream': return ''.join(o.get('text', ''))
    data = o.get('data', {})
    if 'text/markdown' in data: return None  # markdown outputs are written as markdown: see `convert`
    t = data.get('text/plain')
    return ''.join(t) if t else ''

def convert(nb):
    parts = []
    for c in nb['cells']:
        src = cell_src(c)
        lines = src.splitlines()
        directives = [l for l in lines if re.match(r'^#\|\s*', l)]
        if any(re.match(r'^#\|\s*(hide|exec_doc|default_exp)\b', l) for l in directives) and c['cell_type'] == 'code':
            continue
        body = '\n'.join(l for l in lines if not re.match(r'^#\|\s*', l)).strip()
        if c['cell_type'] == 'markdown':
            parts.append(body)
            continue
        echo = not any(re.match(r'^#\|\s*echo:\s*false', l) for l in directives)
        if body and echo: parts.append(f'```python\n{body}\n```')
        parts += [''.join(o['data']['text/markdown']).strip() for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {})]
        outs = [t for t in (out_text(o) for o in c.get('outputs', [])) if t]
        if outs: parts.append('```\n' + '\n'.join(t.rstrip('\n') for t in outs) + '\n```')
    return '\n\n'.join(p for p in parts if p) + '\n'

if __name__ == '__main__':
    nb = json.loads((root/'nbs'/'index.ipynb').read_text())
    text = '<!-- generated from nbs/index.ipynb by docs/make_readme.py: edit the notebook, not this file -->\n\n' + convert(nb)
    dest = root/'README.md'
    if not dest.exists() or dest.read_text() != text: dest.write_text(text)
