"""Small shared builders: cross-stack values, template helpers, IAM, security-group rules."""
