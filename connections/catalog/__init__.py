"""Built-in services, described as data (one file), and the loader for it."""
