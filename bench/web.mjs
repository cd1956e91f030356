// web.mjs: bench/web's browser half, in Debian's Chromium driven by playwright-core.
// usage: CHATS=10 DURATION=600 LOADS=10 node web.mjs BASE_URL EMAIL PASSWORD FIGURES_JSON
// Prints "# " lines as it goes and writes the figures bench/web sums up.
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';

const require = createRequire(new URL('../tests/node/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const [base, email, password, out] = process.argv.slice(2);
const CHATS = Number(process.env.CHATS || 10);
const DURATION = Number(process.env.DURATION || 600);
const LOADS = Number(process.env.LOADS || 10);
const TURNS_A_THREAD = 5;	// then a new thread, as a person with a new question
const t = (name) => `[data-test="${name}"]`;
const say = (s) => console.log(`# ${s}`);
const pct = (a, q) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };
const r1 = (x) => Math.round(x * 10) / 10;

// In every page before its own script: the long tasks, the frame after the feed's first
// item is in the DOM, and when the first server-sent event of any stream arrived.
function instrument() {
	window.__long = [];
	new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
		.observe({ type: 'longtask', buffered: true });
	const seen = new MutationObserver(() => {
		if (window.__feedAt === undefined && document.querySelector('[data-test="feed-item"]')) {
			window.__feedAt = null;
			requestAnimationFrame(() => { window.__feedAt = performance.now(); });
			seen.disconnect();
		}
	});
	document.addEventListener('DOMContentLoaded', () => seen.observe(document.body, { childList: true, subtree: true }));
	const ES = window.EventSource;
	if (ES) {
		const Wrapped = function (url, opts) {
			const es = new ES(url, opts);
			const add = es.addEventListener.bind(es);
			es.addEventListener = (type, fn, o) => add(type, (e) => {
				if (window.__eventAt === undefined)
					window.__eventAt = performance.now();
				return fn(e);
			}, o);
			return es;
		};
		Wrapped.prototype = ES.prototype;
		Object.assign(Wrapped, { CONNECTING: 0, OPEN: 1, CLOSED: 2 });
		window.EventSource = Wrapped;
	}
}

const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--no-first-run'],
});
// One sign-in (the API limits them), its cookie given to every context.
let session = null;
async function signedIn() {
	const context = await browser.newContext({ viewport: { width: 1440, height: 900 },
		storageState: session ?? undefined });
	await context.addInitScript(instrument);
	if (session === null) {
		const r = await context.request.post(`${base}/api/v1/auth/login`, { data: { email, password } });
		if (r.status() !== 200)
			throw new Error(`sign in: ${r.status()} ${await r.text()}`);
		session = await context.storageState();
	}
	return context;
}

// ---------------------------------------------------------------- first render of home

const renders = [], networks = [];
let cold = null;
let warm = null;
for (let i = 0; i < LOADS; i++) {
	const context = i === 0 ? await signedIn() : (warm ??= await signedIn());
	const page = await context.newPage();
	await page.goto(`${base}/#/`);
	await page.waitForFunction(() => typeof window.__feedAt === 'number' && window.__eventAt !== undefined,
		null, { timeout: 20000 });
	const f = await page.evaluate(() => {
		const need = /\/(glue\.[0-9a-f]+\.js|app\.[0-9a-f]+\.(wasm|css)|api\/v1\/me)$/;
		const got = performance.getEntriesByType('resource').filter((e) => need.test(new URL(e.name).pathname));
		const nav = performance.getEntriesByType('navigation')[0];
		const ends = got.map((e) => e.responseEnd);
		const ms = (x) => Math.round(x);
		return { render: window.__feedAt, network: Math.max(nav.responseEnd, window.__eventAt, ...ends),
			resources: ends.length,
			steps: [`index.html ${ms(nav.responseEnd)}`, ...got.map((e) =>
				`${new URL(e.name).pathname.replace(/.*\//, '')} ${ms(e.startTime)}-${ms(e.responseEnd)}`),
				`first event ${ms(window.__eventAt)}`, `the frame with the feed ${ms(window.__feedAt)}`].join(', ') };
	});
	say(`load ${i}: ${f.steps} ms`);
	if (f.resources < 4)
		throw new Error(`load ${i}: ${f.resources} of the 4 resources timed`);
	if (i === LOADS - 1) {
		// The same open by the browser alone, on the loaded page: five times.
		const alone = [];
		for (let k = 0; k < 5; k++)
			alone.push(await page.evaluate(() => new Promise((resolve) => {
				const t0 = performance.now();
				const es = new EventSource('/api/v1/stream?after=0');
				es.addEventListener('feed.ready', () => { es.close(); resolve(performance.now() - t0); });
			})));
		say(`the feed's open by the browser alone (new EventSource to feed.ready): ${alone.map((x) => r1(x)).join(' ')} ms`);
	}
	renders.push(f.render);
	networks.push(f.network);
	if (i === 0)
		cold = f.render;
	await page.close();
	if (i === 0)
		await context.close();
}
say(`first render of home: ${renders.map((x) => Math.round(x)).join(' ')} ms; its network: ${networks.map((x) => Math.round(x)).join(' ')} ms`);

