"""Route 53 for ministack: a hosted zone may be created under the ID an environment names
(``zone_with_requested_id``).
"""

import functools
import re

from ministack.services import route53

_ZONE_ID_REFERENCE = re.compile(r"^zone-id:(Z[A-Z0-9]{1,32})$")


def zone_with_requested_id(create_hosted_zone):
    """Wrap Route 53's CreateHostedZone so a CallerReference `zone-id:<ID>` makes the zone
    under that ID: an environment's real zone IDs (which Route 53 chooses on AWS) can then
    exist here, and its alias and validation records land in them."""

    @functools.wraps(create_hosted_zone)
    def created(body, query_params):
        root = route53._parse_body(body)
        wanted = _ZONE_ID_REFERENCE.match(route53._text(root, "CallerReference")) if root else None
        if wanted is None:
            return create_hosted_zone(body, query_params)
        generate = route53._zone_id
        route53._zone_id = lambda: wanted.group(1)
        try:
            return create_hosted_zone(body, query_params)
        finally:
            route53._zone_id = generate

    return created
