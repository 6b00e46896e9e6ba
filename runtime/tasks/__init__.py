"""Tasks (`invokeurl`, `sendmail`, `info`, ...): one module per task, each using only Services."""
