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

# The rotation stack's rule that sends a failed rotation to the alarm topic, which the alerts
# stack's topic policy lets publish.
ROTATION_FAILED_RULE_NAME = f"baseball-playback-{_ENV}-rotation-failed"

# The vault in the copy region that the data stack's backup plan copies to (dr-vault stack).
DR_VAULT_NAME = f"baseball-playback-{_ENV}-dr"

# Headers the ingress (ALB rules) and web (CloudFront) stacks must agree on: CloudFront adds
# the origin secret, which the ALB requires; the test-traffic header reaches green tasks
# during a blue/green deployment, so CloudFront drops it from viewers' requests.
ORIGIN_HEADER = "X-Origin-Verify"
TEST_HEADER = "X-Playback-Test-Traffic"

# Delivery: the pipeline stack's roles (pipeline account) are named PIPELINE_ROLE_PREFIX + a
# purpose; the registry lets only them push. The pipeline-target stack, deployed once in each
# account that holds environments, makes the two roles the pipeline uses there: the deploy role
# its actions assume, and the execution role it passes to CloudFormation.
PIPELINE_ROLE_PREFIX = "baseball-playback-pipeline-"
PIPELINE_DEPLOY_ROLE = f"{PIPELINE_ROLE_PREFIX}deploy"
PIPELINE_EXECUTION_ROLE = f"{PIPELINE_ROLE_PREFIX}cfn-exec"

# The commit last deployed to an environment (an SSM parameter in its account and region):
# written by the infrastructure pipeline's Apply (as the deploy role) and by `playback-infra
# deploy`, read by `playback-infra deployed-tag` for `playback-infra diff`'s base.
DEPLOYED_COMMIT_PARAMETER = f"/baseball-playback/{_ENV}/deployed-commit"
