"""The built-in library, one module per kind of value. Importing this package registers every
built-in in runtime.builtins (the table `sluice builtins` lists)."""

from . import collection, common, dates, encoding, json_xml, lists, maps, numbers, text  # noqa
