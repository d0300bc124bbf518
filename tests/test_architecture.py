"""The shape of the application code, read from its source with `ast` (nothing is imported).

The application is the packages `pages`, `portal`, `resources` and `stats` (migrations aside;
tests and bench are not application code). Four rules:

1. No import cycle among its modules. Every import counts, inside functions too. An import
   `from a.b import c` is an edge to the module `a.b.c` when that is a module, else to `a.b`;
   the parent packages an import runs on the way are not counted as edges.
2. Dependencies point one way: no module of `stats` imports `pages`, `resources` or `portal`,
   and no module imports the settings package `portal.settings` except the settings modules
   themselves (everything else reads `django.conf.settings`).
3. Imports inside functions only where they must be: the ones listed in `FUNCTION_IMPORTS`
   with the reason, ten at most.
4. No function longer than 60 lines (from its `def` line to its last line) or with more than
   15 branches. Branches are counted as radon counts cyclomatic complexity (McCabe's measure
   less one): +1 for each `if`, `elif` and conditional expression, each `for`, `while` and
   `async for`, each `except` handler, each `case` of a `match`, each `and`/`or` operator (an
   `a and b or c` is 2), and each `for` and `if` of a comprehension. `with`, `try`, `else` and
   `assert` are not branches. A nested function or class is counted on its own, not in the
   function around it (its lines do count in that function's length).

`PENDING` lists, for the time being, the functions over the limits in files other engineers
are refactoring at the same time; it is emptied when their work is merged. An entry that is
no longer over the limits fails the test, so the list cannot go stale.
"""

import ast
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

APPLICATION = ("pages", "portal", "resources", "stats")
MAX_LINES = 60
MAX_BRANCHES = 15
MAX_FUNCTION_IMPORTS = 10

# (module, function) -> why the import cannot sit at the top of the module.
FUNCTION_IMPORTS = {
    ("portal.apps", "PortalConfig.ready"): "AppConfig.ready: the models it needs load first",
    ("stats.apps", "StatsConfig.ready"): "AppConfig.ready: the models it needs load first",
    ("pages.apps", "PagesConfig.ready"): "AppConfig.ready: the models it needs load first",
}

# Imports against the layers in files being changed by others: the API's count moves under
# stats.DataVersion (helper SCALE).
PENDING_BACK_EDGES = set()

# Over the limits in files being refactored by others (stats/exchange, stats/display/shaping,
# stats/opendata, pages/state_pack): "module:function".
PENDING = set()