// The feed's open alone, outside the browser: the request to its feed.ready.
const cookie = session.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
const feedOpen = [];
for (let i = 0; i < 5; i++) {
	feedOpen.push(await new Promise((resolve, reject) => {
		const t0 = performance.now();
		const req = http.get(`${base}/api/v1/stream?after=0`, { headers: { Cookie: cookie, Accept: 'text/event-stream' } },
			(res) => {
				let got = '';
				res.on('data', (b) => {
					got += b;
					if (got.includes('event: feed.ready')) {
						resolve(performance.now() - t0);
						req.destroy();
					}
				});
			});
		req.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
		setTimeout(() => { req.destroy(); resolve(Infinity); }, 5000);
	}));
}
say(`the feed's open alone (request to feed.ready, outside the browser): ${feedOpen.map((x) => r1(x)).join(' ')} ms`);

// ---------------------------------------------------------------- chats

// Each chat in a browser context of its own: over HTTP/1.1 a browser holds at most six
// connections to a host for all its tabs, and every chat holds one open for its
// stream, so ten tabs of one context would wait for each other (docs/web.md).
const pages = [];
const refused = [];	// answers over 399 and page errors, which no step expects
for (let i = 0; i < CHATS; i++) {
	const context = await signedIn();
	const page = await context.newPage();
	page.setDefaultTimeout(60000);
	page.on('response', (r) => {
		if (r.status() >= 400 && refused.length < 20)
			refused.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
	});
	page.on('pageerror', (e) => { if (refused.length < 20) refused.push(`page error: ${e.message}`); });
	const cdp = await context.newCDPSession(page);
	await cdp.send('Performance.enable');
	pages.push({ page, cdp, answers: 0, chars: 0, wrong: 0 });
}
const api = async (p, path) => (await p.page.context().request.get(`${base}${path}`)).json();

async function newThread(p) {
	const before = await p.page.evaluate(() => location.hash);
	await p.page.locator(t('chat-agent')).selectOption('summarizer');
	await p.page.locator(t('chat-new')).click();
	await p.page.waitForFunction((h) => /^#\/chat\/[0-9a-f-]{36}$/.test(location.hash) && location.hash !== h, before);
}

const terminal = ['succeeded', 'failed', 'cancelled'];
async function chat(p, i, until) {
	await p.page.goto(`${base}/#/chat`);
	await p.page.locator(t('chat-agent')).waitFor();
	// The long tasks counted are the chat's, not the page's start (the wasm compiled).
	await p.page.evaluate(() => { window.__long = []; });
	let turns = 0;
	while (Date.now() < until) {
		if (turns % TURNS_A_THREAD === 0)
			await newThread(p);
		const n = await p.page.locator(t('run-state')).count();
		await p.page.locator(t('chat-input')).fill(`Chat ${i}, question ${p.answers}: summarize the state of the garden, the weather and the week ahead in a few sentences.`);
		await p.page.locator(t('chat-send')).click();
		await p.page.waitForFunction(([n, terminal]) => {
			const s = document.querySelectorAll('[data-test="run-state"]');
			return s.length > n && terminal.includes(s[s.length - 1].dataset.state);
		}, [n, terminal], { timeout: 120000, polling: 200 });
		turns++;
		const shown = await p.page.locator(`${t('message')}[data-role="assistant"]`).last().textContent();
		const href = await p.page.locator('.turn a[href^="#/runs/"]').last().getAttribute('href');
		const run = await api(p, `/api/v1/runs/${href.slice(7)}`);
		if (run.state !== 'succeeded' || shown !== run.output?.text)
			p.wrong++;
		p.answers++;
		p.chars += shown.length;
	}
}

// Memory: each page's JS heap and DOM nodes, and the proportional set size of the
// browser's processes (this process's descendants), every 10 s.
function browserPss() {
	const parent = new Map();
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d))
			continue;
		try {
			const st = readFileSync(`/proc/${d}/stat`, 'utf8');
			parent.set(Number(d), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
		} catch { /* gone */ }
	}
	let kb = 0;
	for (const [pid] of parent) {
		let q = parent.get(pid), mine = false;
		for (let k = 0; k < 64 && q > 1; k++, q = parent.get(q))
			if (q === process.pid) { mine = true; break; }
		if (!mine)
			continue;
		try {
			const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
			kb += m ? Number(m[1]) : 0;
		} catch { /* gone */ }
	}
	return kb / 1024;
}
const samples = [];
async function sample(at) {
	let heap = 0, nodes = 0;
	for (const p of pages) {
		const { metrics } = await p.cdp.send('Performance.getMetrics');
		const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
		heap += m.JSHeapUsedSize / 1048576;
		nodes += m.Nodes;
	}
	samples.push({ at, heap, nodes, pss: browserPss() });
}

