"""The pipeline-artifacts stack: the pipelines' artifact store in a region other than theirs.

CodePipeline needs an artifact bucket and key in every region an action runs in: us-east-1
for the edge-global stacks, and each environment's region when it is not the pipelines'.
Deploy it once in each such region of the delivery account, before the pipeline stack:
`aws cloudformation deploy --region REGION --template-file templates/pipeline-artifacts.yaml
--stack-name baseball-playback-pipeline-artifacts`. The pipeline stack finds the bucket and key
by their names, which this stack and it derive the same way (parts/delivery.py).
"""

from __future__ import annotations

from troposphere import Output, Ref, Template

from playback_infra.environments.catalog import environments
from playback_infra.parts.delivery import add_artifact_store
from playback_infra.parts.template import new_template, tag_component

COMPONENT = "delivery"


def build() -> Template:
    t = new_template("pipeline artifact store of one more region (delivery account)")
    _, bucket = add_artifact_store(t, sorted({env.account_id for env in environments()}))
    t.add_output(Output("ArtifactBucketName", Value=Ref(bucket)))
    tag_component(t, COMPONENT)
    return t
