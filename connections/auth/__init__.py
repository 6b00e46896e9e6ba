"""Client authentication per auth type: basic, api key, OAuth 1.0a, OAuth 2.0."""
