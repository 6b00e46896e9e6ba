"""`sluice test`: unit tests for Deluge scripts, offline. `spec` reads `*.test.toml` files,
`world` is what a case's script runs in (declared and recorded HTTP answers, kept mail, a
throwaway CRM store, a frozen clock), `runner` runs cases and compares, `report` writes JUnit
and LCOV files, `pytest_plugin` lets pytest collect the same files."""
