"""The app of a script on disk: which files' functions its calls may reach.

A Zoho app keeps its functions side by side; here an app is a set of folders of `.dg` files
(runtime.app says how a call finds its function among them). Which folders, first match wins:

1. `--app DIR` (may be given more than once), from the command line;
2. `app = "DIR"` or `app = ["DIR", ...]` in a `sluice.toml` found in the script's folder or
   above (the project's root), the folders taken from there;
3. the script's own folder and everything below it.

In the third case, the rest of the project (the nearest folder above holding `.git` or a
`sluice.toml`; without one, the folder just above the script's when it holds .dg files itself,
as an app holds its namespace folders) is a second tier: its functions answer only the calls that the script's folder
does not define, so a script of a repository finds a function kept in a sibling folder, while
one defined next to it always wins. A function's namespace (`thisapp.Logs.addLog`) is its file's
folder under the folder of the app it was found in.

Reading every file costs little next to parsing; the files are parsed only when the script's
compiled code is not cached already (the cache key holds the text of every file of the app).
"""

from __future__ import annotations

import os
from pathlib import Path

from runtime.app import App, AppFile

SUFFIX = ".dg"
CONFIG = "sluice.toml"
MAX_WIDER_FILES = 5000  # a second tier larger than this is left out (a home folder, say)
MAX_WALKED = 100_000  # files looked at under one folder: a script at the top of a home folder
_SKIPPED = {"node_modules", "__pycache__", "site-packages", "venv"}


class AppError(Exception):
    """A sluice.toml that cannot be read, or an app folder that does not exist."""


def app_of(script: str | None, folders: list[str] | None = None) -> App:
    """The app of the script at `script` (None: of the current folder), or of `folders`
    (`--app`). Raises AppError."""
    if folders:
        for folder in folders:
            if not Path(folder).is_dir():
                raise AppError(f"{folder}: no such folder")
        return App(_files(folders, tier=0), root=folders[0])
    start = Path(script).parent if script else Path(".")
    config = _find_upwards(start, CONFIG)
    if config is not None:
        named = _configured_folders(config)
        if named:
            return App(_files(named, tier=0), root=named[0])
    primary = _files([str(start)], tier=0)
    project = _project_root(start) or _parent_of(start)
    if project is None or project.resolve() == start.resolve():
        return App(primary, root=str(start))

    def wider() -> list[AppFile]:
        seen = {os.path.abspath(f.filename) for f in primary}
        return [f for f in _files([str(project)], tier=1, limit=MAX_WIDER_FILES)
                if os.path.abspath(f.filename) not in seen]

    return App(primary, root=str(start), wider=wider, read=_text_of)


def _text_of(filename: str) -> str | None:
    try:
        return Path(filename).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _files(folders: list[str], tier: int, limit: int = 0) -> list[AppFile]:
    out = []
    for folder in folders:
        root = Path(folder)
        paths = sorted(p for p in _walk(root) if p.suffix == SUFFIX)
        if limit and len(paths) > limit:
            return []
        for path in paths:
            try:
                source = path.read_bytes().decode("utf-8-sig")
            except (OSError, UnicodeDecodeError):
                continue  # not a script of the app; `sluice check` says why
            relative = path.parent.relative_to(root).parts
            out.append(AppFile(_shown(path), source, ".".join(relative), tier))
    return out


def _shown(path: Path) -> str:
    """A file's name as messages show it: from the current folder when it is below it."""
    if not path.is_absolute():
        return str(path)
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else str(path)


def _walk(root: Path):
    """The files under `root`, leaving out hidden folders and others no app keeps scripts in,
    and stopping after MAX_WALKED files (a script at the top of a home folder still starts)."""
    seen = 0
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders
                               if not d.startswith(".") and d not in _SKIPPED)
        for name in names:
            seen += 1
            if seen > MAX_WALKED:
                return
            yield Path(folder) / name


def _find_upwards(start: Path, name: str) -> Path | None:
    folder = start.resolve()
    for candidate in [folder, *folder.parents]:
        if (candidate / name).is_file():
            return candidate / name
    return None


def _project_root(start: Path) -> Path | None:
    folder = start.resolve()
    for candidate in [folder, *folder.parents]:
        if (candidate / ".git").exists() or (candidate / CONFIG).is_file():
            return candidate
    return None


def _parent_of(start: Path) -> Path | None:
    """The folder above `start` when it holds .dg files of its own (`start` is then a namespace
    folder of its app), unless it is the top of the disk or a home folder."""
    parent = start.resolve().parent
    home = Path.home().resolve()
    if parent == parent.parent or parent == home or parent in home.parents:
        return None
    try:
        if any(p.suffix == SUFFIX and p.is_file() for p in parent.iterdir()):
            return parent
    except OSError:
        pass
    return None


def _configured_folders(config: Path) -> list[str]:
    import tomllib

    try:
        with open(config, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise AppError(f"{config}: {e}") from None
    named = data.get("app")
    if named is None:
        return []
    if isinstance(named, str):
        named = [named]
    if not isinstance(named, list) or not all(isinstance(n, str) for n in named):
        raise AppError(f"{config}: 'app' must be a folder or a list of folders")
    folders = [str(config.parent / n) for n in named]
    for folder in folders:
        if not Path(folder).is_dir():
            raise AppError(f"{config}: app folder {folder} does not exist")
    return folders
