"""Monthly cost estimate of an environment from its templates and parameter files."""
