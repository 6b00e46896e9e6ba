"""Which variable names a piece of the AST reads: one walker, used by the compiler (free
variables of functions, undefined names) and by the type inference (assigned before read)."""

from __future__ import annotations

from dsl import ast as A


def read_names(node, out: set[str]) -> set[str]:
    """Names read anywhere under `node` (statements or expressions), leaving out the criteria
    of Creator queries: a name read only there is a field of the form's records."""
    if type(node) is A.Name:
        out.add(node.name)
        return out
    if isinstance(node, tuple):
        for n in node:
            read_names(n, out)
        return out
    if isinstance(node, A.Node):
        skip = "criteria" if type(node) in (A.Query, A.DeleteFrom) else None
        for field in node._compared:
            if field != skip:
                read_names(getattr(node, field), out)
    return out
