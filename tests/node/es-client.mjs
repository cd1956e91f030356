// es-client.mjs: the eventsource package (what Node services use as EventSource) on one
// Switchboard stream, as a browser's EventSource behaves: it reconnects after every close
// with Last-Event-ID, and stops for good on a 204 or an error status.
// usage: node es-client.mjs URL TOKEN SECONDS
// Prints "opens N events N ids A,B,... state S" after SECONDS (state 2 is CLOSED).
import { EventSource } from 'eventsource';

const [url, token, seconds] = process.argv.slice(2);
let opens = 0;
const ids = [];
const es = new EventSource(url, {
	fetch: (input, init) => fetch(input, {
		...init, headers: { ...init.headers, Authorization: `Bearer ${token}` },
	}),
});
es.onopen = () => { opens++; };
es.onmessage = (e) => { ids.push(e.lastEventId); };
for (const type of ['run.started', 'message.delta', 'message.completed', 'run.succeeded',
	'run.failed', 'run.cancelled', 'agent.started', 'agent.thinking']) {
	es.addEventListener(type, (e) => { ids.push(e.lastEventId); });
}
setTimeout(() => {
	console.log(`opens ${opens} events ${ids.length} ids ${ids.join(',')} state ${es.readyState}`);
	es.close();
	process.exit(0);
}, Number(seconds) * 1000);