const start = Date.now();
const until = start + DURATION * 1000;
const ticker = setInterval(() => { sample((Date.now() - start) / 1000).catch(() => {}); }, 10000);
try {
	await Promise.all(pages.map((p, i) => chat(p, i, until)));
} catch (e) {
	say(`the chats stopped: ${e.message.split('\n')[0]}`);
	for (const [i, p] of pages.entries()) {
		say(`  chat ${i}: at ${await p.page.evaluate(() => location.hash)}, ${p.answers} answers`);
		await p.page.screenshot({ path: `${out}.chat-${i}.png` }).catch(() => {});
	}
	for (const r of refused)
		say(`  ${r}`);
	throw e;
}
clearInterval(ticker);
await sample((Date.now() - start) / 1000);
const elapsed = (Date.now() - start) / 1000;

const longs = [];
for (const p of pages)
	longs.push(...await p.page.evaluate(() => window.__long));
say(`long tasks over 50 ms: ${longs.filter((d) => d > 50).sort((a, b) => b - a).slice(0, 10).map(Math.round).join(' ')} ms`);
const answers = pages.reduce((a, p) => a + p.answers, 0);
const chars = pages.reduce((a, p) => a + p.chars, 0);
const wrong = pages.reduce((a, p) => a + p.wrong, 0);
say(`chats: ${answers} answers in ${Math.round(elapsed)} s, ${wrong} not exactly the run's output`);

// Flat: the last minute's average against the second minute's (the first is warming up).
const avg = (a, k) => a.reduce((s, x) => s + x[k], 0) / Math.max(1, a.length);
const second = samples.filter((s) => s.at >= 60 && s.at < 120);
const early = second.length > 0 ? second : samples.slice(0, Math.max(1, samples.length >> 2));
const late = samples.filter((s) => s.at >= elapsed - 60);
const growth = (k) => r1(100 * (avg(late, k) - avg(early, k)) / avg(early, k));
for (const s of samples)
	say(`memory at ${Math.round(s.at)} s: JS heap ${r1(s.heap)} MiB, DOM nodes ${s.nodes}, browser PSS ${r1(s.pss)} MiB`);
say(`answers over 399 and page errors: ${refused.length}${refused.length ? ': ' + refused.join('; ') : ''}`);
const figures = {
	render: { p50: r1(pct(renders, 0.5)), max: r1(Math.max(...renders)), cold: r1(cold) },
	network: { p50: r1(pct(networks, 0.5)), feed_open: r1(pct(feedOpen, 0.5)) },
	chats: { runs: answers, wrong, tokens: chars, rate: r1(chars / elapsed), refused: refused.length },
	longtasks: { count: longs.length, max: longs.length ? r1(Math.max(...longs)) : 0 },
	memory: {
		heap_first: r1(avg(early, 'heap')), heap_last: r1(avg(late, 'heap')), heap_growth: growth('heap'),
		nodes_first: Math.round(avg(early, 'nodes')), nodes_last: Math.round(avg(late, 'nodes')),
		rss_first: r1(avg(early, 'pss')), rss_last: r1(avg(late, 'pss')), rss_growth: growth('pss'),
	},
};
figures.memory.verdict = Math.abs(figures.memory.heap_growth) <= 10 && figures.memory.rss_growth <= 10 ?
	'flat' : 'NOT flat';
if (wrong > 0)
	figures.memory.verdict += `; ${wrong} answers shown differently from the run's output`;
writeFileSync(out, JSON.stringify(figures, null, 1));
await browser.close();
