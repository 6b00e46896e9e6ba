"""Resolved Deluge AST -> Python `ast` -> code object. Nothing else in Sluice builds Python AST.

A script becomes one Python function `__run__(R, A)` (R: the run's context, A: its arguments):

    def __run__(R, A):
        __S = 0                      # statements executed (shared by every function below)
        __L = R.next_check           # when to look at the limits next
        __M, __C = ...               # the depth limit, the size limit of a list or map
        def f_double(v_n, __d): ...  # each Deluge function, as a closure (__d: its call depth)
        def __body(): ...            # the script's statements
        try: return __body()
        finally: R.statements = __S

Deluge variables are Python locals named `v_<name>`; a function's variables are its own, as in
Deluge. The globals of the code hold only runtime helpers and an empty `__builtins__`, so a
script reaches nothing of Python. Every generated node carries the Deluge line and column, so a
traceback's innermost generated frame names the failing expression's line.

A script that belongs to an app (runtime.app: other files whose functions it may call) takes
the functions it reaches, in any file, into the same `__run__` as more closures
(`f_<file index>_<name>`): a call into another file is the same local call as one inside the
file, its arguments checked and typed alike. Each such function is generated from its own
file's AST, so its nodes carry that file's lines; after `compile()`, its code object (and those
inside it) is renamed to that file's code name (`runtime.app.with_filenames`), so a traceback,
`e.lineNo` and the run's error name the file and line where it failed. A line table or a
module per file would cost a lookup per error or a call through a global; this costs nothing.

Statements are counted per block: entering a block adds its number of statements (a `for each`
counts once per pass); a loop's pass and a function's entry then check the limits if the count
passed the next checkpoint (only loops and calls can make a run go on).
"""

from __future__ import annotations

import ast as py
import gc
import itertools
import sys

from dsl import ast as A
from dsl.ast import walk

from . import builtins as B
from . import methods  # noqa: F401  (fills the built-in tables the compiler reads)
from .code import FILENAME_PREFIX, Compiled, base_helpers, helpers_from_spec, source_key
from .errors import Problem, StaticErrors
from .names import read_names
from .types import (ANY, BOOL, DEC, INT, INTS, LIST, MAP, NUMBERS, STR, Types,
                    assigned_before_read, fits, of_declared)

NAMESPACE_ROOTS = ("thisapp", "standalone", "function")
SYSTEM_ROOTS = ("zoho", "input") + NAMESPACE_ROOTS
SYSTEM_VARIABLES = frozenset({"currentdate", "currenttime", "loginuser", "loginuserid",
                              "adminuser", "adminuserid", "appname", "appuri", "ipaddress"})
BOOLEAN_METHODS = frozenset({
    "isempty", "isnull", "contains", "containskey", "containkey", "containsvalue",
    "containvalue", "startswith", "endswith", "equals", "equalsignorecase", "matches",
    "notcontains", "containsignorecase", "startswithignorecase", "endswithignorecase",
    "isnumber", "isdecimal", "isdate", "istext", "isascii", "isempty", "iseven", "isodd",
    "isblank",
})
_BINARY_HELPERS = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "%": "_mod",
                   "==": "_eq", "!=": "_ne", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge",
                   "in": "_in"}
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "&&", "||"})
# Text methods that are str's own when the receiver and arguments are proven texts: helper name
# (an unbound str method, see runtime.code) and argument count.
_TEXT_INLINE = {"contains": ("_str_contains", 1), "indexof": ("_str_find", 1),
                "find": ("_str_find", 1), "lastindexof": ("_str_rfind", 1),
                "startswith": ("_str_startswith", 1), "endswith": ("_str_endswith", 1),
                "touppercase": ("_str_upper", 0), "upper": ("_str_upper", 0),
                "tolowercase": ("_str_lower", 0), "lower": ("_str_lower", 0)}
_LITERAL_KINDS = (A.TextLit, A.NumberLit, A.DecimalLit)
_COMPOUND = {"+=": "_add", "-=": "_sub", "*=": "_mul", "/=": "_div", "%=": "_mod"}
_PYTHON_TYPES = {INT: int, STR: str, LIST: list, MAP: dict}
_NATIVE_ARITHMETIC = {"+": py.Add(), "-": py.Sub(), "*": py.Mult()}
_NATIVE_COMPARE = {"==": py.Eq(), "!=": py.NotEq(), "<": py.Lt(), "<=": py.LtE(), ">": py.Gt(),
                   ">=": py.GtE()}
MIN_NUMBER, MAX_NUMBER = -(2**63), 2**63 - 1
MAX_DECIMAL = sys.float_info.max
MAX_INDEX = 2**31 - 1  # `for each index` refuses longer lists (runtime.code._indexes)
LONG_TEXT = 100_000  # texts longer than this are measured against the run's text_size limit


def compile_script(script: A.Script, source: str = "", filename: str = "<script>", *,
                   repl: bool = False, app=None) -> Compiled:
    """`repl`: for an interactive session: the body runs even when it is empty (a file of
    functions would otherwise run its first one), and its variables are handed back through
    `R.export` when it ends, however it ends. `app` (a runtime.app.App): the functions of the
    script's other files, which its calls may reach (see runtime.app)."""
    # The generated tree is all new objects and no garbage: Python's cycle collector would walk
    # them again and again (three quarters of the time of a long script), so it waits.
    pause = gc.isenabled()
    if pause:
        gc.disable()
    try:
        gen = _Generator(script, filename, repl=repl, app=app)
        module = gen.module()
        if gen.errors:
            raise StaticErrors(gen.errors, filename, source)
        code = compile(module, code_name(source, filename), "exec")
    finally:
        if pause:
            gc.enable()
    if gen.foreign:  # the functions of other files carry their own file's name
        from .app import with_filenames

        code = with_filenames(code, {f"f_{key}": code_name(f.file.source, f.file.filename)
                                     for key, f in gen.foreign.items()})
    files = {f.file.filename: f.file.source for f in gen.foreign.values()}
    return Compiled(code, tuple(gen.spec), source, filename, files)


def code_name(source: str, filename: str) -> str:
    """The file name of generated code: FILENAME_PREFIX, the script's name, a hash, '>'."""
    return f"{FILENAME_PREFIX}{filename} {source_key(source, filename)[:12]}>"


def python_source(script: A.Script, source: str = "", filename: str = "<script>") -> str:
    """The Python that `compile_script` generates for `script`, as text (`sluice run
    --show-code`): what a speed-up or a limit check looks like in the code that runs."""
    gen = _Generator(script, filename, repl=False)
    module = gen.module()
    if gen.errors:
        raise StaticErrors(gen.errors, filename, source)
    return py.unparse(module)


# ---------------------------------------------------------------------------- helpers


def _runs_no_code(e) -> bool:
    """Literals, variables and operators on them: working one out calls no function or
    method, so it cannot change a list or map."""
    kind = type(e)
    if kind in (A.Name, A.TextLit, A.NumberLit, A.DecimalLit, A.BoolLit, A.NullLit):
        return True
    if kind is A.Binary:
        return _runs_no_code(e.left) and _runs_no_code(e.right)
    if kind is A.Unary:
        return _runs_no_code(e.operand)
    return False


def _at(node, src):
    """Give a generated Python node the position of the Deluge node it comes from, and its
    unplaced parts (helper names, attributes, constants) the start of it: a traceback's line is
    then where the failing expression starts, also for a call that spans lines."""
    span = src.span
    if span[0]:
        node.lineno, node.col_offset = span[0], max(span[1] - 1, 0)
        node.end_lineno, node.end_col_offset = span[2], max(span[3] - 1, 0)
        _fill(node, span[0], max(span[1] - 1, 0))
    return node


def _fill(node, line: int, column: int) -> None:
    """Place the unplaced nodes under `node`, stopping at placed ones (their own parts were
    placed when they were made): each node is visited about once in all."""
    for field in node._fields:
        child = getattr(node, field, None)
        if type(child) is list:
            for item in child:
                if isinstance(item, py.AST):
                    _fill_node(item, line, column)
        elif isinstance(child, py.AST):
            _fill_node(child, line, column)


def _fill_node(child, line: int, column: int) -> None:
    if "lineno" in child._attributes:
        if hasattr(child, "lineno"):
            return
        child.lineno = child.end_lineno = line
        child.col_offset = child.end_col_offset = column
    _fill(child, line, column)


def _name(id_, ctx=None):
    return py.Name(id=id_, ctx=ctx or py.Load())


def _call(func, *args, **keywords):
    fn = _name(func) if isinstance(func, str) else func
    return py.Call(func=fn, args=list(args),
                   keywords=[py.keyword(arg=k, value=v) for k, v in keywords.items()])


def _const(value):
    return py.Constant(value=value)


def _attr(obj, name):
    return py.Attribute(value=obj, attr=name, ctx=py.Load())


