"""Which variable names a piece of the AST reads: one walker, used by the compiler (free
variables of functions, undefined names) and by the type inference (assigned before read).

The walkers keep their own stack instead of recursing: a chain such as `a + b + ...` with
20,000 terms is a tree 20,000 levels deep, which Python's recursion cannot follow.
"""

from __future__ import annotations

from dsl import ast as A

_SKIPPED = {A.Query: "criteria", A.DeleteFrom: "criteria"}


def read_names(node, out: set[str]) -> set[str]:
    """Names read anywhere under `node` (statements or expressions), leaving out the criteria
    of Creator queries: a name read only there is a field of the form's records."""
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    name_type, node_type = A.Name, A.Node
    while stack:
        node = pop()
        if type(node) is name_type:
            out.add(node.name)
        elif isinstance(node, tuple):
            extend(node)
        elif isinstance(node, node_type):
            skip = _SKIPPED.get(type(node))
            for field in node._compared:
                if field != skip:
                    push(getattr(node, field))
    return out
