"""The Connections console: Zoho's Setup > Connections page, served by `sluice serve` (under
/console) and by `sluice console` on one machine.

An admin signs in with the admin token or the console password, picks a service from the
catalog (or defines a custom one), names a connection, and connects it: OAuth through the
provider's consent page and back, Basic and API-key credentials at once after a test call. Each
connection's page shows its status and what mends it, and the snippet a script pastes. Runs and
bindings have pages too. Pages are server-rendered; the only script copies snippets.

    blueprint = console_blueprint(ConsoleContext(home=..., admin_token=...))
    flask_app.register_blueprint(blueprint)      # at /console
"""

from __future__ import annotations

from .app import ConsoleContext, console_app, console_blueprint

__all__ = ["ConsoleContext", "console_app", "console_blueprint"]
