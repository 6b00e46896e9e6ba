"""Deluge execution: AST (from dsl) -> Python code -> Result.

Seams: runtime imports dsl (its AST and parse) and nothing else of ours. It reaches HTTP,
connections, mail and other hosts only through a `Services` interface it defines itself; the
sluice package plugs in the real connections facade, tests plug in fakes that record calls.
"""
