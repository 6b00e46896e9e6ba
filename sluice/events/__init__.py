"""Scripts that run when events arrive: `bindings` (scripts/events.toml: which scripts an event
runs, with which arguments, limits and connections), `queue` (the persistent run queue and the
run history), `workers` (what takes runs from the queue and runs them) and `server` (`sluice
serve`: the HTTP API that accepts events and answers for runs and connections)."""
