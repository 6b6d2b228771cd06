"""The web stack: one CloudFront distribution serving the single-page app and the API.

- The site bucket is private (owner-enforced, no public access, TLS only) and readable only by
  this distribution, through Origin Access Control; versioned, with old versions expiring.
- Default behaviour: the bucket, cached by the managed CachingOptimized policy; a CloudFront
  Function rewrites extension-less paths (app routes) to /index.html, so an API 404 stays a
  404. `/index.html` and `/config.json` have behaviours of their own that never cache.
- `${ApiBasePath}/*`: the ALB over HTTPS at ApiDomain, no caching, every viewer header but
  Host forwarded, plus the secret origin header the ALB requires. The browser talks to one
  origin, so the API needs no CORS.
- HTTPS only (HTTP redirects), TLS 1.2 with the 2025 cipher set at least, HTTP/2 and HTTP/3,
  IPv6, security headers on every response, the edge WAF, access logs, 5xx error pages.
The certificate and WAF come from the edge-global stack in us-east-1.
"""

from __future__ import annotations

from pathlib import Path

from awacs import s3
from awacs.aws import Allow, Condition, Policy, Principal, Statement, StringEquals
from troposphere import Equals, GetAtt, Not, Ref, Sub, Template
from troposphere.cloudfront import (
    CacheBehavior,
    ContentSecurityPolicy,
    ContentTypeOptions,
    CustomErrorResponse,
    CustomHeader,
    CustomHeadersConfig,
    CustomOriginConfig,
    DefaultCacheBehavior,
    Distribution,
    DistributionConfig,
    FrameOptions,
    Function,
    FunctionAssociation,
    FunctionConfig,
    Logging,
    Origin,
    OriginAccessControl,
    OriginAccessControlConfig,
    OriginCustomHeader,
    ReferrerPolicy,
    ResponseHeadersPolicy,
    ResponseHeadersPolicyConfig,
    S3OriginConfig,
    SecurityHeadersConfig,
    StrictTransportSecurity,
    ViewerCertificate,
)
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketPolicy,
    LifecycleRule,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
)

from playback_infra.parts import values
from playback_infra.parts.dns import alias_record
from playback_infra.parts.names import ORIGIN_HEADER
from playback_infra.parts.s3 import access_log_bucket, private_bucket, tls_only
from playback_infra.parts.suppress import suppress
from playback_infra.parts.template import (
    add_retain_condition,
    new_template,
    stateful,
    tag_component,
)

COMPONENT = "web"
FUNCTIONS = Path(__file__).parent / "edge_functions"
HAS_ZONE = "HasSiteHostedZone"
SITE_ORIGIN = "site-bucket"
API_ORIGIN = "api-alb"
# AWS managed policies, by their fixed IDs (CloudFront developer guide).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# Every alias target that is a CloudFront distribution lives in this Route 53 zone.
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
# TLS 1.2 (strongest ciphers only) and 1.3: the newest policy that keeps TLS 1.2 clients.
VIEWER_TLS_POLICY = "TLSv1.2_2025"
NOT_CACHED = ("/index.html", "/config.json")
ERROR_PAGE = "/errors/5xx.html"
SERVER_ERRORS = (500, 502, 503, 504)
# The SPA loads only its own files and calls its own origin (the API is under the same host).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "upgrade-insecure-requests",
    )
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS_SECONDS = 63_072_000  # two years


def function_code(name: str) -> str:
    """The JavaScript of a CloudFront Function kept beside this module."""
    return (FUNCTIONS / f"{name}.js").read_text()


