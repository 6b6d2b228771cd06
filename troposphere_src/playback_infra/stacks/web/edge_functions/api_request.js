// CloudFront Function (cloudfront-js-2.0), viewer request, API behaviour.
// The ALB sends requests carrying the test-traffic header to the green tasks of a blue/green
// deployment; viewers must never choose that, so the header is dropped at the edge.
function handler(event) {
    var request = event.request;
    delete request.headers['x-playback-test-traffic'];
    return request;
}
