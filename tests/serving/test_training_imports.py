"""Training code never imports `skiprec_tf.serving`, directly, lazily or through another module."""

import ast
import os
import pathlib
import subprocess
import sys

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]
_PACKAGE = _REPO / "skiprec_tf"
_TRAINING_PACKAGES = ("models", "layers", "data", "training", "evaluation")


def _training_modules():
    """`{module name: path}` of every training module."""
    paths = []
    for name in _TRAINING_PACKAGES:
        paths += sorted((_PACKAGE / name).glob("*.py"))
    return {
        ".".join(path.relative_to(_REPO).with_suffix("").parts).removesuffix(".__init__"): path
        for path in paths
    }


def _imported(module: str, path: pathlib.Path):
    """Every module name an import statement of the file names, anywhere in it (function-level
    imports included), relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(part for part in (base, node.module) if part)
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)


def _is_serving(name: str) -> bool:
    return name == "skiprec_tf.serving" or name.startswith("skiprec_tf.serving.")


def test_training_modules_have_no_import_of_serving():
    modules = _training_modules()
    assert {"skiprec_tf.training.trainer", "skiprec_tf.models.skiprec", "skiprec_tf.layers"} <= set(
        modules
    )
    found = {
        module: sorted(name for name in _imported(module, path) if _is_serving(name))
        for module, path in modules.items()
    }
    assert not {module: names for module, names in found.items() if names}, (
        "training code must not import skiprec_tf.serving"
    )


@pytest.mark.slow
def test_importing_training_modules_loads_no_serving_module():
    script = (
        "import importlib, sys\n"
        f"for name in {sorted(_training_modules())!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(name for name in sys.modules if name.startswith('skiprec_tf.serving')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=_REPO,
        env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]", "training imported skiprec_tf.serving"
