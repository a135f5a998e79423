// The web dashboard in a real browser: headless Chromium, driven by playwright-core, logs in
// (a wrong password first), watches the overview and acts on one queued message as an operator.
//
//   node dashboard.mjs BASE_URL USER PASSWORD QUEUE_ID ARTEFACT_DIR
//
// BASE_URL is the HTTP listener ("http://127.0.0.1:8025"); QUEUE_ID a message the daemon holds
// deferred (with a last reply). Screenshots go to ARTEFACT_DIR as PNG. The last line of standard
// output is one JSON object: {"ok": true|false, "step": ..., "error": ..., ...}. Exit status 0
// only when every check passed: any console error, uncaught page error, failed request or
// unexpected HTTP status of the dashboard fails the run. Every wait is bounded (STEP_TIMEOUT),
// and the whole run too (RUN_TIMEOUT).
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.TERN_CHROMIUM || '/usr/bin/chromium';
const STEP_TIMEOUT = 15_000;  // ms any single wait may take (the page polls every 2 s)
const RUN_TIMEOUT = 90_000;   // ms the whole run may take
const QUIET = 2_500;          // ms to watch that a dismissed confirm sent nothing (one poll)

const [baseUrl, user, password, queueId, outDir] = process.argv.slice(2);
if (!baseUrl || !user || !password || !queueId || !outDir) {
    console.error('usage: node dashboard.mjs BASE_URL USER PASSWORD QUEUE_ID ARTEFACT_DIR');
    process.exit(64);
}
const dashboard = new URL('/dashboard/', baseUrl).href;

const result = {
    ok: false, step: 'start', error: null, browser: null, screenshots: [], actions: [],
    dialogs: [], console_errors: [], page_errors: [], bad_responses: [], failed_requests: [],
    totals: null, rows: {}, whoami: null, login_error: null,
};
let browser = null;
let page = null;
let finished = false;

function check(condition, message) {
    if (!condition) throw new Error(message);
}

async function finish(code) {
    if (finished) return;
    finished = true;
    if (code !== 0 && page) await screenshot('failure').catch(() => {});
    if (browser) await browser.close().catch(() => {});
    console.log(JSON.stringify(result));
    process.exit(code);
}

const watchdog = setTimeout(() => {
    result.error = `the run took more than ${RUN_TIMEOUT} ms`;
    finish(2);
}, RUN_TIMEOUT);

async function screenshot(name) {
    const file = path.join(outDir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true, timeout: STEP_TIMEOUT });
    result.screenshots.push(file);
}

// Requests the page may see answered 401: the session probe and the wrong password before the
// login, and anything once the test has logged out (a poll already on its way).
let loggedOut = false;
function expected401(url) {
    const p = new URL(url).pathname;
    return loggedOut || p === '/dashboard/api/session' || p === '/dashboard/api/login';
}

function watch(p) {
    p.on('pageerror', (e) => result.page_errors.push(String(e && e.stack || e)));
    p.on('console', (m) => {
        if (m.type() !== 'error') return;
        const where = m.location().url || '';
        // Chromium's own line for an error status (the status itself is judged in 'response'):
        // an expected 401, or the browser's own look for /favicon.ico, which the page never asks.
        const status = /^Failed to load resource: .* status of (\d+)/.exec(m.text());
        if (status && where && ((status[1] === '401' && expected401(where))
                                || new URL(where).pathname === '/favicon.ico')) return;
        result.console_errors.push(`${m.text()} (${where})`);
    });
    p.on('response', (r) => {
        if (!new URL(r.url()).pathname.startsWith('/dashboard/')) return;
        if (r.status() < 400 || (r.status() === 401 && expected401(r.url()))) return;
        result.bad_responses.push(`${r.request().method()} ${r.url()} -> ${r.status()}`);
    });
    p.on('requestfailed', (r) => {
        const why = r.failure() ? r.failure().errorText : 'failed';
        if (why === 'net::ERR_ABORTED' && loggedOut) return;  // a poll cut short by the reload
        result.failed_requests.push(`${r.method()} ${r.url()}: ${why}`);
    });
}

// Fails the run at once when the page has logged an error so far.
function noErrorsYet() {
    check(result.page_errors.length === 0, `page error: ${result.page_errors[0]}`);
    check(result.console_errors.length === 0, `console error: ${result.console_errors[0]}`);
    check(result.bad_responses.length === 0, `unexpected status: ${result.bad_responses[0]}`);
    check(result.failed_requests.length === 0, `request failed: ${result.failed_requests[0]}`);
    const odd = result.dialogs.find((d) => d.type !== 'confirm');
    check(!odd, `the page opened a dialog: ${JSON.stringify(odd)}`);
}

async function text(selector) {
    const t = await page.locator(selector).first().textContent({ timeout: STEP_TIMEOUT });
    return (t || '').trim();
}

