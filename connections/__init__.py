"""Named credentials for third-party services, usable without any script.

Seams: connections imports neither dsl nor runtime. A Python program can make authenticated
calls through a stored connection with this package alone.
"""
