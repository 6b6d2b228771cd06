"""One module per stack; each `build()` returns a troposphere Template."""
