"""Finding the files a command works on: those named, and those inside the folders named."""

from __future__ import annotations

from pathlib import Path


def files_ending(paths: list[str], suffix: str) -> list[Path]:
    """The files named, and those inside the folders named whose names end in `suffix` (sorted
    per folder, each file once). FileNotFoundError names a path that is neither."""
    found: list[Path] = []
    seen = set()
    for name in paths:
        path = Path(name)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob(f"*{suffix}") if p.is_file())
        elif path.is_file():
            candidates = [path]
        else:
            raise FileNotFoundError(f"{name}: no such file or folder")
        for p in candidates:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                found.append(p)
    return found
