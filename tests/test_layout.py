"""The dependency rule of the layout (README, "How it works"), read from every import statement of the tree:

- the answering core (the modules at the root of chat/) imports neither chat.web nor chat.evaluation, nor a web
  framework;
- chat.web and chat.evaluation reach the core only through its public types and entry points, and not each other;
- ingest/ and chat/ never import each other's code (app.py wires them); they meet in the index, whose record
  format (ingest.records: what ingest writes and chat reads) is the one module chat/ may import from ingest/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# fmt: off
# What serving and evaluation may use of the core: the entry point and what it returns. Not chat.markers: an answer's
# structure says what each sentence cites, so nothing outside the core reads `[n]` out of text.
PUBLIC_CORE = {
    "chat.assistant": {"Assistant", "QuestionError"},
    "chat.schema": {
        "Answer",
        "ArticleInfo",
        "ArticlePassage",
        "ArticleText",
        "Block",
        "Citation",
        "Piece",
        "Retrieved",
        "SentenceInfo",
        "article_path",
    },
}
# fmt: on
WEB_FRAMEWORKS = ("fastapi", "gradio", "starlette", "uvicorn")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module, names taken from it) of every import statement in the file, function-level ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((alias.name, set()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, {alias.name for alias in node.names}))
    return out


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def core_files() -> list[Path]:
    return [p for p in files("chat") if p.parent == ROOT / "chat"]


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_layout_has_the_parts_the_rule_is_about():
    assert len(core_files()) > 10 and files("chat/web") and files("chat/evaluation") and files("ingest")


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.name)
def test_the_core_imports_neither_serving_nor_evaluation(path):
    for module, _ in imports(path):
        assert not within(module, "chat.web") and not within(module, "chat.evaluation"), (path.name, module)
        assert not any(within(module, f) for f in WEB_FRAMEWORKS), (path.name, module)


@pytest.mark.parametrize("path", files("chat/web") + files("chat/evaluation"), ids=lambda p: module_name(p))
def test_serving_and_evaluation_use_only_the_cores_public_types_and_entry_points(path):
    own = "chat.web" if within(module_name(path), "chat.web") else "chat.evaluation"
    other = "chat.evaluation" if own == "chat.web" else "chat.web"
    for module, names in imports(path):
        if within(module, own) or not within(module, "chat"):
            continue
        assert not within(module, other), (module_name(path), module)
        assert module in PUBLIC_CORE, f"{module_name(path)} imports {module}, not a public part of the core"
        assert names <= PUBLIC_CORE[module], (module_name(path), module, names - PUBLIC_CORE[module])


RECORD_FORMAT = "ingest.records"


@pytest.mark.parametrize("package,other", [("ingest", "chat"), ("chat", "ingest")])
def test_ingest_and_chat_never_import_each_other(package, other):
    for path in files(package):
        for module, _ in imports(path):
            if package == "chat" and module == RECORD_FORMAT:
                continue  # the index's record format: declared once, written by ingest, read by chat
            assert not within(module, other), (str(path.relative_to(ROOT)), module)


def test_the_record_format_imports_nothing_of_either():
    """ingest.records is a declaration both sides share: it depends on neither."""
    for module, _ in imports(ROOT / "ingest" / "records.py"):
        assert not within(module, "chat") and not within(module, "ingest"), module


def test_the_rule_would_catch_a_breach(tmp_path):
    """The reader sees function-level imports too (where a lazy import would hide a breach)."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from chat.web.api import create_api\n    import gradio\n")
    assert ("chat.web.api", {"create_api"}) in imports(sample) and ("gradio", set()) in imports(sample)


def test_importing_the_cli_module_changes_no_environment_variable():
    """Settings and the offline defaults are built when the CLI or a factory runs, not as a side effect of
    `import app` (tests and benchmarks call `app.offline_environment()` themselves)."""
    import os
    import subprocess
    import sys

    import app

    probe = (
        "import os, json; before = dict(os.environ); import app; after = dict(os.environ); "
        "app.offline_environment(); print(json.dumps([before == after, os.environ.get('HF_HUB_OFFLINE')]))"
    )
    env = {k: v for k, v in os.environ.items() if k not in app.OFFLINE_ENVIRONMENT}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[true, "1"]', out.stderr


def test_no_module_edits_sys_path():
    """The project is installed (editable) in the venv; a script that needs `sys.path` edited to find it is broken."""
    offenders = []
    for path in [ROOT / "app.py", *files("chat"), *files("ingest"), *files("benchmarks"), *files("tests")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            target = (
                node.func.value
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                else (
                    node.targets[0].value
                    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript)
                    else None
                )
            )
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "path"
                and isinstance(target.value, ast.Name)
                and target.value.id == "sys"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