def _assigned_names(body) -> set[str]:
    """Variables assigned anywhere in a function body (loop and catch variables included)."""
    out: set[str] = set()

    def visit(stmts):
        for s in stmts:
            k = type(s)
            if k is A.Assign and type(s.target) is A.Name:
                out.add(s.target.name)
            elif k in (A.ForEach, A.ForIndex):
                out.add(s.var)
                visit(s.body)
            elif k is A.If:
                for branch in s.branches:
                    visit(branch.body)
                if s.orelse:
                    visit(s.orelse)
            elif k is A.Try:
                out.add(s.var)
                visit(s.body)
                visit(s.handler)

    visit(body)
    return out


def _has_loop(node) -> bool:
    return any(type(n) in (A.ForEach, A.ForIndex) for n in walk(node))


def _calls_any(node, names: set[str]) -> bool:
    """Does anything under `node` call one of `names` (as `f(...)` or `thisapp.f(...)`)?
    Any method of that name counts too: a wrong yes only costs a little speed."""
    return any(type(n) in (A.Call, A.MethodCall) and n.name in names for n in walk(node))


# The link of each chained form that is worked out first: a chain is a tree as deep as it is
# long, and one longer than LONG_CHAIN is compiled flat (`_Generator.chain`).
_CHAIN_LINKS = {A.Binary: lambda e: e.left, A.Unary: lambda e: e.operand,
                A.MethodCall: lambda e: e.target, A.Attribute: lambda e: e.target}
LONG_CHAIN = 16


def _chain_longer_than(e, n: int) -> bool:
    while type(e) in _CHAIN_LINKS:
        n -= 1
        if n < 0:
            return True
        e = _CHAIN_LINKS[type(e)](e)
    return False


# Python's blocks that each statement opens around its body (at most 20 in one function).
_BLOCK_COST = {A.ForEach: 1, A.ForIndex: 1, A.Try: 2}
MAX_BLOCKS = 18


def _split_return(scope, value):
    """What `return value` returns: in a split-off function, (value,) (see split_off)."""
    return py.Tuple(elts=[value], ctx=py.Load()) if scope.split else value


class _Scope:
    """One Deluge function (or the script body) being compiled."""

    def __init__(self, kind: str, variables: set[str], types: Types, return_type: str = "",
                 name: str = "<body>"):
        self.kind = kind  # "body" or "function"
        self.variables = variables
        self.types = types
        self.return_type = return_type
        self.name = name
        self.loops = 0
        self.indexes: set[str] = set()  # `for each index` variables the loop's body keeps as is
        # Python's blocks (loops, try) open in the Python function being generated, and what
        # `split` needs: the loops outside that function, whether it is a split-off one, and
        # the variables it assigns (bound in the outer function too, for `nonlocal`).
        self.blocks = 0
        self.outer_loops = 0
        self.split = False
        self.shared: set[str] = set()


