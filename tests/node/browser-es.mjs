// browser-es.mjs: Chromium's own EventSource on one Switchboard stream, signed in with a
// session cookie as a browser page is: it reconnects after every close with
// Last-Event-ID, and stops for good on a 204 or an error status.
// usage: node browser-es.mjs BASE_URL EMAIL PASSWORD STREAM_PATH SECONDS
// Prints "opens N events N state S" (state 2 is CLOSED).
import { chromium } from 'playwright-core';

const [base, email, password, path, seconds] = process.argv.slice(2);
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--no-first-run'],
});
try {
	const page = await browser.newPage();
	await page.goto(`${base}/`);
	const out = await page.evaluate(async ({ email, password, path, seconds }) => {
		const login = await fetch('/api/v1/auth/login', {
			method: 'POST', headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ email, password }),
		});
		if (login.status !== 200)
			return `login ${login.status}`;
		let opens = 0, events = 0;
		const es = new EventSource(path);
		es.onopen = () => { opens++; };
		for (const t of ['run.started', 'message.delta', 'run.succeeded', 'run.failed',
			'run.cancelled', 'message.completed'])
			es.addEventListener(t, () => { events++; });
		await new Promise((r) => setTimeout(r, seconds * 1000));
		const state = es.readyState;
		es.close();
		return `opens ${opens} events ${events} state ${state}`;
	}, { email, password, path, seconds: Number(seconds) });
	console.log(out);
} finally {
	await browser.close();
}
