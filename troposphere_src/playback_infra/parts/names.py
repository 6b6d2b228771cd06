"""Physical names two stacks must agree on (in `Fn::Sub` form)."""

from playback_infra.parts import values

# The vault in the copy region that the data stack's backup plan copies to (dr-vault stack).
DR_VAULT_NAME = f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-dr"

# Headers the ingress (ALB rules) and web (CloudFront) stacks must agree on: CloudFront adds
# the origin secret, which the ALB requires; the test-traffic header reaches green tasks
# during a blue/green deployment, so CloudFront drops it from viewers' requests.
ORIGIN_HEADER = "X-Origin-Verify"
TEST_HEADER = "X-Playback-Test-Traffic"