def build() -> Template:
    t = new_template(
        "web (CloudFront for the SPA and the API, site bucket)", language_extensions=True
    )
    values.consume(
        t,
        values.ENVIRONMENT_NAME,
        values.SITE_DOMAIN,
        values.SITE_HOSTED_ZONE_ID,
        values.SITE_CERTIFICATE_ARN,
        values.SITE_WEB_ACL_ARN,
        values.SITE_PRICE_CLASS,
        values.SITE_ACCESS_LOG_DAYS,
        values.SITE_PREVIOUS_VERSIONS_DAYS,
        values.API_DOMAIN,
        values.API_BASE_PATH,
        values.ORIGIN_VERIFY_SECRET_ARN,
    )
    add_retain_condition(t)
    t.add_condition(HAS_ZONE, Not(Equals(Ref(values.SITE_HOSTED_ZONE_ID), "")))

    site_bucket = _add_site_bucket(t)
    logs_bucket = _add_logs_bucket(t)
    oac = t.add_resource(
        OriginAccessControl(
            "SiteOriginAccessControl",
            OriginAccessControlConfig=OriginAccessControlConfig(
                Name=Sub(f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-site"),
                Description="CloudFront signs every request to the site bucket",
                OriginAccessControlOriginType="s3",
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )
    )
    spa_routing = _function(t, "SpaRoutingFunction", "spa_routing", "app routes to /index.html")
    api_request = _function(t, "ApiRequestFunction", "api_request", "drop the test header")
    headers = _add_response_headers_policy(t)
    distribution = _add_distribution(
        t, site_bucket, logs_bucket, oac, spa_routing, api_request, headers
    )
    _add_site_bucket_policy(t, site_bucket, distribution)
    for record_type in ("A", "AAAA"):
        t.add_resource(
            alias_record(
                f"SiteAlias{record_type}",
                HAS_ZONE,
                values.SITE_HOSTED_ZONE_ID,
                values.SITE_DOMAIN,
                record_type,
                GetAtt(distribution, "DomainName"),
                CLOUDFRONT_ZONE_ID,
            )
        )

    values.produce(t, values.SITE_BUCKET_NAME, Ref(site_bucket))
    values.produce(t, values.SITE_DISTRIBUTION_ID, Ref(distribution))
    values.produce(t, values.SITE_DISTRIBUTION_DOMAIN_NAME, GetAtt(distribution, "DomainName"))
    values.produce(t, values.SITE_URL, Sub(f"https://${{{values.SITE_DOMAIN}}}"))
    tag_component(t, COMPONENT)
    return t


def _add_site_bucket(t: Template) -> Bucket:
    """The built SPA. Replaceable from the frontend repository, so retained only as the data
    policy says; SSE-S3 because everything in it is served to everyone anyway."""
    bucket = private_bucket(
        "SiteBucket",
        ServerSideEncryptionRule(
            ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(SSEAlgorithm="AES256"),
            BucketKeyEnabled=True,
        ),
        LifecycleRule(
            Id="expire-previous-versions",
            Status="Enabled",
            NoncurrentVersionExpiration=NoncurrentVersionExpiration(
                NoncurrentDays=Ref(values.SITE_PREVIOUS_VERSIONS_DAYS)
            ),
            AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(DaysAfterInitiation=1),
        ),
    )
    suppress(bucket, {
        "CKV_AWS_18": "CloudFront's access logs record every read of the site; S3 server access logs would repeat them",
        "CKV_AWS_145": "Public site files (served to every viewer): SSE-S3 avoids a KMS call per CloudFront miss and a key policy for CloudFront",
    })  # fmt: skip
    return t.add_resource(stateful(bucket))


def _add_logs_bucket(t: Template) -> Bucket:
    """CloudFront's access logs. Standard logging writes them with an ACL grant, so this bucket
    keeps ACLs (BucketOwnerPreferred: the objects are still ours); it is always retained."""
    bucket = access_log_bucket(
        "SiteLogsBucket",
        values.SITE_ACCESS_LOG_DAYS,
        "CloudFront standard",
        OwnershipControls=OwnershipControls(
            Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerPreferred")]
        ),
    )
    t.add_resource(bucket)
    t.add_resource(
        BucketPolicy(
            "SiteLogsBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=Policy(Version="2012-10-17", Statement=[tls_only(bucket)]),
        )
    )
    return bucket


def _add_site_bucket_policy(t: Template, bucket: Bucket, distribution: Distribution) -> None:
    t.add_resource(
        BucketPolicy(
            "SiteBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="CloudFrontReadsThroughOac",
                        Effect=Allow,
                        Principal=Principal("Service", ["cloudfront.amazonaws.com"]),
                        Action=[s3.GetObject],
                        Resource=[Sub(f"${{{bucket.title}.Arn}}/*")],
                        Condition=Condition(
                            StringEquals(
                                "AWS:SourceArn",
                                Sub(
                                    f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{distribution.title}}}"
                                ),
                            )
                        ),
                    ),
                    tls_only(bucket),
                ],
            ),
        )
    )


