"mkdocs hooks for the ftnb site (see mkdocs.yml)."
import html, logging, re
from mkdocs.structure.toc import get_toc

_NO_ALT = 'No description has been provided for this image'
# nbconvert warns once per notebook with plots that they lack alt text; on_page_content below supplies one.
logging.getLogger('traitlets').addFilter(lambda r: 'Alternative text is missing' not in r.getMessage())

_re_heading = re.compile(r'<h([1-6])[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S)

def _text(h):
    h = re.sub(r'<a [^>]*class="(?:anchor-link|headerlink)"[^>]*>.*?</a>', '', h, flags=re.S)
    return html.unescape(re.sub(r'<[^>]+>', '', h)).strip()

def _tokens(content):
    "Nested TOC tokens (mkdocs' format) from the headings of rendered HTML, in order."
    root, stack = [], []
    for m in _re_heading.finditer(content):
        tok = dict(level=int(m.group(1)), id=m.group(2), name=_text(m.group(3)), children=[])
        while stack and stack[-1]['level'] >= tok['level']: stack.pop()
        (stack[-1]['children'] if stack else root).append(tok)
        stack.append(tok)
    return root

def on_page_content(content, page, config, files):
    """Notebook pages: the table of contents from the rendered headings. mkdocs-jupyter builds it from a
    second (Markdown) rendering whose ids and labels differ for headings with inline code: its entry for
    "`History`: one record format" read ": one record format" and linked to an id that does not exist."""
    if not page.file.src_uri.endswith('.ipynb'): return content
    page.toc = get_toc(_tokens(content))
    n = iter(range(1, 10_000))
    return re.sub(f'alt="{_NO_ALT}"', lambda m: f'alt="{html.escape(page.title or "")}: figure {next(n)}"', content)

def on_page_context(context, page, config, nav):
    "The API page is generated from the modules, not written: it gets no 'view source' link to nbs/."
    if page.file.src_uri == 'api.md': page.edit_url = None
    return context