class _Generator:
    def __init__(self, script: A.Script, filename: str, *, repl: bool = False, app=None):
        self.script = script
        self.filename = filename
        self.repl = repl
        # the app of the script: its functions compile in as `f_<file index>_<name>`
        self.app = app
        self.main_index = app.index_of(filename) if app is not None else -1
        self.prefix = ""  # of the keys of the file whose function is being compiled
        self.foreign: dict = {}  # key -> AppFunction, for the functions of other files
        self.pending: list = []  # (AppFunction, the call of this script that reaches it)
        self.origin = None  # that call, while a function of another file compiles
        self.errors: list[Problem] = []
        self.helpers: dict = base_helpers()  # what the code may name; the spec says how to
        self.spec: list[tuple] = []  # rebuild the rest (see runtime.code)
        self.spec_seen: set[tuple] = set()
        self.temps = itertools.count()
        self.dates = itertools.count()  # names of date constants (helpers: never reused)
        self.functions: dict[str, A.FunctionDef] = {}
        for f in script.functions:
            if f.name in self.functions:
                self.error(f, f"function '{f.name}' is defined twice", "duplicate-function")
            self.functions[f.name] = f
        self.main_functions = self.functions
        # functions that call none of the others: they need no call depth of their own
        names = set(self.functions)
        self.leaves = {f.name for f in script.functions if not _calls_any(f.body, names)}
        if app is not None:
            self.leaves = {name for name in self.leaves
                           if not self.reaches_app(self.functions[name].body)}
        self.scope: _Scope | None = None
        self.links: dict[int, str] = {}  # chain links worked out: id -> their temporary
        self.bounds_memo: dict[tuple, tuple | None] = {}
        self.returns: dict[str, str] | None = None

    def error(self, node, message: str, code: str) -> None:
        """A static error; `code` names its kind for tools (`sluice check --json`)."""
        self.errors.append(Problem(node.span[0], node.span[1], message, code))

    def add_helper(self, spec: tuple) -> None:
        if spec not in self.spec_seen:
            self.spec_seen.add(spec)
            self.spec.append(spec)
            self.helpers.update(helpers_from_spec([spec]))

    def temp(self) -> str:
        return f"_t{next(self.temps)}"

    # -- module

    def module(self) -> py.Module:
        script = self.script
        body_items = [i for i in script.items if not isinstance(i, (A.FunctionDef, A.Actions))]
        if not body_items:
            handlers = [h for i in script.items if type(i) is A.Actions for h in i.handlers]
            if handlers and not script.functions:
                body_items = list(handlers[0].body)

        run_body: list[py.stmt] = [
            py.Assign(targets=[_name("__S", py.Store())], value=_const(0)),
            py.Assign(targets=[_name("__L", py.Store())], value=_attr(_name("R"), "next_check")),
            py.Assign(targets=[_name("__M", py.Store())], value=_attr(_name("R"), "max_depth")),
            py.Assign(targets=[_name("__C", py.Store())],
                      value=_attr(_name("R"), "collection_limit")),
        ]
        for f in script.functions:
            run_body.append(self.function(f))
        if body_items or not script.functions or self.repl:
            run_body.append(self.body_function(body_items))
            entry = _call("__body")
        else:
            first = script.functions[0]
            args = [self.checked_arg(_at(_call("_entry_arg", _name("A"), _const(p.name),
                                               _const(first.name)), first), first, p)
                    for p in first.params]
            if first.name not in self.leaves:
                args.append(_const(1))
            entry = _call(f"f_{first.name}", *args)
            if first.return_type == "void":  # it gives nothing, not null
                entry = py.BoolOp(op=py.Or(), values=[entry, _name("_NO_RETURN")])
        run_body += self.app_functions()  # those of other files that the script reaches
        run_body.append(py.Try(
            body=[py.Return(value=entry)], handlers=[], orelse=[],
            finalbody=[py.Assign(targets=[_attr_store(_name("R"), "statements")],
                                 value=_name("__S"))]))
        run = _function_def("__run__", ["R", "A"], run_body)
        module = py.Module(body=[run], type_ignores=[])
        _fill(module, 1, 0)  # the few nodes no Deluge node stands for (the wrappers)
        return module

    def body_function(self, items) -> py.FunctionDef:
        variables = _assigned_names(items)
        free = {n for n in read_names(tuple(items), set()) - variables - set(SYSTEM_ROOTS)
                - {"today", "now"} - self._task_bare_names(tuple(items))
                if n.lower() not in NAMESPACE_ROOTS}  # `thisApp.f()`: a root, not a variable
        maybe_args = (variables | free) - assigned_before_read(items)
        types = Types({name: ANY for name in maybe_args}, self.declared_returns(),
                      self.call_return)
        types.infer(items)
        self.scope = _Scope("body", variables | free, types)
        self.scope.blocks = 1 if self.repl else 0  # the try around it (below)
        prologue: list[py.stmt] = []
        for name in sorted(maybe_args):  # run arguments arrive as variables
            prologue.append(py.If(
                test=py.Compare(left=_const(name), ops=[py.In()], comparators=[_name("A")]),
                body=[py.Assign(targets=[_name(f"v_{name}", py.Store())],
                                value=py.Subscript(value=_name("A"), slice=_const(name),
                                                   ctx=py.Load()))],
                orelse=[]))
        statements = self.block(items)
        body = self.shared_bindings() + prologue + statements + \
            [py.Return(value=_name("_NO_RETURN"))]
        if self.repl:  # hand the variables back, however the body ends
            export = py.Expr(value=_call(_attr(_name("R"), "export"), _call("_locals")))
            body = [py.Try(body=body, handlers=[], orelse=[], finalbody=[export])]
        return _function_def("__body", [], [py.Nonlocal(names=["__S", "__L"])] + body)

    def declared_returns(self) -> dict[str, str]:
        """Function name -> declared return kind (made once: a script may hold thousands)."""
        if self.returns is None:
            self.returns = {name: f.return_type for name, f in self.functions.items()}
        return self.returns

    def function(self, f: A.FunctionDef) -> py.FunctionDef:
        params = [p.name for p in f.params]
        variables = _assigned_names(f.body) | set(params)
        types = Types({p.name: of_declared(p.type) for p in f.params}, self.declared_returns(),
                      self.call_return)
        types.infer(f.body)
        self.scope = _Scope("function", variables, types, f.return_type, f.name)
        unknown = (read_names(f.body, set()) - variables - set(SYSTEM_ROOTS)
                   - {"today", "now"} - self._task_bare_names(f.body))
        for name in sorted(n for n in unknown if n.lower() not in NAMESPACE_ROOTS):
            node = self._first_read(f.body, name)
            self.error(node or f, f"Variable '{name}' is not defined in function '{f.name}'",
                       "undefined-variable")
        # The depth comes in as an argument (no shared counter to undo on the way out). A leaf
        # takes none: its callers check theirs (`user_call`).
        key = self.prefix + f.name
        names = [f"v_{p}" for p in params]
        body = [py.Nonlocal(names=["__S", "__L"])]
        if key not in self.leaves:
            names.append("__d")
            body.append(_at(py.If(test=py.Compare(left=_name("__d"), ops=[py.Gt()],
                                                  comparators=[_name("__M")]),
                                  body=[py.Expr(value=_call(_attr(_name("R"), "too_deep"),
                                                            _const(f.name)))], orelse=[]), f))
        # a leaf without loops runs a few statements and returns: its caller looks at limits
        runs_on = key not in self.leaves or _has_loop(f.body)
        statements = self.block(f.body, check=runs_on)
        body += self.shared_bindings() + statements + [py.Return(value=_const(None))]
        return _at(_function_def(f"f_{key}", names, body), f)

    # -- the functions of the script's other files (runtime.app)

    def reaches_app(self, body) -> bool:
        """Does `body` call a function of another file (so it is no leaf)?"""
        from .app import call_sites

        for path, _node in call_sites(body):
            if len(path) == 1 and path[0] in self.functions:
                continue
            if len(path) == 1 and (path[0].lower() in B.FUNCTIONS or B.is_method(path[0].lower())
                                   or path[0].lower() in TASK_FUNCTIONS):
                continue
            if self.app.lookup(path):  # (a call back into this file counts too)
                return True
        return False

    def call_return(self, e) -> str | None:
        """The declared return kind of the user function that call `e` reaches (for the type
        inference), found as the call will find it, without reporting anything."""
        if type(e) is A.MethodCall:
            from .app import qualified

            path = qualified(e.target)
            if not path or path[0].lower() not in NAMESPACE_ROOTS or \
                    path[0] in self.scope_variables():
                return None
            path = path + (e.name,)
        elif e.name.lower() in B.FUNCTIONS or B.is_method(e.name.lower()):
            return None
        else:
            path = (e.name,)
        f = self.functions.get(e.name)
        if f is None and self.app is not None:
            found = self.app.lookup(path)
            f = found[0].definition if len(found) == 1 else None
        return f.return_type if f is not None else None

    def scope_variables(self) -> set:
        return self.scope.variables if self.scope is not None else set()

    def app_function(self, path: tuple, node):
        """The key of the function of the app that `path` calls (queued to compile), or None
        (an error said why, unless there is no such function: then the caller says so)."""
        from .app import places

        found = self.app.lookup(path)
        if not found:
            return None, None
        if len(found) > 1:
            shown = ".".join(path)
            same = len({f.namespace.lower() for f in found}) == 1
            if same:
                self.error(node, f"'{shown}' is defined more than once: {places(found)}",
                           "duplicate-function")
            else:
                self.error(node, f"'{shown}' is ambiguous: it may be any of {places(found)}; "
                                 f"name its namespace (thisapp.<namespace>.{path[-1]})",
                           "ambiguous-function")
            return False, None
        return self.enqueue(found[0], node), found[0]

    def enqueue(self, f, node) -> str:
        """The key of app function `f`, queued to compile if it is new."""
        if f.index == self.main_index and f.definition.name in self.main_functions:
            return f.definition.name  # a function of this very script
        key = f"{f.index}_{f.definition.name}"
        if key not in self.foreign:
            self.foreign[key] = f
            self.pending.append((f, self.origin or node))
            # a leaf or not is settled before any call of it compiles
            saved = self.functions, self.prefix
            self.functions = {d.name: d for d in f.file.script.functions}
            self.prefix = f"{f.index}_"
            body = f.definition.body
            if not _calls_any(body, set(self.functions)) and not self.reaches_app(body):
                self.leaves.add(key)
            self.functions, self.prefix = saved
        return key

    def app_functions(self) -> list[py.stmt]:
        """Compile the functions of other files that the script reaches, each in its own file's
        terms (its functions, its lines); their static errors are reported at the call of this
        script that reaches them, naming their own file and line."""
        out = []
        saved = (self.functions, self.prefix, self.errors, self.origin, self.scope,
                 self.returns)
        done = 0
        while done < len(self.pending):
            f, origin = self.pending[done]
            done += 1
            self.functions = {d.name: d for d in f.file.script.functions}
            self.prefix, self.origin, self.errors = f"{f.index}_", origin, []
            self.returns = None  # (the declared returns of that file's functions)
            out.append(self.function(f.definition))
            for p in self.errors:
                saved[2].append(Problem(origin.span[0], origin.span[1],
                                        f"{f.file.filename}:{p.line}:{p.column}: {p.message}",
                                        p.code))
        (self.functions, self.prefix, self.errors, self.origin, self.scope,
         self.returns) = saved
        return out

    def _task_bare_names(self, body) -> set[str]:
        """Bare words used as task values (`type: GET`): constants, not variables."""
        return {value.name for node in walk(body) if type(node) is A.Task
                for entry in node.entries for value in entry.values if type(value) is A.Name}

    def _first_read(self, node, name: str):
        return next((n for n in walk(node) if type(n) is A.Name and n.name == name), None)

    # -- statements

    def block(self, stmts, extra: int = 0, anchor=None, check: bool = True) -> list[py.stmt]:
        """`stmts`, counted. `check=False` (the branches of if and try) counts without looking
        at the limits: only loops and calls can run on, and their blocks look."""
        count = len(stmts) + extra
        out: list[py.stmt] = []
        first = stmts[0] if stmts else anchor
        if count and first is not None:
            out.append(_at(py.AugAssign(target=_name("__S", py.Store()), op=py.Add(),
                                        value=_const(count)), first))
        if count and first is not None and check:
            out.append(_at(py.If(
                test=py.Compare(left=_name("__S"), ops=[py.Gt()], comparators=[_name("__L")]),
                body=[py.Assign(targets=[_name("__L", py.Store())],
                                value=_call(_attr(_name("R"), "checkpoint"), _name("__S")))],
                orelse=[]), first))
        for s in stmts:
            out.extend(self.statement(s))
        if not out:
            out.append(py.Pass())
        return out

    def statement(self, s) -> list[py.stmt]:
        kind = type(s)
        method = getattr(self, f"s_{kind.__name__}", None)
        if method is None:
            self.error(s, f"{kind.__name__} is not supported", "unsupported")
            return []
        if kind in _BLOCK_COST and self.scope.blocks + _BLOCK_COST[kind] > MAX_BLOCKS:
            result = self.split_off(s)
        else:
            result = method(s)
        return [_at(n, s) for n in (result if isinstance(result, list) else [result])]

    def split_off(self, s) -> list[py.stmt]:
        """A loop or try nested deeper than Python allows in one function (20 blocks), as a
        function of its own, called where it stands:

            def _t7():
                nonlocal __S, __L, v_x        # the variables it assigns
                ...                           # `break` -> return 1, `continue` -> return 2,
                return None                   # `return v` -> return (v,)
            _t8 = _t7()
            if _t8 is not None:               # what the statement's body ended with
                if _t8 == 1: break            # (for a loop around it in this function)
                if _t8 == 2: continue
                return _t8[0]                 # (or `return _t8`, up to the next function)
        """
        scope = self.scope
        assigned = _assigned_names([s])
        scope.shared |= assigned
        saved = scope.blocks, scope.outer_loops, scope.split
        scope.blocks, scope.outer_loops, scope.split = 0, scope.loops, True
        try:
            body = getattr(self, f"s_{type(s).__name__}")(s)
        finally:
            scope.blocks, scope.outer_loops, scope.split = saved
        name, outcome = self.temp(), self.temp()
        function = _function_def(name, [], [
            py.Nonlocal(names=["__S", "__L"] + [f"v_{v}" for v in sorted(assigned)]),
            *(body if isinstance(body, list) else [body]), py.Return(value=_const(None))])
        ended: list[py.stmt] = []
        if scope.loops > scope.outer_loops:
            for code, jump in ((1, py.Break()), (2, py.Continue())):
                ended.append(py.If(test=py.Compare(left=_name(outcome), ops=[py.Eq()],
                                                   comparators=[_const(code)]),
                                   body=[jump], orelse=[]))
        ended.append(py.Return(value=_name(outcome) if scope.split else py.Subscript(
            value=_name(outcome), slice=_const(0), ctx=py.Load())))
        return [_at(function, s),
                py.Assign(targets=[_name(outcome, py.Store())], value=_call(name)),
                py.If(test=py.Compare(left=_name(outcome), ops=[py.IsNot()],
                                      comparators=[_const(None)]), body=ended, orelse=[])]

    def shared_bindings(self) -> list[py.stmt]:
        """`if 0: v_x = None` for each variable a split-off function assigns: never run, it
        makes the variable the outer function's, which `nonlocal` needs."""
        names = sorted(self.scope.shared)
        if not names:
            return []
        return [py.If(test=_const(0), body=[
            py.Assign(targets=[_name(f"v_{n}", py.Store()) for n in names],
                      value=_const(None))], orelse=[])]

    def s_Assign(self, s: A.Assign):
        target = s.target
        if type(target) is A.Name:
            if target.name in SYSTEM_ROOTS and target.name not in self.scope.variables:
                self.error(target, f"'{target.name}' cannot be assigned to", "not-assignable")
            appended = self.appended_text(s)
            if appended is not None:
                return appended
            value = self.expr(s.value)
            if s.op != "=":
                value = _at(_call(_COMPOUND[s.op], self.expr(target), value), s)
            return py.Assign(targets=[_at(_name(f"v_{target.name}", py.Store()), target)],
                             value=value)
        # a field: input.Email = ...; rec.Owner.Name = ...
        if type(target.target) is A.Name and target.target.name == "input" and \
                "input" not in self.scope.variables:
            obj = _name("A")
        elif type(target.target) is A.Name and target.target.name in ("zoho",) + NAMESPACE_ROOTS \
                and target.target.name not in self.scope.variables:
            self.error(target, f"'{target.target.name}.{target.name}' cannot be assigned to",
                       "not-assignable")
            return []
        else:
            obj = self.expr(target.target)
        temp = self.temp()
        value = self.expr(s.value)
        if s.op != "=":
            value = _call(_COMPOUND[s.op], _call("_get_field", _name(temp), _const(target.name)),
                          value)
        return [py.Assign(targets=[_name(temp, py.Store())], value=obj),
                py.Expr(value=_at(_call("_set_field", _name(temp), _const(target.name), value),
                                  s))]

    def appended_text(self, s: A.Assign):
        """`out = out + a + b;` and `out += a;` on a text: the parts are joined first, their
        length checked with the text's, then `out = out + parts`, which CPython does in place
        (the text is not copied on every pass, as Python's own `s += x` is not). Evaluation
        order is kept (`out` is a variable: reading it has no effect); None if `s` is not
        such an assignment."""
        name, types = s.target.name, self.scope.types
        if _chain_longer_than(s.value, LONG_CHAIN):  # compiled flat by `chain`, link by link
            return None
        if types.of(s.target) != STR and not (s.op == "=" and types.of(s.value) == STR):
            return None
        if s.op == "+=" and types.of(s.target) == STR and types.of(s.value) in (STR, INT):
            parts = [s.value]
        elif s.op == "=" and self.is_text_sum(s.value):
            leaves = self.text_leaves(s.value)
            first = leaves[0]
            if type(first) is not A.Name or first.name != name or types.of(first) != STR:
                return None
            parts = leaves[1:]
        else:
            return None
        joined = None
        for part in parts:
            text = self.expr(part)
            if types.of(part) == INT:
                text = _call("_str", text)
            joined = text if joined is None else py.BinOp(left=joined, op=py.Add(), right=text)
        variable, temp = f"v_{name}", self.temp()
        length = py.BinOp(left=_call("_len", _name(variable)), op=py.Add(),
                          right=_call("_len", _name(temp)))
        return [_at(py.Assign(targets=[_name(temp, py.Store())], value=joined), s),
                _at(py.If(test=py.Compare(left=length, ops=[py.Gt()],
                                          comparators=[_const(LONG_TEXT)]),
                          body=[py.Expr(value=_call("_check_text_length", length))],
                          orelse=[]), s),
                _at(py.Assign(targets=[_name(variable, py.Store())],
                              value=py.BinOp(left=_name(variable), op=py.Add(),
                                             right=_name(temp))), s)]

    def text_leaves(self, e) -> list:
        """The parts of a text sum, left to right (`a + b + c`: a, b, c); a link of a long
        chain already worked out (see `chain`) is one part."""
        if id(e) not in self.links and self.is_text_sum(e):
            return self.text_leaves(e.left) + self.text_leaves(e.right)
        return [e]

    def s_ExprStmt(self, s: A.ExprStmt):
        return py.Expr(value=self.expr(s.expr))

    def s_If(self, s: A.If):
        if len(s.branches) > LONG_CHAIN:
            return self.long_if(s)
        orelse = self.block(s.orelse, anchor=s, check=False) if s.orelse is not None else []
        for branch in reversed(s.branches):
            node = _at(py.If(test=self.condition(branch.condition),
                             body=self.block(branch.body, anchor=branch, check=False),
                             orelse=orelse), branch)
            orelse = [node]
        return orelse[0]

    def long_if(self, s: A.If) -> list[py.stmt]:
        """`if ... else if ...` with many branches, without Python's nesting of each `elif` in
        the one before (which its compiler cannot follow past a few hundred):

            _t3 = True
            if _t3 and <condition 1>: _t3 = False; <branch 1>
            if _t3 and <condition 2>: _t3 = False; <branch 2>
            ...
            if _t3: <else>
        """
        pending = self.temp()
        out: list[py.stmt] = [py.Assign(targets=[_name(pending, py.Store())],
                                        value=_const(True))]
        for branch in s.branches:
            taken = py.Assign(targets=[_name(pending, py.Store())], value=_const(False))
            out.append(_at(py.If(
                test=py.BoolOp(op=py.And(), values=[_name(pending),
                                                    self.condition(branch.condition)]),
                body=[taken] + self.block(branch.body, anchor=branch, check=False),
                orelse=[]), branch))
        if s.orelse is not None:
            out.append(py.If(test=_name(pending),
                             body=self.block(s.orelse, anchor=s, check=False), orelse=[]))
        return out

    def s_ForEach(self, s: A.ForEach):
        self.scope.loops += 1
        self.scope.blocks += 1
        body = self.block(s.body, extra=1, anchor=s)
        self.scope.blocks -= 1
        self.scope.loops -= 1
        return py.For(target=_name(f"v_{s.var}", py.Store()),
                      iter=_at(_call("_iterate", self.expr(s.iterable)), s.iterable),
                      body=body, orelse=[])

    def s_ForIndex(self, s: A.ForIndex):
        scope = self.scope
        scope.loops += 1
        kept = s.var not in scope.indexes and s.var not in _assigned_names(s.body)
        if kept:  # inside the body its value is a known 0 .. MAX_INDEX: see `bounds`
            scope.indexes.add(s.var)
        scope.blocks += 1
        body = self.block(s.body, extra=1, anchor=s)
        scope.blocks -= 1
        if kept:
            scope.indexes.discard(s.var)
        scope.loops -= 1
        indexes = _at(_call("_indexes", self.expr(s.iterable)), s.iterable)
        return py.For(target=_name(f"v_{s.var}", py.Store()), iter=indexes, body=body,
                      orelse=[])

    def s_Try(self, s: A.Try):
        exc = self.temp()
        handler = [py.Assign(targets=[_name(f"v_{s.var}", py.Store())],
                             value=_call("_caught", _name(exc), _call("_tb_line", _name(exc))))]
        self.scope.blocks += 2  # Python's: the handler and its cleanup
        handler += self.block(s.handler, anchor=s, check=False)
        self.scope.blocks -= 1
        body = self.block(s.body, anchor=s, check=False)
        self.scope.blocks -= 1
        return py.Try(body=body,
                      handlers=[py.ExceptHandler(type=_name("_CATCHABLE"), name=exc,
                                                 body=handler)],
                      orelse=[], finalbody=[])

    def s_Return(self, s: A.Return):
        scope = self.scope
        if s.value is None:  # `return;`: a function gives null, the script nothing
            return py.Return(value=_split_return(scope, _const(None) if scope.kind == "function"
                                                 else _name("_NO_RETURN")))
        value = self.expr(s.value)
        if scope.kind == "function":
            if scope.return_type == "void":
                self.error(s, f"void function '{scope.name}' cannot return a value", "void-return")
            elif scope.return_type not in ("object", "collection") and \
                    not fits(scope.types.of(s.value), scope.return_type):
                value = _at(_call("_check_return", value, _const(scope.return_type),
                                  _const(scope.name)), s)
        return py.Return(value=_split_return(scope, value))

    def s_Info(self, s: A.Info):
        return py.Expr(value=_at(_call(_attr(_name("R"), "info"), self.expr(s.value)), s))

    def s_Throw(self, s: A.Throw):
        return py.Raise(exc=_at(_call("_thrown", self.expr(s.value)), s), cause=None)

    def s_Break(self, s):
        if not self.scope.loops:
            self.error(s, "'break' outside a loop", "break-outside-loop")
        if self.scope.split and self.scope.loops == self.scope.outer_loops:
            return py.Return(value=_const(1))  # the loop is outside: see split_off
        return py.Break()

    def s_Continue(self, s):
        if not self.scope.loops:
            self.error(s, "'continue' outside a loop", "continue-outside-loop")
        if self.scope.split and self.scope.loops == self.scope.outer_loops:
            return py.Return(value=_const(2))
        return py.Continue()

    def s_DeleteFrom(self, s: A.DeleteFrom):
        return py.Expr(value=self.task_call("delete from", [_const(s.form),
                                                           self.criteria(s.criteria)], s))

    def s_Alert(self, s: A.Alert):
        return py.Expr(value=self.task_call("alert", [self.expr(s.value)], s))

    def s_CancelSubmit(self, s):
        return py.Expr(value=self.task_call("cancel submit", [], s))

    def s_FieldAction(self, s: A.FieldAction):
        if s.action == "clear":  # on the run's form state, like ui.add
            return py.Expr(value=_call(_attr(_name("R"), "clear_choices"),
                                       _const(s.field_path)))
        return py.Expr(value=self.task_call(s.action, [_const(".".join(s.field_path))], s))

    def s_ChoiceAction(self, s: A.ChoiceAction):
        return py.Expr(value=_call(_attr(_name("R"), "choices"), _const(s.action),
                                   _const(s.field_path), self.expr(s.value)))

    # -- expressions

    def condition(self, e) -> py.expr:
        """An expression used as a condition: checked to be BOOLEAN unless it surely is."""
        if self.is_boolean(e):
            return self.expr(e)
        return _at(_call("_cond", self.expr(e)), e)

    def is_boolean(self, e) -> bool:
        if self.scope.types.of(e) == BOOL and type(e) is not A.Name:
            return True
        k = type(e)
        if k is A.Binary:
            return e.op in _COMPARISONS
        if k is A.Unary:
            return e.op == "!"
        if k is A.BoolLit:
            return True
        if k is A.MethodCall:
            return e.name.lower() in BOOLEAN_METHODS and not self._is_namespace(e.target)
        return False

    def expr(self, e) -> py.expr:
        known = self.links.get(id(e))
        if known is not None:  # a link of a long chain, already worked out (see `chain`)
            return _name(known)
        kind = type(e)
        if kind in _CHAIN_LINKS:
            first = _CHAIN_LINKS[kind](e)
            if type(first) in _CHAIN_LINKS and _chain_longer_than(first, LONG_CHAIN):
                return self.chain(e)
        return _at(getattr(self, f"e_{kind.__name__}")(e), e)

    def chain(self, e) -> py.expr:
        """A long chain (`a + b + ...`, `x.f().g()...`, `!!x`) as one flat expression: each link
        is kept in a temporary as soon as it is worked out,

            (_t := a) is not ... and (_t := _add(_t, b)) is not ... and _add(_t, c)

        so neither this compiler nor Python's recurses once per link, and the links are worked
        out once each, in the order the nested form would."""
        links = []
        first = e
        while type(first) in _CHAIN_LINKS:
            links.append(first)
            first = _CHAIN_LINKS[type(first)](first)
        if type(first) is A.Name and first.name in SYSTEM_ROOTS and \
                first.name not in self.scope.variables:
            # `zoho.crm.getRecords(...)`, `input.Email`: the namespace part is one link
            i = len(links) - 1
            while i > 0 and type(links[i]) is A.Attribute:
                i -= 1
            if not (type(links[i]) is A.MethodCall and self._is_namespace(links[i].target)):
                i = len(links) - 1
            first = links[i]
            del links[i:]
            value = _at(getattr(self, f"e_{type(first).__name__}")(first), first)
        else:
            value = self.expr(first)
        temp = self.temp()
        steps = [py.NamedExpr(target=_name(temp, py.Store()), value=value)]
        # Each link's own temporaries are dead once the link is worked out: the next link
        # takes the same names, so that no link's value (a text growing link by link, say)
        # stays held until the function returns.
        first_temp = highest = next(self.temps)
        for link in reversed(links):
            self.bounds(link)  # from the first link up, so that it never recurses far
            key = id(_CHAIN_LINKS[type(link)](link))
            self.links[key] = temp
            self.temps = itertools.count(first_temp)
            value = _at(getattr(self, f"e_{type(link).__name__}")(link), link)
            highest = max(highest, next(self.temps))
            del self.links[key]
            steps.append(_at(py.NamedExpr(target=_name(temp, py.Store()), value=value), link))
        self.temps = itertools.count(highest)
        last = steps.pop().value
        tests = [py.Compare(left=step, ops=[py.IsNot()], comparators=[_const(...)])
                 for step in steps]
        return _at(py.BoolOp(op=py.And(), values=tests + [last]), e)

    def e_Name(self, e: A.Name):
        name = e.name
        if name not in self.scope.variables:
            if name in ("today", "now"):
                return _call(_attr(_name("R"), name))
            if name == "input":
                return _call(_attr(_name("R"), "input_map"))
            if name in SYSTEM_ROOTS:
                self.error(e, f"'{name}' is not a value; use {name}.<name>", "not-a-value")
                return _const(None)
        return _name(f"v_{name}")

    def e_TextLit(self, e):
        return _const(e.value)

    def e_NumberLit(self, e):
        return _const(e.value)

    def e_DecimalLit(self, e):
        return _const(e.value)

    def e_BoolLit(self, e):
        return _const(e.value)

    def e_NullLit(self, e):
        return _const(None)

    def e_DateLit(self, e):
        name = f"_date{next(self.dates)}"
        self.add_helper(("date", name, e.value.isoformat()))
        return _name(name)

    def e_ListLit(self, e):
        return py.List(elts=[self.expr(i) for i in e.items], ctx=py.Load())

    def e_MapLit(self, e):
        if all(type(p.key) is A.TextLit for p in e.entries):
            return py.Dict(keys=[_const(p.key.value) for p in e.entries],
                           values=[self.expr(p.value) for p in e.entries])
        pairs = [py.Tuple(elts=[self.expr(p.key), self.expr(p.value)], ctx=py.Load())
                 for p in e.entries]
        return _call("_map_literal", py.Tuple(elts=pairs, ctx=py.Load()))

    def e_EmptyBraces(self, e):
        return _call("_Collection")

    def e_Constructor(self, e: A.Constructor):
        args = e.args
        if e.kind == "map":
            if args:
                self.error(e, "Map() takes no values; use {\"key\": value}", "arity")
            return py.Dict(keys=[], values=[])
        if e.kind == "collection":
            if any(type(a) is A.Pair for a in args):
                if not all(type(a) is A.Pair for a in args):
                    self.error(e, "Collection(...) takes either values or key: value pairs",
                               "mixed-arguments")
                    return _const(None)
                pairs = [py.Tuple(elts=[self.expr(p.key), self.expr(p.value)], ctx=py.Load())
                         for p in args]
                return _call("_new_collection", _const(True), *pairs)
            return _call("_new_collection", _const(False), *[self.expr(a) for a in args])
        if len(args) > 1:
            self.error(e, "List() takes at most one list", "arity")
        arg = [self.expr(a) for a in args]
        if e.element_type:
            return _call("_TypedList", _const(e.element_type), *[_call("_new_list", a)
                                                                 for a in arg])
        return _call("_new_list", *arg)

    def e_Unary(self, e: A.Unary):
        if e.op == "!":
            if self.is_boolean(e.operand):
                return py.UnaryOp(op=py.Not(), operand=self.expr(e.operand))
            return _call("_not", self.expr(e.operand))
        return _call("_neg", self.expr(e.operand))

    def e_Binary(self, e: A.Binary):
        if e.op in ("&&", "||"):
            op = py.And() if e.op == "&&" else py.Or()
            return py.BoolOp(op=op, values=[self.condition(e.left), self.condition(e.right)])
        types = self.scope.types
        left_type, right_type = types.of(e.left), types.of(e.right)
        ints = left_type in INTS and right_type in INTS
        if ints and e.op in _NATIVE_ARITHMETIC:
            return self.checked_number(py.BinOp(left=self.expr(e.left), op=_NATIVE_ARITHMETIC[e.op],
                                                right=self.expr(e.right)), e)
        numbers = left_type in NUMBERS and right_type in NUMBERS
        if numbers and DEC in (left_type, right_type):  # DECIMAL arithmetic: Python's floats
            divisor = e.right.value if type(e.right) in (A.NumberLit, A.DecimalLit) else 0
            if e.op in _NATIVE_ARITHMETIC or (e.op == "/" and divisor != 0):
                op = _NATIVE_ARITHMETIC.get(e.op) or py.Div()
                value = py.BinOp(left=self.expr(e.left), op=op, right=self.expr(e.right))
                if e.op in _NATIVE_ARITHMETIC and self.finite_for_sure(e):
                    return value
                return self.checked_decimal(value)
        if (numbers or left_type == right_type == STR) and e.op in _NATIVE_COMPARE:
            return py.Compare(left=self.expr(e.left), ops=[_NATIVE_COMPARE[e.op]],
                              comparators=[self.expr(e.right)])
        if e.op in _NATIVE_COMPARE and (type(e.left) in _LITERAL_KINDS) != (
                type(e.right) in _LITERAL_KINDS):
            return self.compare_with_literal(e)
        if self.is_text_sum(e):
            if self.longest_text(e) <= LONG_TEXT:  # "row" + i: short for sure, no check
                return self.text_sum(e)
            return self.checked_text(self.text_sum(e))
        if e.op in ("==", "!=") and (type(e.left) is A.NullLit or type(e.right) is A.NullLit):
            # x == null is Python's `is None` (values.equal: null equals only null)
            return py.Compare(left=self.expr(e.left),
                              ops=[py.Is() if e.op == "==" else py.IsNot()],
                              comparators=[self.expr(e.right)])
        if e.op in ("%", "/") and left_type == INT and type(e.right) is A.NumberLit and \
                e.right.value > 0:  # x % 7, x / 2: floor and truncation agree for x >= 0
            temp = self.temp()
            op = py.Mod() if e.op == "%" else py.FloorDiv()
            known = self.bounds(e.left)
            if known is not None and known[0] >= 0:
                return py.BinOp(left=self.expr(e.left), op=op, right=_const(e.right.value))
            return py.IfExp(
                test=py.Compare(left=py.NamedExpr(target=_name(temp, py.Store()),
                                                  value=self.expr(e.left)),
                                ops=[py.GtE()], comparators=[_const(0)]),
                body=py.BinOp(left=_name(temp), op=op, right=_const(e.right.value)),
                orelse=_call(_BINARY_HELPERS[e.op], _name(temp), _const(e.right.value)))
        return _call(_BINARY_HELPERS[e.op], self.expr(e.left), self.expr(e.right))

    def compare_with_literal(self, e: A.Binary):
        """`r.get("status") != "Lost"`, `amount > 100`: the value's type is not proven, but when
        it is the literal's kind (text; a number or decimal) Python's comparison is Deluge's;
        other values go to the helper, which orders or refuses them."""
        literal_left = type(e.left) in _LITERAL_KINDS
        literal, other = (e.left, e.right) if literal_left else (e.right, e.left)
        temp = self.temp()
        held = py.NamedExpr(target=_name(temp, py.Store()), value=self.expr(other))
        if type(literal) is A.TextLit:
            test = py.Compare(left=_call("_type", held), ops=[py.Is()],
                              comparators=[_name("_str")])
        else:
            test = py.Compare(left=_call("_type", held), ops=[py.In()],
                              comparators=[_name("_numbers")])
        sides = [self.expr(literal), _name(temp)] if literal_left else \
            [_name(temp), self.expr(literal)]
        return py.IfExp(test=test,
                        body=py.Compare(left=sides[0], ops=[_NATIVE_COMPARE[e.op]],
                                        comparators=[sides[1]]),
                        orelse=_call(_BINARY_HELPERS[e.op], *sides))

    def longest_text(self, e) -> float:
        """The most characters text sum `e` can have when it is made of text literals and
        NUMBERs only (a 64-bit number has at most 20), else infinity."""
        most = 0
        for leaf in self.text_leaves(e):
            if type(leaf) is A.TextLit:
                most += len(leaf.value)
            elif self.scope.types.of(leaf) == INT:
                most += 20
            else:
                return float("inf")
        return most

    def finite_for_sure(self, e: A.Binary) -> bool:
        """NUMBER + - * a literal of moderate size: a 64-bit whole number (at most 2**63 in
        size) and such a literal cannot make an infinite DECIMAL."""
        types = self.scope.types
        for side, other in ((e.left, e.right), (e.right, e.left)):
            if type(side) in (A.DecimalLit, A.NumberLit) and types.of(other) == INT and \
                    abs(side.value) < 1e200:
                return True
        return False

    def is_text_sum(self, e) -> bool:
        """text + text, or text and a number that is never null (str() is its text)."""
        if type(e) is not A.Binary or e.op != "+":
            return False
        sides = {self.scope.types.of(e.left), self.scope.types.of(e.right)}
        return sides <= {STR, INT} and STR in sides

    def text_sum(self, e: A.Binary):
        """The concatenation of `e` unchecked: its parts are texts no longer than the whole,
        so checking the whole once (`checked_text`) is checking them all."""
        parts = []
        for side in (e.left, e.right):
            if id(side) not in self.links and self.is_text_sum(side):
                parts.append(self.text_sum(side))
            elif self.scope.types.of(side) == INT:
                parts.append(_call("_str", self.expr(side)))
            else:
                parts.append(self.expr(side))
        return py.BinOp(left=parts[0], op=py.Add(), right=parts[1])

    def checked_number(self, value, e: A.Binary):
        """`value` (the NUMBER arithmetic of `e`) if it fits in 64 bits, else the overflow
        error. Only the sides the result can pass are checked: none when both operands' ranges
        are known (`bounds`), one when a single operand's sign is."""
        low_possible, high_possible = True, True
        if self.bounds(e) is not None:
            return value
        if e.op in ("+", "-"):
            left, right = self.bounds(e.left), self.bounds(e.right)
            if right is not None:  # x + [lo, hi], x - [lo, hi]
                low, high = right if e.op == "+" else (-right[1], -right[0])
                low_possible, high_possible = low < 0, high > 0
            elif left is not None and e.op == "+":
                low_possible, high_possible = left[0] < 0, left[1] > 0
            elif left is not None and left[0] >= -1:  # [lo, hi] - x, lo >= -1: never too low
                low_possible = False
        temp = self.temp()
        held = py.NamedExpr(target=_name(temp, py.Store()), value=value)
        if low_possible and high_possible:
            test = py.Compare(left=_const(MIN_NUMBER), ops=[py.LtE(), py.LtE()],
                              comparators=[held, _const(MAX_NUMBER)])
        elif high_possible:
            test = py.Compare(left=held, ops=[py.LtE()], comparators=[_const(MAX_NUMBER)])
        elif low_possible:
            test = py.Compare(left=held, ops=[py.GtE()], comparators=[_const(MIN_NUMBER)])
        else:
            return value
        return py.IfExp(test=test, body=_name(temp), orelse=_call("_overflow"))

    def bounds(self, e) -> tuple[int, int] | None:
        """The range a NUMBER expression's value surely lies in, when the compiler can tell
        (literals, loop indexes, arithmetic of those), else None. A range inside 64 bits means
        the arithmetic cannot overflow."""
        if type(e) is not A.Binary and type(e) is not A.Unary:
            return self._bounds(e)
        key = (id(e), id(self.scope))  # a chain asks for each link's bounds again and again
        if key not in self.bounds_memo:
            self.bounds_memo[key] = self._bounds(e)
        return self.bounds_memo[key]

    def _bounds(self, e) -> tuple[int, int] | None:
        kind = type(e)
        if kind is A.NumberLit:
            return (e.value, e.value) if type(e.value) is int else None
        if kind is A.Name:
            return (0, MAX_INDEX) if e.name in self.scope.indexes else None
        if kind is A.MethodCall and e.name.lower() in ("size", "length") and not e.args and \
                self.scope.types.of(e.target) in (LIST, MAP, STR):
            return 0, MAX_NUMBER  # a Python length: never negative, at most sys.maxsize
        if kind is A.Unary and e.op == "-":
            inner = self.bounds(e.operand)
            return (-inner[1], -inner[0]) if inner is not None and inner[0] > MIN_NUMBER \
                else None
        if kind is not A.Binary or e.op not in ("+", "-", "*", "%"):
            return None
        types = self.scope.types
        if types.of(e.left) not in INTS or types.of(e.right) not in INTS:
            return None
        right = self.bounds(e.right)
        if e.op == "%":  # the sign of the dividend, less than the divisor in size
            if right is None or right[0] <= 0:
                return None
            left = self.bounds(e.left)
            most = right[1] - 1
            if left is not None and left[0] >= 0:
                return 0, min(most, left[1])
            return -most, most
        left = self.bounds(e.left)
        if left is None or right is None:
            return None
        if e.op == "+":
            low, high = left[0] + right[0], left[1] + right[1]
        elif e.op == "-":
            low, high = left[0] - right[1], left[1] - right[0]
        else:
            corners = [a * b for a in left for b in right]
            low, high = min(corners), max(corners)
        return (low, high) if MIN_NUMBER <= low and high <= MAX_NUMBER else None

    def checked_decimal(self, value):
        """`value` if it is a finite DECIMAL (NaN fails both comparisons), else the error."""
        temp = self.temp()
        return py.IfExp(
            test=py.Compare(left=_const(-MAX_DECIMAL), ops=[py.LtE(), py.LtE()],
                            comparators=[py.NamedExpr(target=_name(temp, py.Store()), value=value),
                                         _const(MAX_DECIMAL)]),
            body=_name(temp), orelse=_call("_check_decimal", _name(temp)))

    def checked_text(self, value):
        """`value` (a text) if not suspiciously long; long texts are checked against the run's
        limit."""
        temp = self.temp()
        return py.IfExp(
            test=py.Compare(left=_call("_len", py.NamedExpr(target=_name(temp, py.Store()),
                                                           value=value)),
                            ops=[py.LtE()], comparators=[_const(LONG_TEXT)]),
            body=_name(temp), orelse=_call("_check_text_value", _name(temp)))

    def e_IfExpr(self, e: A.IfExpr):
        return py.IfExp(test=self.condition(e.condition), body=self.expr(e.then),
                        orelse=self.expr(e.otherwise))

    def e_IfNull(self, e: A.IfNull):
        temp = self.temp()
        return py.IfExp(
            test=py.Compare(left=py.NamedExpr(target=_name(temp, py.Store()),
                                              value=self.expr(e.value)),
                            ops=[py.IsNot()], comparators=[_const(None)]),
            body=_name(temp), orelse=self.expr(e.fallback))

    def e_Attribute(self, e: A.Attribute):
        root = e.target
        if type(root) is A.Name and root.name not in self.scope.variables:
            if root.name == "zoho":
                return _call(_attr(_name("R"), "system"), _const(e.name.lower()))
            if root.name == "input":
                return _call(_attr(_name("R"), "input"), _const(e.name))
            if root.name in NAMESPACE_ROOTS:
                self.error(e, f"'{root.name}.{e.name}' is a function; call it with ()",
                           "not-called")
                return _const(None)
        return _call("_get_field", self.expr(e.target), _const(e.name))

    def _is_namespace(self, target) -> bool:
        """Is `target` a namespace (`zoho.crm`, `thisapp`), not a value (`zoho.currenttime`)?"""
        lowest = None  # the attribute right above the root name
        while type(target) is A.Attribute:
            lowest, target = target, target.target
        # `thisApp.f()`, `Standalone.f()`: the roots of calls in any letter case
        if type(target) is not A.Name or not (target.name == "zoho" or
                                              target.name.lower() in NAMESPACE_ROOTS) or \
                target.name in self.scope.variables:
            return False
        return lowest is None or not (target.name == "zoho" and
                                      lowest.name.lower() in SYSTEM_VARIABLES)

    def _qualified(self, target) -> list[str]:
        path = []
        while type(target) is A.Attribute:
            path.append(target.name)
            target = target.target
        path.append(target.name)
        return path[::-1]

    def e_MethodCall(self, e: A.MethodCall):
        if self._is_namespace(e.target):
            path = self._qualified(e.target)
            if path[0] == "zoho":
                return self.zoho_call(".".join(path + [e.name]), e)
            return self.user_call(e.name, e.args, e, tuple(path + [e.name]))
        name = e.name.lower()
        if any(type(a) is A.Pair for a in e.args):  # insert("k": v, ...): one map of them
            if not all(type(a) is A.Pair for a in e.args):
                self.error(e, f"{e.name} takes either values or key: value pairs, not both",
                           "mixed-arguments")
                return _const(None)
            pairs = A.MapLit(tuple(e.args), span=e.span)
            return self.method_call(name, self.expr(e.target), [self.expr(pairs)], e)
        if not B.is_method(name):
            if name in B.FUNCTIONS or e.name in self.functions:
                self.error(e, f"'{e.name}' is a function, not a method: write {e.name}(...)",
                           "not-a-method")
            else:
                self.error(e, f"Unknown function '{e.name}'{_did_you_mean(name)}",
                           "unknown-function")
            return _const(None)
        return self.method_call(name, self.expr(e.target), [self.expr(a) for a in e.args], e)

    def method_call(self, name: str, receiver, args, node):
        n = len(args)
        counts = B.arities(name)
        if counts is not None and n not in counts:
            shown = B.METHODS[name][0].name
            self.error(node, f"{shown} takes {_count_words(counts)}, got {n}", "arity")
            return _const(None)
        table_name, fallback_name = f"_mt_{name}_{n}", f"_mf_{name}_{n}"
        known = _PYTHON_TYPES.get(self.scope.types.of(node.target)) if \
            type(node) is A.MethodCall else None
        inline = self.inline_method(name, known, receiver, args, node)
        if inline is not None:
            return inline
        if known is not None and known in B.dispatch(name, n)[0]:
            helper = f"_m_{name}_{n}_{known.__name__}"  # the receiver's type is proven
            self.add_helper(("method_for", helper, name, n, known.__name__))
            return _call(helper, receiver, *args)
        self.add_helper(("method", name, n))
        temp = self.temp()
        # (table.get(type(r), fallback))(r, *args), with r evaluated once
        lookup = _call(_attr(_name(table_name), "get"),
                       _call("_type", py.NamedExpr(target=_name(temp, py.Store()),
                                                   value=receiver)),
                       _name(fallback_name))
        return _call(lookup, _name(temp), *args)

    def inline_method(self, name: str, known, receiver, args, node):
        """The commonest methods as plain Python where the types allow: `m.get("k")`,
        `list.add(x)`, `.size()`. They do what the built-in would (maps.py, lists.py) without a
        call through the dispatch table (and, as everywhere, no attribute of a value: the unbound
        `dict.get` and `list.append`); anything else is left to `method_call`."""
        n = len(args)
        if name in ("size", "length") and n == 0 and known in (list, dict, str):
            return _call("_len", receiver)
        if known is str and name in _TEXT_INLINE and n == _TEXT_INLINE[name][1] and all(
                self.scope.types.of(a) == STR for a in node.args[-n:] if n):
            return _call(_TEXT_INLINE[name][0], receiver, *args)  # text methods of texts
        if name == "get" and n == 1 and type(node) is A.MethodCall:
            key = node.args[0]
            text_key = type(key) is A.TextLit or self.scope.types.of(key) == STR
            if known is dict and text_key:
                return _call("_dict_get", receiver, args[0])
            if known is None and type(key) is A.TextLit:  # rec.get("Email"): a map, mostly
                temp = self.temp()
                self.add_helper(("method", name, n))
                dispatched = _call(_call(_attr(_name(f"_mt_{name}_{n}"), "get"),
                                         _call("_type", _name(temp)), _name(f"_mf_{name}_{n}")),
                                   _name(temp), args[0])
                return py.IfExp(
                    test=py.Compare(left=_call("_type", py.NamedExpr(
                        target=_name(temp, py.Store()), value=receiver)),
                        ops=[py.Is()], comparators=[_name("_dict")]),
                    body=_call("_dict_get", _name(temp), args[0]), orelse=dispatched)
        if known is list and name == "get" and n == 1 and type(node) is A.MethodCall and \
                self.scope.types.of(node.args[0]) == INT:
            # l.get(i) in range is l[i]; out of range, the built-in says so
            held, index = self.temp(), self.temp()
            self.add_helper(("method_for", "_m_get_1_list", "get", 1, "list"))
            return py.IfExp(
                test=py.Compare(
                    left=_call("_len", py.NamedExpr(target=_name(held, py.Store()),
                                                    value=receiver)),
                    ops=[py.Gt(), py.GtE()],
                    comparators=[py.NamedExpr(target=_name(index, py.Store()), value=args[0]),
                                 _const(0)]),
                body=py.Subscript(value=_name(held), slice=_name(index), ctx=py.Load()),
                orelse=_call("_m_get_1_list", _name(held), _name(index)))
        if known is dict and n >= 1 and type(node) is A.MethodCall and \
                self.scope.types.of(node.args[0]) == STR:
            # a map's commonest methods with a text key, as maps.py does them
            if name in ("containkey", "containskey") and n == 1:
                return _call("_dict_contains", receiver, args[0])
        if known is dict and name == "put" and n == 2 and type(node) is A.MethodCall and \
                self.scope.types.of(node.args[0]) == STR and all(map(_runs_no_code, node.args)):
            return self.map_put(receiver, node)
        if name == "add" and n == 1 and known is list:
            # l.append(x), then the size limit looked at only past 100k (as lists.py does)
            temp = self.temp()
            appended = _call("_list_append", py.NamedExpr(target=_name(temp, py.Store()),
                                                          value=receiver), args[0])
            return py.IfExp(
                test=py.BoolOp(op=py.Or(), values=[appended, py.Compare(
                    left=_call("_len", _name(temp)), ops=[py.Gt()],
                    comparators=[_const(100_000)])]),
                body=_call("_check_collection", _call("_len", _name(temp))),
                orelse=_const(None))
        return None

    def map_put(self, receiver, node):
        """m.put(k, v) on a map, with a text key and a value that cannot run code (so cannot
        grow the map while it is worked out): while the map is below the size limit one more
        key cannot pass it, and the dict takes it; else the built-in, which checks."""
        held = self.temp()
        return py.IfExp(
            test=py.Compare(left=_call("_len", py.NamedExpr(target=_name(held, py.Store()),
                                                            value=receiver)),
                            ops=[py.Lt()], comparators=[_name("__C")]),
            body=_call("_dict_setitem", _name(held), *[self.expr(a) for a in node.args]),
            orelse=_call(self.method_for("put", 2, dict), _name(held),
                         *[self.expr(a) for a in node.args]))

    def method_for(self, name: str, n: int, known: type) -> str:
        helper = f"_m_{name}_{n}_{known.__name__}"
        self.add_helper(("method_for", helper, name, n, known.__name__))
        return helper

    def e_Call(self, e: A.Call):
        if e.name in self.functions:
            return self.user_call(e.name, e.args, e)
        name = e.name.lower()
        entry = B.FUNCTIONS.get(name)
        if entry is not None:
            n = len(e.args)
            if not B.accepts(entry, n):
                self.error(e, f"{entry.name} takes {_entry_count(entry)}, got {n}", "arity")
                return _const(None)
            helper = f"_fn_{name}"
            self.add_helper(("function", helper, name))
            return _call(helper, *[self.expr(a) for a in e.args])
        if B.is_method(name):  # the global form of a method: getSuffix(t, "x")
            if not e.args:
                self.error(e, f"{e.name}(...) needs the value to work on as its first argument",
                           "arity")
                return _const(None)
            return self.method_call(name, self.expr(e.args[0]),
                                    [self.expr(a) for a in e.args[1:]], e)
        if name in TASK_FUNCTIONS:
            return self.task_call(name, [self.expr(a) for a in e.args], e)
        if self.app is not None:  # a function of another file of the app, called bare
            return self.user_call(e.name, e.args, e)
        self.error(e, f"Unknown function '{e.name}'{_did_you_mean(name, self.functions)}",
                   "unknown-function")
        return _const(None)

    def user_call(self, name: str, args, node, path: tuple = ()):
        """A call of a function of this file, or of the app (`path`: how the call names it,
        `thisapp.Logs.add` as ("thisapp", "Logs", "add"))."""
        f = self.functions.get(name)
        where = ""
        if f is not None:
            key = self.prefix + name
            if self.prefix:  # a function of the same other file: compiled in too
                found = self.app.defined(int(self.prefix[:-1]), name)
                self.enqueue(found, node)
                where = found.where
        elif self.app is not None:
            key, found = self.app_function(path or (name,), node)
            if key is False:
                return _const(None)
            if key is not None:
                f = found.definition
                where = found.where if key != found.definition.name else ""
        if f is None:
            shown = ".".join(path) if path and self.app is not None else name
            self.error(node, f"Unknown function '{shown}'{_did_you_mean(name, self.functions)}"
                             f"{self.app_note()}", "unknown-function")
            return _const(None)
        if len(args) != len(f.params):
            self.error(node, f"function '{f.name}' takes {len(f.params)} argument"
                             f"{'s' if len(f.params) != 1 else ''}, got {len(args)}"
                             f"{f' (defined at {where})' if where else ''}", "arity")
            return _const(None)
        values = [self.typed_arg(a, f, p, where) for a, p in zip(args, f.params)]
        name = key
        in_function = self.scope.kind == "function"
        if name not in self.leaves:
            depth = py.BinOp(left=_name("__d"), op=py.Add(), right=_const(1)) if in_function \
                else _const(1)
            return _call(f"f_{name}", *values, depth)
        if not in_function:  # depth 1: within any limit
            return _call(f"f_{name}", *values)
        # (f_leaf if deep enough else a function that stops the run)(args): the arguments
        # are worked out first either way, as for any call
        callee = py.IfExp(test=py.Compare(left=_name("__d"), ops=[py.Lt()],
                                          comparators=[_name("__M")]),
                          body=_name(f"f_{name}"),
                          orelse=_call(_attr(_name("R"), "too_deep_call"), _const(f.name)))
        return py.Call(func=callee, args=values, keywords=[])

    def checked_arg(self, value, f: A.FunctionDef, param: A.Param, where: str = ""):
        """An argument checked against its parameter's type where the call is, so an error
        names the caller's line (and `where`, the definition's file and line, for a function
        of another file)."""
        if param.type in ("object", "collection"):
            return value
        extra = (_const(where),) if where else ()
        return _call("_check_param", value, _const(param.type), _const(f.name),
                     _const(param.name), *extra)

    def typed_arg(self, arg, f: A.FunctionDef, param: A.Param, where: str = ""):
        value = self.expr(arg)
        if fits(self.scope.types.of(arg), param.type):
            return value  # proven to pass the check
        return self.checked_arg(value, f, param, where)

    def app_note(self) -> str:
        """Why an app may not know a function: a file of it that does not parse."""
        broken = self.app.broken_files() if self.app is not None else []
        if not broken:
            return ""
        return f" (not looked at: {broken[0].filename} has a syntax error" + \
            (f", and {len(broken) - 1} more file(s)" if len(broken) > 1 else "") + ")"

    def zoho_call(self, qualified: str, e: A.MethodCall):
        entry = B.FUNCTIONS.get(qualified.lower())
        args = [self.expr(a) for a in e.args]
        if entry is not None:
            if not B.accepts(entry, len(args)):
                self.error(e, f"{entry.name} takes {_entry_count(entry)}, got {len(args)}", "arity")
                return _const(None)
            helper = "_fn_" + qualified.lower().replace(".", "_")
            self.add_helper(("function", helper, qualified.lower()))
            return _call(helper, *args)
        return self.task_call(qualified, args, e)

    def task_call(self, name: str, args, node):
        return _at(_call(_attr(_name("R"), "task"), _const(name), _const(node.span[0]), *args),
                   node)

    def e_Task(self, e: A.Task):
        entries = []
        for entry in e.entries:
            values = [self.task_value(v) for v in entry.values]
            value = values[0] if len(values) == 1 else py.List(elts=values, ctx=py.Load())
            entries.append(py.Tuple(elts=[_const(entry.key), value], ctx=py.Load()))
        return _call(_attr(_name("R"), "task_block"), _const(e.name), _const(e.span[0]),
                     py.Tuple(elts=entries, ctx=py.Load()))

    def task_value(self, v):
        if type(v) is A.Name and v.name not in self.scope.variables:
            if self.scope.kind == "body":  # a run argument of that name, else the word itself
                return _at(_call(_attr(_name("A"), "get"), _const(v.name), _const(v.name)), v)
            return _at(_const(v.name), v)  # `type: GET`: a bare word is that word as text
        if type(v) is A.Tagged:
            return _at(_call("_Tagged", _const(v.tag), self.expr(v.value)), v)
        return self.expr(v)

    def criteria(self, e) -> py.expr:
        """A Creator criteria as `lambda rec: ...`: a name that is not a variable is a field."""
        saved = self.scope.variables
        rec = self.temp()
        fields = read_names(e, set()) - saved - set(SYSTEM_ROOTS)
        self.scope.variables = saved | fields
        try:
            body = self.expr(e)
        finally:
            self.scope.variables = saved
        body = _FieldsFrom(rec, fields).visit(body)
        return py.Lambda(args=_arguments([rec]), body=body)

    def e_Query(self, e: A.Query):
        low, high = (self.expr(e.range[0]), self.expr(e.range[1])) if e.range else (
            _const(None), _const(None))
        return self.task_call("creator.query", [_const(e.form), self.criteria(e.criteria),
                                                _const(e.sort_by), _const(e.descending), low,
                                                high], e)

    def e_InsertInto(self, e: A.InsertInto):
        values = py.Dict(keys=[_const(f.name) for f in e.fields],
                         values=[self.expr(f.value) for f in e.fields])
        return self.task_call("insert into", [_const(e.form), values], e)

    def e_Tagged(self, e: A.Tagged):
        return _call("_Tagged", _const(e.tag), self.expr(e.value))

    def e_Pair(self, e: A.Pair):
        self.error(e, "'key: value' belongs in a map literal {...} or Collection(...)",
                   "misplaced-pair")
        return _const(None)


