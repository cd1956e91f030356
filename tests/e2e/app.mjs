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
const axe = (name) => axeOn(page, name);
async function axeOn(page, name) {
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
const shoot = (name) => shootOn(page, name);
async function shootOn(page, name) {
	await page.screenshot({ path: `${shots}/${name}-1440.png`, fullPage: true });
	await page.setViewportSize({ width: 375, height: 800 });
	await page.waitForTimeout(100);
	const wide = await page.evaluate(() => document.documentElement.scrollWidth);
	expect(`${name}: fits 375 px without scrolling sideways`, wide <= 375, `the page is ${wide} px wide`);
	await page.screenshot({ path: `${shots}/${name}-375.png`, fullPage: true });
	await page.setViewportSize({ width: 1440, height: 900 });
}

const t = (id) => `[data-test="${id}"]`;
// Signs in on a page of another browser context, landing at hash.
async function signIn(p, hash) {
	await p.goto(`${base}/${hash}`);
	await p.locator(t('login-email')).fill(email);
	await p.locator(t('login-password')).fill(password);
	await p.locator(t('login-submit')).click();
	await p.waitForFunction((h) => location.hash === h, hash);
}
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

	// Chat: agents of the mock provider (tests/mock/llm.c): one that talks at a pace
	// the test can watch, one that asks a person through the ask_human tool.
	for (const [slug, body] of [
		['e2e-talker', { name: 'E2E talker', provider: 'openai', model: 'mock,pace=8,tokens=40', tools: [] }],
		['e2e-asker', { name: 'E2E asker', provider: 'openai', model: 'mock,tool=ask_human,arg=question,pace=20',
			tools: ['ask_human'] }]]) {
		const r = await api('PUT', `/api/v1/agents/${slug}`, body);
		expect(`chat: the agent ${slug} is made`, r.status === 201 || r.status === 200, `status ${r.status}`);
	}
	await page.goto(`${base}/#/agents?q=e2e-talker`);
	await page.locator(`${t('agent-card')}[data-slug="e2e-talker"]`).waitFor();
	await page.locator(`${t('agent-card')}[data-slug="e2e-talker"] ${t('agent-try')}`).click();
	await check('chat: "Try it" opens a new thread with the agent', async () => {
		await page.waitForFunction(() => /^#\/chat\/[0-9a-f-]{36}$/.test(location.hash));
		await page.locator(t('chat-input')).waitFor();
	});
	const talkerThread = await page.evaluate(() => location.hash);
	const assistantText = () => page.locator(`${t('message')}[data-role="assistant"]`).last().textContent();
	const runOf = async () => (await page.locator('.turn a[href^="#/runs/"]').last().getAttribute('href')).slice(7);
	await page.locator(t('chat-input')).fill('alpha beta gamma delta');
	await page.locator(t('chat-send')).click();
	await check('chat: the message shows as the user\'s', async () => {
		await page.locator(`${t('message')}[data-role="user"]`).filter({ hasText: 'alpha beta gamma delta' }).waitFor();
	});
	const seen = new Set();
	await check('chat: the answer streams token by token', async () => {
		for (let i = 0; i < 60 && seen.size < 3; i++) {
			const n = await page.locator(`${t('message')}[data-role="assistant"]`).count();
			if (n > 0)
				seen.add(await assistantText());
			await page.waitForTimeout(100);
		}
		if (seen.size < 3)
			throw new Error(`saw ${seen.size} different texts`);
	});
	// Offline mid-stream, then back: the text is exactly the run's once it has ended.
	await context.setOffline(true);
	await page.waitForTimeout(1500);
	await context.setOffline(false);
	await check('chat: after the network came back the run ends, with its state shown', async () => {
		await page.locator(`${t('run-state')}[data-state="succeeded"]`).last().waitFor({ timeout: 30000 });
	});
	const talkerRun = await runOf();
	const talked = await api('GET', `/api/v1/runs/${talkerRun}`);
	const shownText = await assistantText();
	expect('chat: after going offline mid-stream the text is exactly the run\'s answer, no token twice or missing',
		talked.body?.output?.text && shownText === talked.body.output.text,
		`shown [${shownText}], the run's [${talked.body?.output?.text}]`);
	await axe('chat');
	await shoot('chat');

	// The run's page: its timeline.
	await page.locator('.turn a[href^="#/runs/"]').last().click();
	await check('run detail: the timeline and the state', async () => {
		await page.locator(`${t('timeline-event')}[data-type="run.succeeded"]`).waitFor();
		await page.locator(`${t('run-state')}[data-state="succeeded"]`).waitFor();
	});
	await axe('run detail');
	await shoot('run');

	// A question for a person: a tool card, answered from the inbox in a second
	// browser context, and the chat goes on.
	await page.locator(t('nav-chat')).click();
	await page.locator(t('chat-agent')).selectOption('e2e-asker');
	await page.locator(t('chat-new')).click();
	await page.waitForFunction((h) => /^#\/chat\/[0-9a-f-]{36}$/.test(location.hash) && location.hash !== h, talkerThread);
	await page.locator(t('chat-input')).fill('Which colour should the button be');
	await page.locator(t('chat-send')).click();
	await check('chat: a tool call shows as a card', async () => {
		await page.locator(`${t('tool-card')}[data-tool="ask_human"]`).waitFor({ timeout: 20000 });
	});
	await check('chat: the question for a person shows, with a link to the inbox', async () => {
		await page.locator(t('human-request')).filter({ hasText: 'Which colour should the button be' }).waitFor();
		await page.locator(t('inbox-link')).waitFor();
		await page.locator(`${t('run-state')}[data-state="waiting"]`).waitFor();
	});
	const other = await browser.newContext({ viewport: { width: 1440, height: 900 } });
	const page2 = await other.newPage();
	page2.setDefaultTimeout(10000);
	page2.on('pageerror', (e) => problems.push(`page error (second context): ${e.message}`));
	await signIn(page2, '#/inbox');
	await check('inbox: the question waits in the other browser', async () => {
		await page2.locator(t('inbox-item')).filter({ hasText: 'Which colour should the button be' }).waitFor();
	});
	await axeOn(page2, 'inbox');
	await page2.screenshot({ path: `${shots}/inbox-1440.png`, fullPage: true });
	const item = page2.locator(t('inbox-item')).filter({ hasText: 'Which colour should the button be' });
	await item.locator(t('inbox-answer')).fill('Teal like the sea');
	await item.locator(t('inbox-send')).click();
	await check('inbox: the answer is taken', async () => { await page2.getByText('Answered. The run goes on.').waitFor(); });
	await check('chat: the answer shows in the chat and the run goes on to its end', async () => {
		await page.locator(t('human-answer')).filter({ hasText: 'Teal like the sea' }).waitFor({ timeout: 20000 });
		await page.locator(`${t('run-state')}[data-state="succeeded"]`).last().waitFor({ timeout: 30000 });
		const text = await assistantText();
		if (!/Teal like the sea/.test(text))
			throw new Error(`the answer is [${text}]`);
	});
	await page2.goto(`${base}/#/inbox?state=all`);
	await check('inbox: an answered item says who answered', async () => {
		await page2.locator(t('inbox-answered')).filter({ hasText: 'Teal like the sea' }).first().waitFor();
	});
	await shootOn(page2, 'inbox-all');
	await other.close();

	// API keys: made (the secret shown once) and revoked; the audit log has both.
	await page.locator(t('nav-keys')).click();
	await page.locator(t('key-name')).waitFor();
	await page.locator(t('key-name')).fill('e2e key');
	await page.locator(t('scope-runs:read')).check();
	await page.locator(t('key-create')).click();
	let keyId = '';
	await check('keys: a new key\'s secret is shown', async () => {
		const secret = await page.locator(t('key-secret')).textContent({ timeout: 10000 });
		if (!/^sb_[a-z0-9]{12}_/.test(secret))
			throw new Error(`secret [${secret}]`);
		keyId = secret.slice(3, 15);
		await page.locator(`${t('key-row')}[data-id="${keyId}"][data-state="active"]`).waitFor();
	});
	await axe('keys');
	await shoot('keys');
	await page.locator(`${t('key-row')}[data-id="${keyId}"] ${t('key-revoke')}`).click();
	await check('keys: the key is revoked', async () => {
		await page.locator(`${t('key-row')}[data-id="${keyId}"][data-state="revoked"]`).waitFor();
		const keys = await api('GET', '/api/v1/keys');
		if (!keys.body.items.find((k) => k.id === keyId)?.revoked_at)
			throw new Error('the API does not say so');
	});
	await page.locator(t('nav-audit')).click();
	await check('audit: the key made and revoked are in the log', async () => {
		await page.locator(t('audit-entry')).filter({ hasText: 'key.revoked' }).first().waitFor();
		await page.locator(t('audit-entry')).filter({ hasText: 'key.created' }).first().waitFor();
	});
	await axe('audit');
	await shoot('audit');

	// Knowledge base: a file chosen, its bytes sent, listed, deleted.
	await page.locator(t('nav-kb')).click();
	await page.locator(t('kb-file')).setInputFiles({ name: 'e2e-notes.md', mimeType: 'text/markdown',
		buffer: Buffer.from('# E2E notes\n\nThe button is teal.\n') });
	await check('knowledge: the file\'s name becomes the title', async () => {
		await page.waitForFunction(() => document.querySelector('[data-test="kb-title"]')?.value === 'e2e-notes');
	});
	await page.locator(t('kb-add')).click();
	await check('knowledge: the document is added and listed', async () => {
		await page.locator(t('kb-doc')).filter({ hasText: 'e2e-notes' }).waitFor();
	});
	await axe('knowledge');
	await shoot('kb');
	await page.locator(t('kb-doc')).filter({ hasText: 'e2e-notes' }).locator(t('kb-delete')).click();
	await check('knowledge: the document is deleted', async () => {
		await page.locator(t('kb-doc')).filter({ hasText: 'e2e-notes' }).waitFor({ state: 'detached' });
	});

	// Without EventSource: the chat follows the run by the long poll.
	const nosse = await browser.newContext({ viewport: { width: 1440, height: 900 } });
	await nosse.addInitScript(() => { delete window.EventSource; });
	const page3 = await nosse.newPage();
	page3.setDefaultTimeout(10000);
	page3.on('pageerror', (e) => problems.push(`page error (no EventSource): ${e.message}`));
	page3.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console (no EventSource): ${m.text()}`); });
	await signIn(page3, talkerThread);
	await check('long poll: the chat says it follows by polling', async () => {
		await page3.locator('.conversation').filter({ hasText: 'following by polling' }).waitFor();
		await page3.locator(`${t('message')}[data-role="user"]`).filter({ hasText: 'alpha beta gamma delta' }).waitFor();
	});
	await page3.locator(t('chat-input')).fill('epsilon zeta');
	await page3.locator(t('chat-send')).click();
	const polled = new Set();
	await check('long poll: the answer streams and ends', async () => {
		for (let i = 0; i < 80; i++) {
			const last = page3.locator(`${t('message')}[data-role="assistant"]`).last();
			if (await page3.locator('.turn').count() >= 2)
				polled.add(await last.textContent());
			if (await page3.locator(`${t('run-state')}[data-state="succeeded"]`).count() >= 2)
				break;
			await page3.waitForTimeout(100);
		}
		await page3.locator(`${t('run-state')}[data-state="succeeded"]`).nth(1).waitFor({ timeout: 30000 });
		if (polled.size < 2)
			throw new Error(`saw ${polled.size} different texts`);
	});
	const pollRun = (await page3.locator('.turn a[href^="#/runs/"]').last().getAttribute('href')).slice(7);
	const pr = await api('GET', `/api/v1/runs/${pollRun}`);
	const pollText = await page3.locator(`${t('message')}[data-role="assistant"]`).last().textContent();
	expect('long poll: the text is exactly the run\'s answer', pr.body?.output?.text && pollText === pr.body.output.text,
		`shown [${pollText}], the run's [${pr.body?.output?.text}]`);
	await nosse.close();

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
