#!/usr/bin/env python3
"""Make README.md from nbs/index.ipynb (nbdev_readme needs quarto, which cannot be installed offline).

Markdown cells are copied; code cells are shown as python blocks unless marked `#| hide`;
`<!-- ... -->` markers stay so that .ci/run can find the README's commands.
Usage: python .ci/readme.py [--check]   (--check: exit 1 if README.md is out of date)
"""
import json, sys, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
nb = json.loads((root / 'nbs' / 'index.ipynb').read_text())
parts = []
for cell in nb['cells']:
    src = ''.join(cell['source']).strip()
    if not src: continue
    if cell['cell_type'] == 'markdown': parts.append(src)
    elif not any(l.strip().startswith('#| hide') for l in src.splitlines()):
        code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))
        parts.append(f'```python\n{code}\n```')
text = '<!-- made from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file -->\n\n' + '\n\n'.join(parts) + '\n'
readme = root / 'README.md'
if '--check' in sys.argv:
    if readme.read_text() != text: sys.exit('README.md is out of date: run python .ci/readme.py')
else:
    readme.write_text(text)