class _FieldsFrom(py.NodeTransformer):
    """In a criteria lambda, read record fields instead of variables for field names."""

    def __init__(self, rec: str, fields: set[str]):
        self.rec = rec
        self.names = {f"v_{f}": f for f in fields}

    def visit_Name(self, node):
        field = self.names.get(node.id)
        if field is None:
            return node
        placed = py.copy_location(_call("_get_field", _name(self.rec), _const(field)), node)
        _fill(placed, node.lineno, node.col_offset)
        return placed


# Task names that are called like functions (`openUrl(url, "new window")`).
TASK_FUNCTIONS = frozenset({"openurl", "geturl", "posturl", "invokeurl", "sendsms"})


def _function_def(name: str, params: list[str], body: list) -> py.FunctionDef:
    node = py.FunctionDef(name=name, args=_arguments(params), body=body, decorator_list=[],
                          returns=None)
    if "type_params" in py.FunctionDef._fields:  # Python 3.12+
        node.type_params = []
    return node


def _arguments(names: list[str]) -> py.arguments:
    return py.arguments(posonlyargs=[], args=[py.arg(arg=n) for n in names], vararg=None,
                        kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


def _attr_store(obj, name):
    return py.Attribute(value=obj, attr=name, ctx=py.Store())


def _count_words(counts: set[int]) -> str:
    low, high = min(counts), max(counts)
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    if high == low + 1:
        return f"{low} or {high} arguments"
    return f"{low} to {high} arguments"


def _entry_count(entry) -> str:
    if entry.max_args < 0:
        return f"at least {entry.min_args} argument{'s' if entry.min_args != 1 else ''}"
    return _count_words(set(range(entry.min_args, entry.max_args + 1)))


def _did_you_mean(name: str, functions=()) -> str:
    import difflib

    candidates = list(B.METHODS) + list(B.FUNCTIONS) + [f.lower() for f in functions]
    close = difflib.get_close_matches(name.lower(), candidates, n=1, cutoff=0.75)
    if not close:
        return ""
    shown = next((f for f in functions if f.lower() == close[0]), None)
    if shown is None:
        entries = B.METHODS.get(close[0]) or [B.FUNCTIONS[close[0]]]
        shown = entries[0].name
    return f" (did you mean '{shown}'?)"
