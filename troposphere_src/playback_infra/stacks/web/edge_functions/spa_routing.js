// CloudFront Function (cloudfront-js-2.0), viewer request, default (site) behaviour.
// A path whose last segment has no file extension is a route of the single-page app
// (/games/2023-04-01-NYA, /teams/NYN/): serve /index.html and let the app route it.
// Files (/assets/app.3f2a1c.js, /config.json) pass through unchanged, so a missing file
// is a real 404 and API paths never reach this behaviour.
function handler(event) {
    var request = event.request;
    var lastSegment = request.uri.substring(request.uri.lastIndexOf('/') + 1);
    if (lastSegment.indexOf('.') === -1) {
        request.uri = '/index.html';
    }
    return request;
}
