"""An app: the functions of several script files that call each other, as one Zoho app's do.

In Zoho, functions live side by side and call each other by name: CRM's
`standalone.makeApiRequest(url, "GET", headers, "")`, Creator's `thisapp.addLog(...)` and
`thisapp.Logs.addLog(...)`. An `App` holds the files of such an app (their text; the host finds
them: sluice.app reads folders and sluice.toml) and answers one question for the compiler: which
definition does a call mean?

    app = App([AppFile("lib/util.dg", text, namespace=""), AppFile("Logs/add.dg", text2, "Logs")])
    app.lookup(("thisapp", "Logs", "addLog"))  -> [AppFunction]  (none: unknown; two: ambiguous)

How a call finds its definition (letter case never matters):
- `standalone.f(...)`, `thisapp.f(...)`, bare `f(...)`: every definition named f;
- `thisapp.Ns.f(...)`: the definitions named f in namespace Ns; when there are none, every
  definition named f (real apps do not always keep their folders as their namespaces);
- a definition's namespace is the one its header names (`void Logs.addLog()`; none for
  `standalone.f` and `thisapp.f`), else its file's folder under the app's root (`Logs/add.dg`);
- a file holding one function and nothing else also answers to the file's own name;
- definitions of the second tier (the project around the app, see sluice.app) count only for a
  name the first tier does not define.
One definition found is the callee; two in one namespace are a duplicate, two in different
namespaces an ambiguous call: both are static errors that name every place.

How the compiler uses it (runtime.compile): the functions a script reaches through its calls, in
any file and transitively, are compiled into the script's own program as more closures of its
`__run__`, so a call across files is the same local call as one inside a file. Each function's
code object is then given its own file's name (`Compiled.code` holds a tree of code objects;
`with_filenames` below renames the ones of other files), and its lines are that file's lines,
so a traceback names the file and line where a runtime error happened.
"""

from __future__ import annotations

import os

from .code import _sha256 as sha256  # the interpreter's own: no OpenSSL at start-up

# dsl is imported where a file is parsed or walked: code from the cache runs without it
CALL_ROOTS = ("standalone", "thisapp", "function")


class AppFile:
    """One file of an app: its name as shown, its text, its folder's namespace and tier."""

    __slots__ = ("filename", "source", "namespace", "tier", "_script", "error")

    def __init__(self, filename: str, source: str, namespace: str = "", tier: int = 0):
        self.filename = filename
        self.source = source
        self.namespace = namespace
        self.tier = tier
        self._script = None
        self.error = None  # its syntax error, once parsed

    @property
    def script(self):
        """The parsed file, or None when it has a syntax error (then `error` holds it)."""
        if self._script is None and self.error is None:
            from dsl import DelugeSyntaxError, parse

            try:
                self._script = parse(self.source, self.filename)
            except DelugeSyntaxError as e:
                self.error = e
        return self._script


class AppFunction:
    """One definition: where it is, what it is called, and its AST."""

    __slots__ = ("definition", "file", "index", "namespace", "alias")

    def __init__(self, definition, file: AppFile, index: int, namespace: str,
                 alias: str = ""):
        self.definition = definition
        self.file = file
        self.index = index  # of its file in the app
        self.namespace = namespace
        self.alias = alias  # the file's name, when the file holds only this function

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def line(self) -> int:
        return self.definition.span[0]

    @property
    def where(self) -> str:
        return f"{self.file.filename}:{self.line}"

    @property
    def call_name(self) -> str:
        """How other files call it: `thisapp.Logs.addLog`, `standalone.makeApiRequest`."""
        if self.namespace:
            return f"thisapp.{self.namespace}.{self.name}"
        return f"standalone.{self.name}"

    def signature(self) -> str:
        params = ", ".join(f"{p.form or p.type} {p.name}" for p in self.definition.params)
        return f"{self.definition.return_type} {self.call_name}({params})"


