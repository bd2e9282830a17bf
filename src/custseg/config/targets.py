"""A `_target_` must name a class that exists: checked by reading its module's source, not by
importing it (importing a feature builder or the Spark engine would pull in pandas, scikit-learn
or pyspark before the first config error could be shown)."""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
from functools import lru_cache

from custseg.hints import did_you_mean


def _module_origin(module: str) -> str | None:
    """The file a dotted module lives in, found without importing it (None: no such module)."""
    parts = module.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])  # a top-level package: found, not imported
    except (ImportError, ValueError):
        return None
    for i in range(1, len(parts)):
        if spec is None or not spec.submodule_search_locations:
            return None
        locations = list(spec.submodule_search_locations)
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]), locations)
    return None if spec is None else (spec.origin or "")


def _top_level_names(source: str) -> tuple[set[str], list[str], bool]:
    """Names a module defines or imports at its top level, the classes it defines, and whether
    it star-imports (then any name may be there)."""
    names: set[str] = set()
    classes: list[str] = []
    star = False
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            classes.append(node.name)
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            star |= any(a.name == "*" for a in node.names)
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names, classes, star


@lru_cache(maxsize=256)
def check_target(value: str) -> str:
    """`value` if it names something its module defines or imports; else a ValueError saying
    which module or name is missing, with the module's classes to choose from."""
    module, _, name = value.rpartition(".")
    if not module or not name:
        raise ValueError(f"{value!r} is not a dotted class path like "
                         "custseg.segment.algorithms.KMeansSegmenter")  # fmt: skip
    origin = _module_origin(module)
    if origin is None:
        raise ValueError(f"{value!r}: there is no module {module!r} to import it from")
    if not origin.endswith(".py"):
        return value  # compiled or namespace: nothing to read, the run will import it
    with open(origin, encoding="utf-8") as f:
        names, classes, star = _top_level_names(f.read())
    if name not in names and not star:
        raise ValueError(
            f"{value!r}: {module} has no {name!r}{did_you_mean(name, classes)}; it defines "
            f"{', '.join(classes) or 'no class'}"
        )
    return value
