// app.mjs: the browser app end to end, in Debian's Chromium driven by playwright-core,
// against a real stack (tests/integration/t_web.sh starts it and reads the result).
// usage: node app.mjs BASE_URL EMAIL PASSWORD SHOTS_DIR
// Prints one line a check, "ok - NAME" or "FAIL - NAME: WHY", as lib.sh does (and "# "
// lines with figures), and keeps
// a screenshot of each page (1440 and 375 px wide) in SHOTS_DIR.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';

// The npm packages are tests/node's (its package.json and lock file).
const require = createRequire(new URL('../node/package.json', import.meta.url));
const { chromium } = require('playwright-core');
// Evaluated through the debugging protocol: the page's Content-Security-Policy, which
// refuses inline script, is kept and checked too.
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const [base, email, password, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });

let failed = 0;
const ok = (name) => console.log(`ok - ${name}`);
const fail = (name, why) => { failed++; console.log(`FAIL - ${name}: ${String(why).replace(/\s+/g, ' ')}`); };
const expect = (name, cond, why) => (cond ? ok(name) : fail(name, why));
// check NAME FN: FN throws (or a wait times out) to fail.
async function check(name, fn) {
	try {
		await fn();
		ok(name);
	} catch (e) {
		fail(name, e.message.split('\n')[0]);
	}
}

const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--no-first-run'],
});
const problems = [];	// console errors, page errors, answers no step expects
let allowed = [];	// [method, path prefix, status] a step expects to fail
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(10000);
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
	// A failed answer is logged by Chromium too; the answers themselves are judged below.
	if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
		problems.push(`console: ${m.text()}`);
});
page.on('response', (r) => {
	const u = new URL(r.url());
	const s = r.status();
	if (s < 400)
		return;
	if (allowed.some(([m, p, st]) => m === r.request().method() && u.pathname.startsWith(p) && st === s))
		return;
	problems.push(`${r.request().method()} ${u.pathname} answered ${s}`);
});

// axe-core on the page as it is: no serious or critical violation.
async function axe(name) {
	await check(`${name}: axe-core finds no serious or critical violation`, async () => {
		if (!(await page.evaluate(() => 'axe' in window)))
			await page.evaluate(axeSource);
		const res = await page.evaluate(async () => {
			const r = await window.axe.run(document, { resultTypes: ['violations'] });
			return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
				.map((v) => `${v.id} (${v.nodes.length}): ${v.nodes[0].target.join(' ')}`);
		});
		if (res.length > 0)
			throw new Error(res.join('; '));
	});
}

// Screenshots at 1440 and 375 px; at 375 nothing is wider than the screen.
async function shoot(name) {
	await page.screenshot({ path: `${shots}/${name}-1440.png`, fullPage: true });
	await page.setViewportSize({ width: 375, height: 800 });
	await page.waitForTimeout(100);
	const wide = await page.evaluate(() => document.documentElement.scrollWidth);
	expect(`${name}: fits 375 px without scrolling sideways`, wide <= 375, `the page is ${wide} px wide`);
	await page.screenshot({ path: `${shots}/${name}-375.png`, fullPage: true });
	await page.setViewportSize({ width: 1440, height: 900 });
}

const t = (id) => `[data-test="${id}"]`;
// The API from inside the signed-in page, with the session's CSRF token.
const api = (method, path, body) => page.evaluate(async ({ method, path, body }) => {
	const me = await (await fetch('/api/v1/me')).json();
	const r = await fetch(path, {
		method, body: body ? JSON.stringify(body) : undefined,
		headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
	});
	return { status: r.status, body: await r.json().catch(() => null) };
}, { method, path, body });