def application_modules(root, packages=APPLICATION):
    """{dotted module name: its source} for every module of the packages, migrations aside."""
    modules = {}
    for package in packages:
        for path in sorted(Path(root, package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = (path.read_text(encoding="utf-8"), path.name)
    return modules


def _targets(module, filename, node, modules):
    """The application modules one import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")
            if filename != "__init__.py":
                package.pop()
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
            for alias in node.names
        ]
    found = set()
    for name in names:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in modules:
            found.add(name)
    return found


def _walk(node, function=""):
    """(node, the qualified name of the function it is in, or "") for every node."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{function}.{child.name}" if function else child.name
            yield child, function
            yield from _walk(child, name)
        else:
            yield child, function
            yield from _walk(child, function)


def _function_names(tree):
    """The qualified names of every function and method: "Loader.run", "f.inner"."""
    names = set()

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                names.add(name)
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return names


def import_graph(modules):
    """({module: {imported modules}}, [(module, function, line, statement)] for imports
    inside functions)."""
    graph, function_imports = {name: set() for name in modules}, []
    for module, (source, filename) in modules.items():
        tree = ast.parse(source)
        functions = _function_names(tree)
        for node, scope in _walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            graph[module] |= _targets(module, filename, node, modules)
            if scope in functions:
                function_imports.append((module, scope, node.lineno, ast.unparse(node)))
    return graph, function_imports


def cycles(graph):
    """Every strongly connected set of modules that import each other (Tarjan), and every
    module that imports itself."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def connect(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def back_edges(graph):
    """Imports against the direction of the layers, as "importer -> imported"."""
    found = []
    for module, imported in sorted(graph.items()):
        for target in sorted(imported):
            top = target.split(".")[0]
            if module.split(".")[0] == "stats" and top in ("pages", "resources", "portal"):
                found.append(f"{module} -> {target}")
            elif target.startswith("portal.settings") and not module.startswith("portal.settings"):
                found.append(f"{module} -> {target}")
    return found


def branches(function):
    """The branches of one function, as the module docstring defines them."""
    count, todo = 0, list(ast.iter_child_nodes(function))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.If | ast.IfExp | ast.For | ast.AsyncFor | ast.While):
            count += 1
        elif isinstance(node, ast.ExceptHandler | ast.match_case):
            count += 1
        elif isinstance(node, ast.BoolOp):
            count += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            count += 1 + len(node.ifs)
        todo.extend(ast.iter_child_nodes(node))
    return count


def long_functions(modules):
    """{"module:function": (lines, branches)} for each function over either limit."""
    found = {}
    for module, (source, _) in modules.items():

        def visit(node, prefix, module=module):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    name = prefix + child.name
                    lines = child.end_lineno - child.lineno + 1
                    count = branches(child)
                    if lines > MAX_LINES or count > MAX_BRANCHES:
                        found[f"{module}:{name}"] = (lines, count)
                    visit(child, name + ".")
                elif isinstance(child, ast.ClassDef):
                    visit(child, prefix + child.name + ".")
                else:
                    visit(child, prefix)

        visit(ast.parse(source), "")
    return found


@pytest.fixture(scope="module")
def tree():
    return application_modules(settings.BASE_DIR)


@pytest.fixture(scope="module")
def graph(tree):
    return import_graph(tree)


def test_the_tree_is_read(tree, graph):
    # A reader that found nothing would pass every rule below.
    assert {"stats.models", "pages.models", "portal.urls", "resources.models"} <= set(tree)
    assert "stats.models" in graph[0]["stats.display.batch"]


def test_no_import_cycle(graph):
    assert cycles(graph[0]) == []


def test_stats_imports_no_layer_above_it(graph):
    found = back_edges(graph[0])
    assert [edge for edge in found if edge not in PENDING_BACK_EDGES] == []
    assert sorted(PENDING_BACK_EDGES - set(found)) == [], "gone: drop from PENDING_BACK_EDGES"


def test_imports_inside_functions_are_the_few_that_must_be(graph):
    imports = graph[1]
    assert len(imports) <= MAX_FUNCTION_IMPORTS, imports
    unexplained = [i for i in imports if (i[0], i[1]) not in FUNCTION_IMPORTS]
    assert unexplained == []


def test_no_function_is_too_long_or_branches_too_much(tree):
    found = long_functions(tree)
    assert {name: size for name, size in found.items() if name not in PENDING} == {}
    assert sorted(PENDING - set(found)) == [], "no longer over the limits: drop from PENDING"


# The rules fail on planted violations.

PLANTED = {
    "stats/__init__.py": "",
    "stats/models.py": "from stats.store import periods\n",
    "stats/store/__init__.py": "",
    "stats/store/periods.py": (
        "def later():\n    from stats import models\n    from pages.models import Home\n"
    ),
    "pages/__init__.py": "",
    "pages/models.py": "from portal.settings import base\n\nclass Home:\n    pass\n",
    "portal/__init__.py": "",
    "portal/settings/__init__.py": "",
    "portal/settings/base.py": "",
    "resources/__init__.py": "",
}


@pytest.fixture
def planted(tmp_path):
    for name, source in PLANTED.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return tmp_path


def test_a_planted_cycle_back_edge_and_function_import_are_found(planted):
    graph, function_imports = import_graph(application_modules(planted))
    assert cycles(graph) == [["stats.models", "stats.store.periods"]]
    assert back_edges(graph) == [
        "pages.models -> portal.settings.base",
        "stats.store.periods -> pages.models",
    ]
    assert [(m, f) for m, f, *_ in function_imports] == [
        ("stats.store.periods", "later"),
        ("stats.store.periods", "later"),
    ]


def test_a_planted_long_or_branchy_function_is_found(tmp_path):
    (tmp_path / "stats").mkdir()
    body = "".join(f"    x = {i}\n" for i in range(59))
    tests = "".join(f"    if x == {i} or x < 0:\n        pass\n" for i in range(8))
    (tmp_path / "stats" / "long.py").write_text(
        f"def fits():\n{body}\ndef too_long():\n{body}    x = 59\n"
        f"class Plan:\n    def branchy(self, x):\n{textwrap.indent(tests, '    ')}\n"
        "def nested():\n    def inner(x):\n" + textwrap.indent(tests, "    ")
    )
    found = long_functions(application_modules(tmp_path, ["stats"]))
    assert found == {
        "stats.long:too_long": (61, 0),
        "stats.long:Plan.branchy": (17, 16),
        "stats.long:nested.inner": (17, 16),
    }
