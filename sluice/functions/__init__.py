"""Functions as REST APIs: a script published under a name, with an API key of its own, called
over HTTP by `sluice serve` (`GET|POST /functions/<name>/execute`) as Zoho's REST API functions
are. `store` keeps the published functions, `calls` binds arguments, runs a call and shapes the
answer, `http` adds the route to the server."""