// Waits until the element's trimmed text satisfies `test` (polled from here, not in the page,
// whose Content-Security-Policy forbids eval); returns the text.
async function waitText(selector, test, what) {
    const deadline = Date.now() + STEP_TIMEOUT;
    for (;;) {
        const now = await page.locator(selector).first().textContent({ timeout: 1000 })
            .catch(() => null);
        if (now !== null && test(now.trim())) return now.trim();
        if (Date.now() > deadline) {
            throw new Error(
                `${what}: ${selector} text is ${JSON.stringify(now)} after ${STEP_TIMEOUT} ms`);
        }
        await page.waitForTimeout(100);
    }
}

const row = () => page.locator(`#queue tbody tr[data-id="${queueId}"]`);

// How the next window.confirm is answered: true accepts, false dismisses.
let confirmAnswer = false;

function isQueuePost(r) {
    return r.request().method() === 'POST' && new URL(r.url()).pathname === '/dashboard/api/queue';
}

// Clicks the row's button for `action` and checks the request it made and the answer.
async function act(action) {
    result.step = `action ${action}`;
    const before = await text('#action-result');
    const [response] = await Promise.all([
        page.waitForResponse(isQueuePost, { timeout: STEP_TIMEOUT }),
        row().locator(`button[data-action="${action}"]`).click({ timeout: STEP_TIMEOUT }),
    ]);
    const sent = JSON.parse(response.request().postData() || 'null');
    const headers = response.request().headers();
    let answer = null;
    try { answer = await response.json(); } catch { answer = null; }
    result.actions.push({ action, sent, status: response.status(), answer });
    check(sent && sent.action === action && sent.id === queueId,
          `${action}: the page sent ${JSON.stringify(sent)}`);
    check((headers['content-type'] || '').startsWith('application/json'),
          `${action}: sent as ${headers['content-type']}`);
    check(headers['x-csrf-token'], `${action}: sent without X-CSRF-Token`);
    check(response.status() === 200 && answer && answer.ok === true,
          `${action}: answered ${response.status()} ${JSON.stringify(answer)}`);
    // Its result shown (each action in turn is another, so the text changes).
    const shown = await waitText('#action-result', (t) => t !== '' && t !== before,
                                 `${action}: no result shown`);
    result.actions[result.actions.length - 1].shown = shown;
    return answer;
}

