"""The shape of the house, read from the source: rooms of one idea (modules, classes and notebook cells of bounded
size), imports that point one way (no circle, no module importing itself, no private name taken from another
module), and notebooks in dependency order (a notebook's module imports only modules of notebooks sorting before)."""
import ast, json, re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / 'cyclonediff'
MAX_MODULE_LINES, MAX_CLASS_LINES, MAX_CELL_LINES = 600, 200, 80
MODULES = sorted(p.stem for p in PKG.glob('*.py') if p.stem not in ('__init__', '_modidx'))


def _tree(name: str) -> ast.Module:
    return ast.parse((PKG / f'{name}.py').read_text(), filename=f'{name}.py')


def project_imports(name: str) -> list:
    "(line, imported module, names) for every import of a cyclonediff module in module `name`, at any depth."
    out = []
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1: mod = node.module or ''                       # from .x import y / from . import x
            elif (node.module or '').startswith('cyclonediff'): mod = node.module[len('cyclonediff'):].lstrip('.')
            else: continue
            names = [a.name for a in node.names]
            if not mod: out += [(node.lineno, n, []) for n in names]            # from cyclonediff import store
            else: out.append((node.lineno, mod.split('.')[0], names))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split('.')[1], []) for a in node.names
                    if a.name.startswith('cyclonediff.')]
    return [(ln, m, ns) for ln, m, ns in out if m in MODULES]


def import_graph() -> dict:
    return {m: sorted({imp for _, imp, _ in project_imports(m)}) for m in MODULES}


def find_cycle(graph: dict):
    "A list of modules forming an import circle, or None."
    state, stack = {}, []
    def visit(m):
        state[m] = 'open'; stack.append(m)
        for n in graph.get(m, []):
            if state.get(n) == 'open': return stack[stack.index(n):] + [n]
            if n not in state:
                c = visit(n)
                if c: return c
        state[m] = 'done'; stack.pop()
    for m in graph:
        if m not in state:
            c = visit(m)
            if c: return c
    return None


def export_cells():
    "(notebook, cell index, number of lines, default_exp module) of every exported cell."
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        for i, c in enumerate(cells):
            src = ''.join(c['source'])
            if c['cell_type'] == 'code' and re.match(r'#\|\s*export\b', src):
                yield nb.name, i, len(src.rstrip('\n').splitlines())


def notebook_modules() -> dict:
    "module -> notebook that exports it (its default_exp)."
    out = {}
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            m = re.search(r'#\|\s*default_exp\s+(\S+)', ''.join(c['source']))
            if m: out[m.group(1)] = nb.name
    return out


def test_the_checks_catch_what_they_look_for():
    assert find_cycle({'a': ['b'], 'b': ['c'], 'c': ['a']}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': ['b'], 'b': [], 'c': ['a', 'b']}) is None
    assert 'trainer' in MODULES and 'stages' in MODULES and ('stages' in import_graph()['trainer'])


@pytest.mark.parametrize('name', MODULES)
def test_module_size(name):
    n = len((PKG / f'{name}.py').read_text().splitlines())
    assert n <= MAX_MODULE_LINES, f'cyclonediff/{name}.py has {n} lines (at most {MAX_MODULE_LINES}): two ideas?'


@pytest.mark.parametrize('name', MODULES)
def test_class_size(name):
    big = [(c.name, c.end_lineno - c.lineno + 1) for c in ast.walk(_tree(name))
           if isinstance(c, ast.ClassDef) and c.end_lineno - c.lineno + 1 > MAX_CLASS_LINES]
    assert not big, f'classes over {MAX_CLASS_LINES} lines in cyclonediff/{name}.py: {big}'


def test_export_cell_size():
    big = [(nb, i, n) for nb, i, n in export_cells() if n > MAX_CELL_LINES]
    assert not big, f'exported cells over {MAX_CELL_LINES} lines (notebook, cell index, lines): {big}'


def test_no_import_circle():
    assert find_cycle(import_graph()) is None, f'import circle: {" -> ".join(find_cycle(import_graph()))}'


@pytest.mark.parametrize('name', MODULES)
def test_no_self_or_private_import(name):
    bad = [(ln, mod, ns) for ln, mod, ns in project_imports(name)
           if mod == name or any(n.startswith('_') for n in ns)]
    assert not bad, f'cyclonediff/{name}.py imports itself or a private name of another module (line, module, names): {bad}'


def test_notebooks_in_dependency_order():
    where = notebook_modules()
    bad = [(m, imp) for m, deps in import_graph().items() for imp in deps
           if m in where and imp in where and where[imp] >= where[m]]
    assert not bad, f'modules importing a module of a later notebook (module, imported): {bad}'
