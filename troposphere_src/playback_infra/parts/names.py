"""Physical names two stacks must agree on (in `Fn::Sub` form)."""

from playback_infra.parts import values

_ENV = f"${{{values.ENVIRONMENT_NAME}}}"

# What the observability stack's dashboard and tracing name, made by the stacks beside it:
# the RDS Proxy (data), the two web ACLs (edge-global, ingress), the import workflow
# (game-data), and the service name the backend reports traces under (app).
PROXY_NAME = f"baseball-playback-{_ENV}"
SITE_WEB_ACL_NAME = f"baseball-playback-{_ENV}-site"
API_WEB_ACL_NAME = f"baseball-playback-{_ENV}-api"
IMPORT_WORKFLOW_NAME = f"baseball-playback-{_ENV}-retrosheet-import"
TRACED_SERVICE_NAME = f"baseball-playback-{_ENV}"

# The vault in the copy region that the data stack's backup plan copies to (dr-vault stack).
DR_VAULT_NAME = f"baseball-playback-{_ENV}-dr"

# Headers the ingress (ALB rules) and web (CloudFront) stacks must agree on: CloudFront adds
# the origin secret, which the ALB requires; the test-traffic header reaches green tasks
# during a blue/green deployment, so CloudFront drops it from viewers' requests.
ORIGIN_HEADER = "X-Origin-Verify"
TEST_HEADER = "X-Playback-Test-Traffic"
