"""The distribution ships every package of the source tree, and the grammar."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_directory_is_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for top in ("dsl", "runtime", "connections", "sluice"):
        for init in (ROOT / top).rglob("__init__.py"):
            found.add(".".join(init.parent.relative_to(ROOT).parts))
    assert found - listed == set(), "packages missing from pyproject.toml"
    assert config["tool"]["setuptools"]["package-dir"]["dsl.grammar"] == "grammar"
    assert (ROOT / "grammar" / "deluge.lark").is_file()


def test_dependencies_cover_what_the_code_imports():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = " ".join(config["project"]["dependencies"])
    for package in ("lark", "cryptography", "requests", "authlib", "flask", "waitress",
                    "prompt-toolkit", "pygments", "regex"):
        assert package in declared
