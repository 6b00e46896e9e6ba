"""The Sluice application: the `sluice` command, and later the REPL, demo and event server.

This package composes dsl, runtime and connections, and is the only code that prints.
"""

__version__ = "0.1.0"
