// CloudWatch Synthetics canary (syn-nodejs-puppeteer runtime), given inline as Code.Script
// with the handler index.handler. Two steps, as a user meets the product through CloudFront:
// the site's index page loads as HTML, and the API's health route answers JSON. A step that
// throws fails the run, which lowers SuccessPercent (the alarm's metric).
const synthetics = require('@aws/synthetics-puppeteer');

const STEP_TIMEOUT_MS = 30000;

function expectAnswer(what, status, contentType, expectedType) {
    if (status !== 200) {
        throw new Error(`${what} answered ${status}, not 200`);
    }
    if (!(contentType || '').includes(expectedType)) {
        throw new Error(`${what} answered ${contentType || 'no content type'}, not ${expectedType}`);
    }
}

async function loadSite(url) {
    const page = await synthetics.getPage();
    const response = await page.goto(url, {waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT_MS});
    if (!response) {
        throw new Error(`${url} gave no response`);
    }
    expectAnswer(`the site (${url})`, response.status(), response.headers()['content-type'], 'text/html');
}

async function callHealth(url) {
    const answer = await fetch(url, {redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT_MS)});
    expectAnswer(`the API's health route (${url})`, answer.status, answer.headers.get('content-type'),
        'application/json');
    await answer.json();  // a body that is not JSON fails the step
}

exports.handler = async () => {
    await synthetics.executeStep('load-site', () => loadSite(process.env.SITE_URL));
    await synthetics.executeStep('api-health', () => callHealth(process.env.API_HEALTH_URL));
    return 'site and API health answered';
};
