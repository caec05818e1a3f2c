// The demo page: the bundled chat over the browser client. The session
// ticket is kept in sessionStorage, so a reload reclaims the session.
import { connectBrowser } from '/tjstp-client.js';

const ROOM = 'lobby';
const $ = (id) => document.getElementById(id);
const shown = { drops: 0, pending: 0 };
/** Messages by id: a replayed event and the history may both carry one. */
const seen = new Set();

// "drop connection" closes the real WebSocket under the client (the W3C
// API cannot cut a connection harder); "go offline" also refuses new ones
// until pressed again, so what is said meanwhile waits and goes after the
// resume.
const sockets = new Set();
let offline = false;
class DemoWebSocket extends WebSocket {
  constructor(url, protocols) {
    if (offline) throw new Error('demo: offline');
    super(url, protocols);
    sockets.add(this);
    this.addEventListener('close', () => sockets.delete(this));
  }
}
const drop = () => {
  for (const socket of sockets) socket.close(4000, 'demo: connection dropped');
};

const line = (className, from, text) => {
  const item = document.createElement('li');
  item.className = className;
  if (from) {
    const who = document.createElement('span');
    who.className = 'from';
    who.textContent = from;
    item.append(who);
  }
  item.append(text);
  const log = $('log');
  log.append(item);
  log.scrollTop = log.scrollHeight;
  return item;
};

const showMessage = (message) => {
  if (seen.has(message.id)) return;
  seen.add(message.id);
  line('message', message.from, message.text);
};

const onEvent = ({ iface, name, args: [data] }) => {
  if (iface !== 'rooms' || data?.room !== ROOM) return;
  if (name === 'message') showMessage(data);
  else if (name === 'joined') line('notice', '', `${data.who} joined`);
  else if (name === 'left') line('notice', '', `${data.who} left`);
};

const setPending = (delta) => {
  shown.pending += delta;
  $('pending').textContent = String(shown.pending);
};

/** A call that may be made offline: shown pending until answered. */
const track = async (promise) => {
  setPending(1);
  try {
    return await promise;
  } catch (error) {
    $('error').textContent = `${error.name}: ${error.message}`;
    return undefined;
  } finally {
    setPending(-1);
  }
};

const main = async () => {
  const config = await (await fetch('/config.json')).json();
  if (!config.url) throw new Error('The server has no WebSocket listener for this page');
  const client = await connectBrowser(config.url, {
    app: config.app,
    persist: true,
    WebSocket: DemoWebSocket,
    heartbeatInterval: 5000,
    onEvent,
  });
  const state = (value) => {
    $('state').textContent = value;
    $('state').className = value;
  };
  state(client.state);
  $('session').textContent = client.session?.id.slice(0, 8) ?? '–';
  client.on('state', state);
  client.on('disconnect', () => {
    shown.drops++;
    $('drops').textContent = String(shown.drops);
  });
  client.on('ready', ({ resumed, replayed, peerReplayed }) => {
    const server = peerReplayed === undefined ? '' : `, server replayed ${peerReplayed}`;
    $('ready').textContent = `${resumed ? 'resumed' : 'new session'}: replayed ${replayed}${server}`;
    $('session').textContent = client.session?.id.slice(0, 8) ?? '–';
  });
  client.on('sessionLost', (error) => line('notice', '', `session lost (${error.reason}): a new one starts`));
  client.on('error', (error) => {
    $('error').textContent = String(error);
  });
  // The first ready came before connectBrowser resolved: tell a reclaim by
  // the session id this tab noted (the page's own note, beside the ticket).
  const note = () => sessionStorage.setItem('demo:session', client.session?.id ?? '');
  const before = sessionStorage.getItem('demo:session');
  $('ready').textContent = before && before === client.session?.id ? 'reclaimed after a reload' : 'new session';
  note();
  client.on('ready', note);
  client.on('rotated', note);

  const history = await track(client.call('rooms', 'join', ROOM));
  for (const message of history ?? []) showMessage(message);

  $('say').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value.trim();
    if (!text) return;
    $('text').value = '';
    // Said offline, it is queued and sent once, after the resume.
    const echo = line('pending', 'me', text);
    void track(client.call('rooms', 'say', ROOM, text)).then(() => echo.remove());
  });
  $('rename').addEventListener('click', () => {
    const name = $('name').value.trim();
    if (name) void track(client.call('profile', 'rename', name));
  });
  $('drop').addEventListener('click', drop);
  $('offline').addEventListener('click', (event) => {
    offline = !offline;
    event.target.textContent = offline ? 'go online' : 'go offline';
    event.target.setAttribute('aria-pressed', String(offline));
    if (offline) drop();
    // As the client does on the page's 'online' event: the backoff wait ends.
    // Not waiting (false) means connected or already trying: nothing to hurry.
    else client.reconnectNow();
  });
};

main().catch((error) => {
  $('state').textContent = 'failed';
  $('error').textContent = `${error.name}: ${error.message}`;
});