def _function(t: Template, title: str, name: str, purpose: str) -> Function:
    return t.add_resource(
        Function(
            title,
            Name=Sub(f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-{name.replace('_', '-')}"),
            AutoPublish=True,
            FunctionCode=function_code(name),
            FunctionConfig=FunctionConfig(Comment=purpose, Runtime="cloudfront-js-2.0"),
        )
    )


def _add_response_headers_policy(t: Template) -> ResponseHeadersPolicy:
    return t.add_resource(
        ResponseHeadersPolicy(
            "SecurityHeadersPolicy",
            ResponseHeadersPolicyConfig=ResponseHeadersPolicyConfig(
                Name=Sub(f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-security-headers"),
                Comment="HSTS, CSP for this origin only, no sniffing, no framing, referrer",
                SecurityHeadersConfig=SecurityHeadersConfig(
                    StrictTransportSecurity=StrictTransportSecurity(
                        AccessControlMaxAgeSec=HSTS_SECONDS,
                        IncludeSubdomains=True,
                        Preload=False,
                        Override=True,
                    ),
                    ContentSecurityPolicy=ContentSecurityPolicy(
                        ContentSecurityPolicy=CONTENT_SECURITY_POLICY, Override=True
                    ),
                    ContentTypeOptions=ContentTypeOptions(Override=True),
                    FrameOptions=FrameOptions(FrameOption="DENY", Override=True),
                    ReferrerPolicy=ReferrerPolicy(
                        ReferrerPolicy="strict-origin-when-cross-origin", Override=True
                    ),
                ),
                CustomHeadersConfig=CustomHeadersConfig(
                    Items=[
                        CustomHeader(
                            Header="Permissions-Policy", Value=PERMISSIONS_POLICY, Override=True
                        )
                    ]
                ),
            ),
        )
    )


def _add_distribution(
    t: Template,
    site_bucket: Bucket,
    logs_bucket: Bucket,
    oac: OriginAccessControl,
    spa_routing: Function,
    api_request: Function,
    headers: ResponseHeadersPolicy,
) -> Distribution:
    def viewer_request(function: Function) -> list[FunctionAssociation]:
        return [
            FunctionAssociation(
                EventType="viewer-request", FunctionARN=GetAtt(function, "FunctionARN")
            )
        ]

    # Every behaviour: HTTPS (HTTP redirects), compressed, with the security headers.
    every = {
        "ViewerProtocolPolicy": "redirect-to-https",
        "Compress": True,
        "CachedMethods": ["GET", "HEAD"],
        "ResponseHeadersPolicyId": Ref(headers),
    }
    site_files = {**every, "TargetOriginId": SITE_ORIGIN, "AllowedMethods": ["GET", "HEAD"]}
    not_cached = [
        CacheBehavior(PathPattern=path, CachePolicyId=CACHING_DISABLED, **site_files)
        for path in NOT_CACHED
    ]
    api = CacheBehavior(
        PathPattern=Sub(f"${{{values.API_BASE_PATH}}}/*"),
        TargetOriginId=API_ORIGIN,
        AllowedMethods=["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
        CachePolicyId=CACHING_DISABLED,
        OriginRequestPolicyId=ALL_VIEWER_EXCEPT_HOST_HEADER,
        FunctionAssociations=viewer_request(api_request),
        **every,
    )
    distribution = Distribution(
        "SiteDistribution",
        DistributionConfig=DistributionConfig(
            Comment=Sub(f"Baseball Playback ${{{values.ENVIRONMENT_NAME}}}: site and API"),
            Enabled=True,
            Aliases=[Ref(values.SITE_DOMAIN)],
            ViewerCertificate=ViewerCertificate(
                AcmCertificateArn=Ref(values.SITE_CERTIFICATE_ARN),
                SslSupportMethod="sni-only",
                MinimumProtocolVersion=VIEWER_TLS_POLICY,
            ),
            HttpVersion="http2and3",
            IPV6Enabled=True,
            PriceClass=Ref(values.SITE_PRICE_CLASS),
            WebACLId=Ref(values.SITE_WEB_ACL_ARN),
            DefaultRootObject="index.html",
            Logging=Logging(
                Bucket=GetAtt(logs_bucket, "DomainName"),
                Prefix="cloudfront/",
                IncludeCookies=False,
            ),
            Origins=[
                Origin(
                    Id=SITE_ORIGIN,
                    DomainName=GetAtt(site_bucket, "RegionalDomainName"),
                    OriginAccessControlId=GetAtt(oac, "Id"),
                    # OAC signs the requests; no origin access identity.
                    S3OriginConfig=S3OriginConfig(OriginAccessIdentity=""),
                ),
                Origin(
                    Id=API_ORIGIN,
                    DomainName=Ref(values.API_DOMAIN),
                    CustomOriginConfig=CustomOriginConfig(
                        OriginProtocolPolicy="https-only",
                        OriginSSLProtocols=["TLSv1.2"],
                        HTTPSPort=443,
                        OriginReadTimeout=30,
                        OriginKeepaliveTimeout=5,
                    ),
                    OriginCustomHeaders=[
                        OriginCustomHeader(
                            HeaderName=ORIGIN_HEADER,
                            HeaderValue=Sub(
                                f"{{{{resolve:secretsmanager:${{{values.ORIGIN_VERIFY_SECRET_ARN}}}}}}}"
                            ),
                        )
                    ],
                ),
            ],
            DefaultCacheBehavior=DefaultCacheBehavior(
                CachePolicyId=CACHING_OPTIMIZED,
                FunctionAssociations=viewer_request(spa_routing),
                **site_files,
            ),
            CacheBehaviors=[*not_cached, api],
            # Real server errors get a page (the frontend ships it); 4xx pass through untouched.
            CustomErrorResponses=[
                CustomErrorResponse(
                    ErrorCode=code,
                    ResponseCode=code,
                    ResponsePagePath=ERROR_PAGE,
                    ErrorCachingMinTTL=10,
                )
                for code in SERVER_ERRORS
            ],
        ),
    )
    return t.add_resource(distribution)
