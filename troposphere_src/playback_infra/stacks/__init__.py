"""One module per template; each `build()` returns a troposphere Template.

A stack with parts is a package named for it: `__init__.py` holds `build()`, its parts (and
their files) sit beside it. A stack never imports another stack; what two stacks share is in
`parts/`.
"""
