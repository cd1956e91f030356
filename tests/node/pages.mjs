// pages.mjs: a small web server on 127.0.0.1 for the tests and the benchmark of the
// http_fetch tool: pages to read, slow answers, redirects, and counters that tell how
// many times a URL was fetched (a tool call that runs twice shows here).
//
// usage: node pages.mjs PORT
//   GET  /page              an HTML page (title, script, style, paragraphs, entities)
//   GET  /text              text/plain
//   GET  /json              application/json
//   GET  /big               300 KB of text/plain
//   GET  /binary            application/octet-stream
//   GET  /slow?ms=N         text after N ms (at most 60000)
//   ANY  /count/NAME?ms=N   counts the request under NAME, answers after N ms (0)
//   GET  /hits/NAME         how many requests /count/NAME had: "N"
//   GET  /redirect?to=URL   302 to URL;  /redirect307?to=URL: 307
//   POST /echo              the request body back, with its content type
//   ANY  /crm/KIND/...      a configured tool's service (t_httptools.sh): the request is
//                           kept under KIND; a JSON answer, or ?status=N's status
//   GET  /seen/KIND         the last /crm/KIND request: {n, method, url (as sent),
//                           authorization, client, type, body}, or {} if none
//   other                   404
// SIGTERM or SIGINT: exit 0.

import http from 'node:http';

const port = Number(process.argv[2]);
const hits = new Map();
const seen = new Map();

const page = `<!DOCTYPE html>
<html><head><title>Opening hours</title>
<style>body { color: red }</style>
<script>var secret = "SCRIPT-TEXT";</script></head>
<body><nav>Home | About</nav>
<h1>Opening hours</h1>
<p>The library opens at 9&nbsp;am &amp; closes at 5&nbsp;pm.</p>
<p>On Sundays it is closed &mdash; except in December.</p>
</body></html>`;

function send(res, status, type, body, headers = {}) {
	res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
	res.end(body);
}

const server = http.createServer((req, res) => {
	const url = new URL(req.url, 'http://127.0.0.1');
	const ms = Math.min(Number(url.searchParams.get('ms') || 0), 60000);
	const parts = url.pathname.split('/');
	let body = '';
	req.on('data', (c) => { body += c; });
	req.on('end', () => {
		if (url.pathname === '/page')
			return send(res, 200, 'text/html; charset=utf-8', page);
		if (url.pathname === '/text')
			return send(res, 200, 'text/plain; charset=utf-8', 'plain words here');
		if (url.pathname === '/json')
			return send(res, 200, 'application/json', '{"temperature": 21, "unit": "C"}');
		if (url.pathname === '/big')
			return send(res, 200, 'text/plain', 'lorem ipsum '.repeat(25000));
		if (url.pathname === '/binary')
			return send(res, 200, 'application/octet-stream', '\u0001\u0002binary');
		if (url.pathname === '/slow')
			return setTimeout(() => send(res, 200, 'text/plain', `slow answer after ${ms} ms`), ms);
		if (parts[1] === 'count' && parts[2]) {
			hits.set(parts[2], (hits.get(parts[2]) || 0) + 1);
			return setTimeout(() => send(res, 200, 'text/plain',
				`counted ${parts[2]} ${req.method}`), ms);
		}
		if (parts[1] === 'hits' && parts[2])
			return send(res, 200, 'text/plain', String(hits.get(parts[2]) || 0));
		if (url.pathname === '/redirect' || url.pathname === '/redirect307')
			return send(res, url.pathname === '/redirect' ? 302 : 307, 'text/plain', 'moved',
				{ Location: url.searchParams.get('to') || '/' });
		if (parts[1] === 'crm' && parts[2]) {
			const n = (seen.get(parts[2])?.n || 0) + 1;
			seen.set(parts[2], { n, method: req.method, url: req.url,
				authorization: req.headers.authorization || null,
				client: req.headers['x-client'] || null,
				type: req.headers['content-type'] || null, body });
			const status = Number(url.searchParams.get('status') || 200);
			return send(res, status, 'application/json', status < 400 ?
				'{"name": "Ada Lovelace", "plan": "gold"}' : '{"error": "no such customer"}');
		}
		if (parts[1] === 'seen' && parts[2])
			return send(res, 200, 'application/json', JSON.stringify(seen.get(parts[2]) || {}));
		if (url.pathname === '/echo' && req.method === 'POST')
			return send(res, 200, 'text/plain', `echo (${req.headers['content-type']}): ${body}`);
		send(res, 404, 'text/plain', 'not found');
	});
});
server.keepAliveTimeout = 1000;
server.listen(port, '127.0.0.1');
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => process.exit(0));