async function run() {
    await fs.mkdir(outDir, { recursive: true });
    result.step = 'launch';
    browser = await chromium.launch({
        executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: STEP_TIMEOUT,
    });
    result.browser = browser.version();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(STEP_TIMEOUT);
    page = await context.newPage();
    watch(page);
    page.on('dialog', async (d) => {
        result.dialogs.push({ type: d.type(), message: d.message(), accepted: confirmAnswer });
        if (d.type() === 'confirm' && confirmAnswer) await d.accept(); else await d.dismiss();
    });

    result.step = 'open';
    const opened = await page.goto(dashboard, { waitUntil: 'load', timeout: STEP_TIMEOUT });
    check(opened && opened.status() === 200, `GET ${dashboard}: ${opened && opened.status()}`);
    await page.locator('#login-form').waitFor({ state: 'visible' });
    check(!(await page.locator('#app').isVisible()), '#app is visible before any login');
    await screenshot('01-login');

    result.step = 'wrong password';
    await page.fill('#login-user', user);
    await page.fill('#login-password', `${password}-wrong`);
    const [refused] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/dashboard/api/login'),
        page.click('#login-submit'),
    ]);
    check(refused.status() === 401, `a wrong password was answered ${refused.status()}`);
    result.login_error = await waitText('#login-error', (t) => t !== '', 'no login error shown');
    await page.locator('#login-error').waitFor({ state: 'visible' });
    check(!(await page.locator('#app').isVisible()), '#app is visible after a wrong password');
    await screenshot('02-login-error');

    result.step = 'login';
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    const [accepted] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/dashboard/api/login'),
        page.click('#login-submit'),
    ]);
    check(accepted.status() === 200, `the right password was answered ${accepted.status()}`);
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.locator('#login-form').waitFor({ state: 'hidden' });
    result.whoami = await waitText('#whoami', (t) => t !== '', 'no user shown');
    check(result.whoami.includes(user),
          `#whoami shows ${JSON.stringify(result.whoami)}, not ${user}`);
    const cookies = await context.cookies(dashboard);
    const session = cookies.find((c) => c.name === 'tern_dashboard');
    check(session && session.httpOnly && session.sameSite === 'Strict'
          && session.path === '/dashboard', `session cookie ${JSON.stringify(session)}`);
    check(!(await page.evaluate(() => document.cookie.includes('tern_dashboard'))),
          'the session cookie is readable from script');

    result.step = 'overview';
    await row().waitFor({ state: 'visible' });
    const reason = await waitText(`#queue tbody tr[data-id="${queueId}"] .reason`, (t) => t !== '',
                                  'no reason in the queue row');
    result.rows.reason = reason;
    const totals = {};
    for (const name of ['received', 'delivered', 'deferred', 'bounced']) {
        const shown = await waitText(`#total-${name}`, (t) => /^\d[\d,. ]*$/.test(t),
                                     `total ${name}`);
        totals[name] = Number(shown.replace(/[,. ]/g, ''));
    }
    result.totals = totals;
    check(totals.received >= 1, `received ${totals.received}, but a message was received`);
    check(totals.deferred >= 1, `deferred ${totals.deferred}, but a delivery was deferred`);
    // The graph is a canvas with something drawn on it (its image differs from a blank one's).
    const canvas = await page.locator('#throughput').evaluate((e) => {
        if (e.tagName !== 'CANVAS') return { tag: e.tagName };
        const blank = document.createElement('canvas');
        blank.width = e.width;
        blank.height = e.height;
        return { tag: e.tagName, width: e.width, height: e.height,
                 drawn: e.toDataURL() !== blank.toDataURL() };
    });
    result.throughput = canvas;
    check(canvas.tag === 'CANVAS' && canvas.width > 0 && canvas.height > 0 && canvas.drawn,
          `#throughput is ${JSON.stringify(canvas)}`);
    // Rows of data: more than one cell (a table with nothing to show has one row of one cell
    // saying so).
    const dataRows = (table) => page.locator(`#${table} tbody tr:has(td + td)`);
    await dataRows('sites').first().waitFor({ state: 'attached' });
    await dataRows('domains-tls').first().waitFor({ state: 'attached' });
    await page.locator('#failures tbody tr', { hasText: queueId }).first()
        .waitFor({ state: 'attached' });
    for (const table of ['sites', 'failures', 'domains-tls', 'domains-dkim'])
        result.rows[table] = await dataRows(table).count();
    // Values from the queue (a sender, a remote reply) are text, never markup.
    result.rows.queue_text = await text('#queue tbody');
    const markup = await page.locator(['img', 'script', 'iframe', 'svg', 'object']
        .map((tag) => `#app ${tag}`).join(', ')).count();
    check(markup === 0, `${markup} elements made from values in the tables`);
    noErrorsYet();
    await screenshot('03-overview');

    result.step = 'hold';
    await act('hold');
    await waitText(`#queue tbody tr[data-id="${queueId}"] .state`, (t) => t === 'held',
                   'not shown held');
    await screenshot('04-held');

    await act('release');
    await waitText(`#queue tbody tr[data-id="${queueId}"] .state`,
                   (t) => ['deferred', 'active', 'pending'].includes(t), 'not shown released');

    await act('retry');
    result.rows.state_after_retry = await waitText(
        `#queue tbody tr[data-id="${queueId}"] .state`,
        (t) => ['deferred', 'active', 'pending'].includes(t), 'no state after retry');

    // A bounce the operator thinks better of: the confirm dismissed, nothing sent; meanwhile
    // the page goes on polling by itself.
    result.step = 'bounce dismissed';
    const posts = [];
    const polls = [];
    const count = (r) => {
        const p = new URL(r.url()).pathname;
        if (r.method() === 'POST' && p === '/dashboard/api/queue') posts.push(r);
        if (r.method() === 'GET' && p === '/dashboard/api/overview') polls.push(r);
    };
    page.on('request', count);
    const dialogsBefore = result.dialogs.length;
    confirmAnswer = false;
    await row().locator('button[data-action="bounce"]').click();
    await page.waitForTimeout(QUIET);
    page.off('request', count);
    check(result.dialogs.length === dialogsBefore + 1 && result.dialogs.at(-1).type === 'confirm',
          `bounce asked no confirm: ${JSON.stringify(result.dialogs)}`);
    check(posts.length === 0, 'a dismissed bounce was sent anyway');
    result.polls_while_quiet = polls.length;
    check(polls.length >= 1, `no poll of the overview in ${QUIET} ms`);
    await row().waitFor({ state: 'visible' });

    result.step = 'delete';
    confirmAnswer = true;
    await act('delete');
    check(result.dialogs.length === dialogsBefore + 2 && result.dialogs.at(-1).type === 'confirm'
          && result.dialogs.at(-1).accepted,
          `delete asked no confirm: ${JSON.stringify(result.dialogs)}`);
    await row().waitFor({ state: 'detached' });
    noErrorsYet();
    await screenshot('05-after-actions');

    result.step = 'logout';
    loggedOut = true;
    const [out] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/dashboard/api/logout'),
        page.click('#logout'),
    ]);
    check(out.status() === 200, `logout was answered ${out.status()}`);
    await page.locator('#login-form').waitFor({ state: 'visible' });
    await page.locator('#app').waitFor({ state: 'hidden' });
    await page.reload({ waitUntil: 'load' });
    await page.locator('#login-form').waitFor({ state: 'visible' });
    check(!(await page.locator('#app').isVisible()), '#app is visible after logout and a reload');
    noErrorsYet();

    result.step = 'done';
    result.ok = true;
}

try {
    await run();
    clearTimeout(watchdog);
    await finish(0);
} catch (e) {
    clearTimeout(watchdog);
    // The message without Playwright's terminal colours, and short.
    // eslint-disable-next-line no-control-regex
    const message = String(e && e.message || e).replace(/\x1b\[[0-9;]*m/g, '');
    result.error = message.split('\n').slice(0, 6).join('\n');
    await finish(1);
}
