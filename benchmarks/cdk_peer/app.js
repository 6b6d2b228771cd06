'use strict';
// The AWS CDK peer of `playback-infra synth` that `make bench` times (benchmarks/loop.py).
//
// Usage: node app.js SHAPE_DIR OUT_DIR
//
// SHAPE_DIR holds our rendered templates as JSON (root.json nesting the ten children, the
// standalone stacks) and shape.json (each environment's root parameter values, the standalone
// stacks' names), written by the benchmark before it starts timing. For each of the three
// environments the app makes a root stack whose ten children are CDK NestedStacks, and one
// stack per standalone template: the same stacks, resources (kind and number), parameters,
// conditions and outputs, each resource as CDK's own typed L1 construct (CfnInclude makes a
// CfnBucket for an AWS::S3::Bucket, and so on), the environment's values baked in as a CDK app
// per environment does. Then app.synth() writes the cloud assembly (templates, nested templates
// as assets, manifests) to OUT_DIR.
//
// Plain JavaScript, so no compile step is timed; app.synth() in one `node` process, not the
// `cdk synth` CLI (which adds its own start-up and runs this same process as a child): each
// choice makes the peer faster, never slower. The App is CDK's as a user gets it: its built-in
// CloudFormation template validation runs in synth, as it does by default (AppProps
// `builtinCloudFormationValidation`, default true:
// https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.AppProps.html). The benchmark also
// times the peer with it off through CDK's documented switch, CDK_VALIDATION=false in the
// environment, for comparison (`playback-infra synth` validates nothing itself: cfn-lint and
// checkov run in `check`).
const fs = require('node:fs');
const path = require('node:path');
const { App, Stack } = require('aws-cdk-lib');
const { CfnInclude } = require('aws-cdk-lib/cloudformation-include');

const [shape, outdir] = process.argv.slice(2);
const read = (name) => JSON.parse(fs.readFileSync(path.join(shape, name), 'utf8'));
const { environments, standalone } = read('shape.json');

const app = new App({ outdir });
const root = read('root.json');
const loadNestedStacks = {};
for (const [id, resource] of Object.entries(root.Resources)) {
  if (resource.Type === 'AWS::CloudFormation::Stack') {
    loadNestedStacks[id] = { templateFile: path.join(shape, resource.Properties.TemplateURL) };
  }
}
for (const [env, parameters] of Object.entries(environments)) {
  new CfnInclude(new Stack(app, `${env}-root`), 'Root', {
    templateFile: path.join(shape, 'root.json'),
    parameters,
    loadNestedStacks,
  });
}
for (const name of standalone) {
  new CfnInclude(new Stack(app, name), 'Template', { templateFile: path.join(shape, `${name}.json`) });
}
app.synth();