def same_file(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


class App:
    """The files of an app and the index of their functions (built on first use).

    `wider`: a function giving the second tier's files, called only when a call is not found
    in the first (reading a whole project is for the scripts that need it); `read`: gives a
    file's current text (None when it is gone), to tell whether code compiled with functions
    of the second tier is still current (the cache key holds the first tier only)."""

    def __init__(self, files: list[AppFile], root: str = "", wider=None, read=None):
        self.files = list(files)
        self.root = root
        self._wider = wider
        self._read = read
        self._by_name: dict[str, list[AppFunction]] | None = None
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        """Changes when any file of the app's first tier changes: compiled code is cached
        under it (see `is_current` for the second)."""
        if self._fingerprint is None:
            digest = sha256()
            for f in self.files:
                if f.tier == 0:
                    digest.update(f"{f.filename}\0{f.namespace}\0{f.source}\0".encode(
                        "utf-8", "surrogatepass"))
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def is_current(self, used: dict[str, str]) -> bool:
        """Do the files whose functions a compiled script holds (name -> text) still read so?"""
        first = {f.filename: f.source for f in self.files if f.tier == 0}
        for name, source in used.items():
            now = first[name] if name in first else self._read(name) if self._read else None
            if now != source:
                return False
        return True

    def _load_wider(self) -> bool:
        """Add the second tier's files (once); False when there are none."""
        if self._wider is None:
            return False
        wider, self._wider = self._wider(), None
        if not wider:
            return False
        self.files.extend(wider)
        self._by_name = None
        return True

    def index_of(self, filename: str) -> int:
        """The index of `filename` among the app's files, or -1."""
        for i, f in enumerate(self.files):
            if same_file(f.filename, filename):
                return i
        return -1

    def functions(self) -> list[AppFunction]:
        found = [f for fs in self._index().values() for f in fs if not f.alias]
        return sorted(found, key=lambda f: (f.file.tier, f.file.filename, f.line))

    def broken_files(self) -> list[AppFile]:
        self._index()
        return [f for f in self.files if f.error is not None]

    def _index(self) -> dict[str, list[AppFunction]]:
        if self._by_name is None:
            by_name: dict[str, list[AppFunction]] = {}
            aliases: list[AppFunction] = []
            for i, file in enumerate(self.files):
                script = file.script
                if script is None:
                    continue
                functions = script.functions
                for d in functions:
                    # `standalone.f` is at the root; a bare `f` in its folder's namespace
                    ns = file.namespace if not d.namespace else \
                        "" if d.namespace.lower() in CALL_ROOTS else d.namespace
                    by_name.setdefault(d.name.lower(), []).append(AppFunction(d, file, i, ns))
                stem = os.path.splitext(os.path.basename(file.filename))[0]
                if len(functions) == 1 and not script.body and \
                        stem.lower() != functions[0].name.lower():
                    d = functions[0]
                    ns = by_name[d.name.lower()][-1].namespace
                    aliases.append(AppFunction(d, file, i, ns, alias=stem.lower()))
            for a in aliases:  # a file's name counts only where no function has it
                if a.alias not in by_name or all(f.alias for f in by_name[a.alias]):
                    by_name.setdefault(a.alias, []).append(a)
            self._by_name = by_name
        return self._by_name

    def lookup(self, path: tuple[str, ...]) -> list[AppFunction]:
        """The definitions a call of `path` may mean (see the module's docstring)."""
        found = self._index().get(path[-1].lower(), [])
        if not found:
            return self.lookup(path) if self._load_wider() else []
        if len(path) > 2 and path[0].lower() in CALL_ROOTS:
            wanted = ".".join(path[1:-1]).lower()
            exact = [f for f in found if f.namespace.lower() == wanted]
            if exact:
                found = exact
        best = min(f.file.tier for f in found)
        return [f for f in found if f.file.tier == best]

    def defined(self, index: int, name: str) -> AppFunction:
        """The definition of `name` (exactly so written) in the app's file number `index`."""
        return next(f for f in self._index()[name.lower()]
                    if f.index == index and f.name == name and not f.alias)

    def calls_of(self, f: AppFunction) -> list[tuple[str, list[AppFunction]]]:
        """What `f` calls, each call once, in source order: (the call as written, the
        definitions it may mean; none for a function no file defines). Built-in functions
        are left out, as the compiler resolves them (a function of f's own file first)."""
        from . import builtins as B

        own = {d.name for d in f.file.script.functions}
        out: dict[str, list[AppFunction]] = {}
        for path, _node in call_sites(f.definition.body):
            shown = ".".join(path)
            if shown in out:
                continue
            if len(path) == 1 and path[0] in own:
                out[shown] = [self.defined(f.index, path[0])]
                continue
            low = path[0].lower()
            if len(path) == 1 and (low in B.FUNCTIONS or B.is_method(low) or
                                   low in ("openurl", "geturl", "posturl", "invokeurl",
                                           "sendsms")):
                continue
            out[shown] = self.lookup(path)
        return list(out.items())

    def duplicates(self) -> list[list[AppFunction]]:
        """Definitions of one function in one namespace, made more than once."""
        out = []
        for found in self._index().values():
            groups: dict[tuple, list[AppFunction]] = {}
            for f in found:
                if not f.alias:
                    groups.setdefault((f.namespace.lower(), f.file.tier), []).append(f)
            out.extend(g for g in groups.values() if len(g) > 1)
        return sorted(out, key=lambda g: (g[0].file.filename, g[0].line))


def call_sites(node) -> list[tuple[tuple[str, ...], object]]:
    """The calls under `node` that may reach a user function: `f(...)` as ("f",) and
    `thisapp.Ns.f(...)` as ("thisapp", "Ns", "f"), with their nodes, in source order."""
    from dsl import ast as A

    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(reversed(n))
            continue
        if not isinstance(n, A.Node):
            continue
        k = type(n)
        if k is A.Call:
            out.append(((n.name,), n))
        elif k is A.MethodCall:
            path = qualified(n.target)
            if path and path[0].lower() in CALL_ROOTS:
                out.append((path + (n.name,), n))
        stack.extend(reversed([getattr(n, f) for f in n._compared]))
    return out


def qualified(target) -> tuple[str, ...] | None:
    """`thisapp.Logs` as ("thisapp", "Logs"); None for anything but names and dots."""
    from dsl import ast as A

    parts = []
    while type(target) is A.Attribute:
        parts.append(target.name)
        target = target.target
    if type(target) is not A.Name:
        return None
    parts.append(target.name)
    return tuple(reversed(parts))


def places(functions: list[AppFunction]) -> str:
    return ", ".join(f.where for f in functions)


def with_filenames(code, names: dict[str, str]):
    """`code` with the nested code objects of other files renamed: a function whose name is in
    `names` (`f_3_addLog` -> its file's code name), and everything inside it, carries that
    name, so tracebacks and `_tb_line` see the file a line belongs to."""
    consts = list(code.co_consts)
    changed = False
    for i, c in enumerate(consts):
        if hasattr(c, "co_code"):
            renamed = names.get(c.co_name)
            new = _renamed(c, renamed) if renamed else with_filenames(c, names)
            if new is not c:
                consts[i], changed = new, True
    return code.replace(co_consts=tuple(consts)) if changed else code


def _renamed(code, filename: str):
    consts = tuple(_renamed(c, filename) if hasattr(c, "co_code") else c
                   for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)
