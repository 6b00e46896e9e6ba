"""How a request is authenticated, one module per auth type: basic, api key, OAuth 1.0a, OAuth 2.0.

Each module turns stored credentials into a requests auth callable (signing is authlib's and
requests' own), and the OAuth modules also speak to the provider's endpoints. None of them
touches the store: tokens go back to the caller, which decides what to save.
"""
