"""Physical names two stacks must agree on (in `Fn::Sub` form)."""

from playback_infra.parts import values

# The vault in the copy region that the data stack's backup plan copies to (dr-vault stack).
DR_VAULT_NAME = f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-dr"
