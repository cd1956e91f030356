// glue.js: the browser side of Switchboard's app, which is C compiled to wasm
// (web/src).  It only moves bytes: it hands the app each input message (a DOM event,
// a fetch's answer, a stream's event, a timer, the route, online or offline) and
// applies the operations the app answers with (DOM changes, fetches, event streams,
// timers).  The byte format is web/src/wire.h's.  No framework, no inline script.
'use strict';
(() => {
	const OP = { ELEMENT: 1, TEXT: 2, ATTR: 3, UNATTR: 4, SETTEXT: 5, PROP: 6, INSERT: 7,
		REMOVE: 8, FOCUS: 9, FETCH: 10, SSE_OPEN: 11, SSE_CLOSE: 12, TIMER: 13,
		UNTIMER: 14, TITLE: 15, HASH: 16 };
	const IN = { START: 1, ROUTE: 2, EVENT: 3, FETCH: 4, SSE: 5, SSE_STATE: 6, TIMER: 7,
		ONLINE: 8, VISIBLE: 9 };
	const enc = new TextEncoder();
	const dec = new TextDecoder();
	const nodes = new Map();	// id -> DOM node; 1 is the mount point
	const streams = new Map();	// stream number -> EventSource
	const timers = new Map();	// timer number -> setTimeout handle
	let wasm = null;
	let busy = false;
	const queue = [];

	// An input message: kind, then numbers (u32) and strings (u32 length, UTF-8; a
	// Uint8Array goes as its bytes).
	function message(kind, ...fields) {
		const parts = [];
		let len = 1;
		for (const f of fields) {
			if (typeof f === 'number') {
				len += 4;
				parts.push(f);
			} else {
				const b = f instanceof Uint8Array ? f : enc.encode(f == null ? '' : String(f));
				len += 4 + b.length;
				parts.push(b);
			}
		}
		const out = new Uint8Array(len);
		const dv = new DataView(out.buffer);
		let o = 1;
		out[0] = kind;
		for (const p of parts) {
			if (typeof p === 'number') {
				dv.setUint32(o, p >>> 0, true);
				o += 4;
			} else {
				dv.setUint32(o, p.length, true);
				out.set(p, o + 4);
				o += 4 + p.length;
			}
		}
		return out;
	}

	// Hands one message to the app and applies what it answers; messages that arrive
	// while one is handled (a focus moved by an operation fires events) wait their turn.
	function send(kind, ...fields) {
		queue.push(message(kind, ...fields));
		if (busy || wasm === null)
			return;
		busy = true;
		try {
			while (queue.length > 0) {
				const msg = queue.shift();
				const at = wasm.sb_in(msg.length);
				new Uint8Array(wasm.memory.buffer, at, msg.length).set(msg);
				const n = wasm.sb_run(msg.length);
				apply(new Uint8Array(wasm.memory.buffer, wasm.sb_out(), n).slice());
			}
		} finally {
			busy = false;
		}
	}

	function forget(node) {
		if (node.sbId !== undefined)
			nodes.delete(node.sbId);
		for (const c of node.childNodes)
			forget(c);
	}

	function apply(ops) {
		const dv = new DataView(ops.buffer);
		let o = 0;
		const u32 = () => { const v = dv.getUint32(o, true); o += 4; return v; };
		const str = () => { const n = u32(); const s = dec.decode(ops.subarray(o, o + n)); o += n; return s; };
		const node = (id) => nodes.get(id);
		while (o < ops.length) {
			const op = ops[o++];
			switch (op) {
			case OP.ELEMENT: { const id = u32(); const el = document.createElement(str()); el.sbId = id; nodes.set(id, el); break; }
			case OP.TEXT: { const id = u32(); const t = document.createTextNode(str()); t.sbId = id; nodes.set(id, t); break; }
			case OP.ATTR: { const el = node(u32()); const name = str(); el.setAttribute(name, str()); break; }
			case OP.UNATTR: node(u32()).removeAttribute(str()); break;
			case OP.SETTEXT: { const t = node(u32()); t.data = str(); break; }
			case OP.PROP: {
				const el = node(u32());
				const name = str();
				const value = str();
				if (name === 'value') {
					if (el.value !== value)
						el.value = value;
				} else
					el[name] = value !== '';
				break;
			}
			case OP.INSERT: {
				const parent = node(u32());
				const child = node(u32());
				const before = u32();
				parent.insertBefore(child, before === 0 ? null : node(before));
				break;
			}
			case OP.REMOVE: { const n = node(u32()); forget(n); n.remove(); break; }
			case OP.FOCUS: { const n = node(u32()); if (n) n.focus(); break; }
			case OP.FETCH: doFetch(u32(), str(), str(), str(), str(), u32()); break;
			case OP.SSE_OPEN: openStream(u32(), str(), str()); break;
			case OP.SSE_CLOSE: { const n = u32(); const es = streams.get(n); if (es) es.close(); streams.delete(n); break; }
			case OP.TIMER: {
				const n = u32();
				const ms = u32();
				clearTimeout(timers.get(n));
				timers.set(n, setTimeout(() => { timers.delete(n); send(IN.TIMER, n); }, ms));
				break;
			}
			case OP.UNTIMER: { const n = u32(); clearTimeout(timers.get(n)); timers.delete(n); break; }
			case OP.TITLE: document.title = str(); break;
			case OP.HASH: { const h = str(); if (location.hash !== h) location.hash = h; break; }
			default: throw new Error(`unknown operation ${op} at ${o - 1}`);
			}
		}
	}

	function doFetch(req, method, url, body, csrf, flags) {
		const headers = {};
		if (body !== '')
			headers['Content-Type'] = 'application/json';
		if (csrf !== '')
			headers['X-CSRF-Token'] = csrf;
		fetch(url, {
			method, headers, body: body === '' ? undefined : body,
			credentials: 'same-origin', redirect: (flags & 1) ? 'manual' : 'follow',
		}).then(async (r) => {
			const status = r.type === 'opaqueredirect' ? 302 : r.status;
			send(IN.FETCH, req, status, method === 'HEAD' ? '' : await r.text());
		}, () => send(IN.FETCH, req, 0, ''));
	}

	function openStream(n, url, types) {
		const old = streams.get(n);
		if (old)
			old.close();
		const es = new EventSource(url, { withCredentials: true });
		streams.set(n, es);
		const mine = () => streams.get(n) === es;
		es.onopen = () => { if (mine()) send(IN.SSE_STATE, n, 1); };
		es.onerror = () => {
			if (!mine())
				return;
			// CLOSED: the browser gave up (an error status); the app decides what next.
			if (es.readyState === EventSource.CLOSED) {
				streams.delete(n);
				send(IN.SSE_STATE, n, 2);
			} else
				send(IN.SSE_STATE, n, 0);
		};
		for (const t of types.split(',').filter((t) => t !== ''))
			es.addEventListener(t, (e) => { if (mine()) send(IN.SSE, n, t, e.lastEventId, e.data); });
	}

	// Events: each forwarded from an element that names an action for its type
	// (data-click, data-input, data-change, data-submit), found by delegation.
	function forward(type, e) {
		const el = e.target instanceof Element ? e.target.closest(`[data-${type}]`) : null;
		if (el === null)
			return;
		const action = el.getAttribute(`data-${type}`);
		const fields = [];
		if (type === 'change' && el.type === 'file') {
			// The file's name, size and, up to the size the app names, its bytes.
			const f = el.files[0];
			if (!f) {
				send(IN.EVENT, type, action, '', 0);
				return;
			}
			const meta = ['name', f.name, 'size', String(f.size)];
			if (f.size > Number(el.dataset.max || 0)) {
				send(IN.EVENT, type, action, '', 2, ...meta);
				return;
			}
			f.arrayBuffer().then((b) => send(IN.EVENT, type, action, '', 3, ...meta, 'bytes', new Uint8Array(b)),
				() => send(IN.EVENT, type, action, '', 2, ...meta));
			return;
		}
		if (type === 'submit') {
			e.preventDefault();
			for (const c of el.elements)
				if (c.name)
					fields.push(c.name, c.value);
		}
		send(IN.EVENT, type, action, 'value' in el && type !== 'click' ? el.value : '',
			fields.length / 2, ...fields);
	}

	async function start() {
		const mount = document.getElementById('app');
		mount.textContent = '';
		nodes.set(1, mount);
		const src = (script || document.querySelector('script[data-wasm]')).dataset.wasm;
		// WASI: the C library writes to stderr (the console) when it must; nothing else
		// of the system is there.
		let mem = null;
		const wasi = new Proxy({
			fd_write(fd, iovs, n, written) {
				const dv = new DataView(mem.buffer);
				let text = '';
				let total = 0;
				for (let i = 0; i < n; i++) {
					const p = dv.getUint32(iovs + 8 * i, true);
					const l = dv.getUint32(iovs + 8 * i + 4, true);
					text += dec.decode(new Uint8Array(mem.buffer, p, l));
					total += l;
				}
				console.warn(text);
				dv.setUint32(written, total, true);
				return 0;
			},
			proc_exit(code) { throw new Error(`the app exited (${code})`); },
		}, { get: (t, name) => t[name] || (() => 52) });	// ENOSYS
		const imports = { wasi_snapshot_preview1: wasi };
		const res = fetch(src, { credentials: 'same-origin' });
		let inst;
		try {
			inst = (await WebAssembly.instantiateStreaming(res, imports)).instance;
		} catch (e) {
			// A server without application/wasm: compile from the bytes.
			inst = (await WebAssembly.instantiate(await (await fetch(src)).arrayBuffer(), imports)).instance;
		}
		wasm = inst.exports;
		mem = wasm.memory;
		wasm._initialize();
		addEventListener('hashchange', () => send(IN.ROUTE, location.hash));
		addEventListener('online', () => send(IN.ONLINE, 1));
		addEventListener('offline', () => send(IN.ONLINE, 0));
		for (const t of ['click', 'input', 'change', 'submit'])
			document.addEventListener(t, (e) => forward(t, e));
		send(IN.START, location.hash, navigator.onLine ? 1 : 0, typeof EventSource === 'function' ? 1 : 0);
		const visible = () => send(IN.VISIBLE, document.visibilityState === 'hidden' ? 0 : 1);
		document.addEventListener('visibilitychange', visible);
		if (document.visibilityState === 'hidden')
			visible();
	}

	const script = document.currentScript;
	const go = () => start().catch((e) => {
		const m = document.getElementById('app');
		m.textContent = `Switchboard could not start in this browser: ${e.message}`;
		console.error(e);
	});
	if (script && document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', go);
	else
		go();
})();