try {
	// Sign in.
	allowed = [['GET', '/api/v1/me', 401], ['HEAD', '/api/v1/auth/oidc/start', 404],
		['POST', '/api/v1/auth/login', 401]];
	await page.goto(`${base}/#/agents`);
	await check('sign in: the page asks for an email and a password', async () => {
		await page.locator(t('login-email')).waitFor();
		await page.locator(t('login-password')).waitFor();
		await page.locator(t('login-submit')).waitFor();
	});
	expect('sign in: the email field has the focus', await page.evaluate(() => document.activeElement?.dataset.test) === 'login-email',
		'focus is elsewhere');
	expect('sign in: no single sign-on button without a provider', await page.locator(t('login-sso')).count() === 0,
		'the button is shown');
	await axe('sign in');
	await shoot('login');
	// The keyboard alone: type, Tab to the password, Enter.
	await page.locator(t('login-email')).fill(email);
	await page.keyboard.press('Tab');
	await check('sign in: Tab moves to the password, with a visible focus ring', async () => {
		const s = await page.evaluate(() => {
			const el = document.activeElement;
			const cs = getComputedStyle(el);
			return { test: el.dataset.test, outline: cs.outlineStyle, width: cs.outlineWidth };
		});
		if (s.test !== 'login-password' || s.outline === 'none' || s.width === '0px')
			throw new Error(JSON.stringify(s));
	});
	await page.keyboard.type('not the password');
	await page.keyboard.press('Enter');
	await check('sign in: a wrong password is said in words', async () => {
		await page.locator(t('login-error')).filter({ hasText: 'not right' }).waitFor();
	});
	await page.locator(t('login-password')).fill(password);
	await page.locator(t('login-submit')).click();
	await check('sign in: lands where the person was going, with the navigation', async () => {
		await page.locator(t('agent-card')).first().waitFor();
		for (const n of ['nav-home', 'nav-agents', 'nav-chat', 'nav-inbox', 'nav-kb', 'nav-keys'])
			await page.locator(t(n)).waitFor();
	});
	allowed = [];

	// Agents.
	const catalog = await api('GET', '/api/v1/agents');
	const items = catalog.body?.items ?? [];
	await check('agents: one card per agent of the catalog', async () => {
		const cards = await page.locator(t('agent-card')).count();
		if (cards !== items.length || items.length === 0)
			throw new Error(`${cards} cards, ${items.length} agents`);
		const slugs = await page.locator(t('agent-card')).evaluateAll((els) => els.map((e) => e.dataset.slug).sort());
		if (slugs.join() !== items.map((a) => a.slug).sort().join())
			throw new Error(`cards ${slugs.join()}`);
	});
	await axe('agents');
	await shoot('agents');
	await page.locator(t('agents-search')).fill('summ');
	await check('agents: search by name', async () => {
		const want = items.filter((a) => /summ/i.test(a.name) || /summ/i.test(a.slug)).map((a) => a.slug).sort();
		await page.waitForFunction((n) => document.querySelectorAll('[data-test="agent-card"]').length === n, want.length);
		const got = await page.locator(t('agent-card')).evaluateAll((els) => els.map((e) => e.dataset.slug).sort());
		if (got.join() !== want.join() || want.length === 0)
			throw new Error(`got ${got.join()}, want ${want.join()}`);
	});
	await page.locator(t('agents-search')).fill('');
	const category = items.find((a) => a.category)?.category ?? 'writing';
	await page.locator(t('agents-category')).selectOption(category);
	await check('agents: filter by category', async () => {
		const want = items.filter((a) => a.category === category).map((a) => a.slug).sort();
		await page.waitForFunction((n) => document.querySelectorAll('[data-test="agent-card"]').length === n, want.length);
		const got = await page.locator(t('agent-card')).evaluateAll((els) => els.map((e) => e.dataset.slug).sort());
		if (got.join() !== want.join())
			throw new Error(`got ${got.join()}, want ${want.join()}`);
	});

	// Home: the live feed.
	await page.locator(t('nav-home')).click();
	await check('home: the feed is live', async () => {
		await page.locator(t('feed-status')).filter({ hasText: 'Live' }).waitFor();
	});
	const before = await page.locator(t('feed-item')).count();
	const run = await api('POST', '/api/v1/runs', { agent: 'summarizer', input: 'e2e: a run for the feed' });
	expect('home: a run is made through the API', run.status === 202, `status ${run.status}`);
	await check('home: the run shows in the feed', async () => {
		await page.locator(`${t('feed-item')}:has-text("summarizer")`).first().waitFor();
		await page.waitForFunction((n) => document.querySelectorAll('[data-test="feed-item"]').length > n, Math.min(before, 24));
	});
	await axe('home');
	await shoot('home');
	// How long a signed-in home takes to show, from the navigation's start (a figure
	// for the log, not a check: the budget is bench/web's).
	await page.reload();
	await page.locator(t('feed-status')).waitFor();
	const shown = await page.evaluate(() => Math.round(performance.now()));
	console.log(`# first render of the signed-in home after a reload: ${shown} ms (until the test saw it)`);
	await page.locator(`${t('feed-item')}:has-text("summarizer")`).first().waitFor();

	// Offline and back: the banner, then the stream resumes (a run made meanwhile shows).
	await context.setOffline(true);
	await check('offline: the banner says so', async () => { await page.locator(t('offline-banner')).waitFor(); });
	await shoot('home-offline');
	await context.setOffline(false);
	await check('offline: the banner goes once back online', async () => {
		await page.locator(t('offline-banner')).waitFor({ state: 'detached' });
	});
	const run2 = await api('POST', '/api/v1/runs', { agent: 'writer', input: 'e2e: after the network came back' });
	await check('home: the feed goes on after the network came back', async () => {
		if (run2.status !== 202)
			throw new Error(`run status ${run2.status}`);
		await page.locator(`${t('feed-item')}:has-text("writer")`).first().waitFor({ timeout: 20000 });
	});

	// The pages later releases fill in, and signing out.
	for (const n of ['chat', 'inbox', 'kb', 'keys']) {
		await page.locator(t(`nav-${n}`)).click();
		await page.waitForFunction((h) => location.hash === h, `#/${n}`);
	}
	await check('a page not yet built says so', async () => { await page.getByText('not part of this release').waitFor(); });
	allowed = [['GET', '/api/v1/me', 401], ['HEAD', '/api/v1/auth/oidc/start', 404]];
	await page.locator(t('logout')).click();
	await check('sign out: back to the sign-in page', async () => { await page.locator(t('login-email')).waitFor(); });
	await page.reload();
	await check('sign out: the session is gone after a reload', async () => { await page.locator(t('login-email')).waitFor(); });

	// Static files: the app's own answers.
	const head = await page.request.get(`${base}/`);
	expect('static: index.html is not cached', /no-cache/.test(head.headers()['cache-control'] ?? ''),
		`cache-control ${head.headers()['cache-control']}`);
} catch (e) {
	fail('the run went to its end', e.message.split('\n')[0]);
} finally {
	expect('no console error, page error or unexpected failed answer', problems.length === 0, problems.join('; '));
	await browser.close();
}
process.exit(failed > 0 ? 1 : 0);
