// The room page's player, inlined by pages.rs after `const START` and `const END`; no build step.
//
// The master <audio id="player"> is the transport: play, pause, seek and the highlight always
// follow its clock. With a speaker soloed or muted, the master goes quiet (it is routed through a
// GainNode) and each speaker's own track, decoded whole with Web Audio, plays from the same
// moment; the tracks all start at room time 0, so one offset lines them up. When a track cannot
// be had, the master keeps playing and a note says why.

const player = document.getElementById('player');
const deck = document.getElementById('deck');
const DURATION = parseFloat(deck.dataset.duration) || 0;
const transcript = document.getElementById('transcript');
const spans = Array.from(transcript.querySelectorAll('.w'))
  .map(el => ({ el, s: parseFloat(el.dataset.s), e: parseFloat(el.dataset.e) }));
const segs = Array.from(transcript.querySelectorAll('.seg'));
const byStart = (a, b) => a - b;

// A turn: a segment whose speaker differs from the previous segment's, entered at its first word.
const turns = segs
  .filter((p, i) => i === 0 || segs[i - 1].dataset.who !== p.dataset.who)
  .map(p => parseFloat((p.querySelector('.w') || { dataset: { s: p.dataset.start } }).dataset.s))
  .sort(byStart);
const chapters = Array.from(document.querySelectorAll('#chapters a[data-t]'))
  .map(a => parseFloat(a.dataset.t)).sort(byStart);

const hms = secs => {
  const s = Math.max(0, Math.floor(secs));
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

// --- Transport -----------------------------------------------------------------------------------

// Where a quote link or a soundbite stops playing; any other jump forgets it.
let stopAt = null;
const now = () => player.currentTime;
function play() {
  const p = player.play();
  if (p) p.catch(() => {});
}
function toggle() { if (player.paused) play(); else player.pause(); }
// Moves the playhead, keeping playing or paused as it was.
function moveTo(t) {
  player.currentTime = Math.max(0, DURATION ? Math.min(t, DURATION) : t);
  tick();
}
// Goes to `t` and plays, until `until` if given.
function seek(t, until = null) {
  moveTo(t);
  stopAt = until;
  play();
}
// "Previous" within this many seconds of a turn or chapter start goes to the one before it, as a
// CD player's back button does.
const GRACE = 1;
const nextOf = (list, t) => list.find(s => s > t + 0.05);
const prevOf = (list, t) => list.filter(s => s < t - GRACE).pop() ?? list[0];
function go(target) { if (target !== undefined) seek(target); }
const nextTurn = () => go(nextOf(turns, now()));
const prevTurn = () => go(prevOf(turns, now()));

// --- Highlight and playhead ----------------------------------------------------------------------

let lit = [];
// After the listener scrolls by hand, the page leaves the scrolling to them for a while.
let userScrolledAt = -Infinity;
for (const ev of ['wheel', 'touchmove']) addEventListener(ev, () => { userScrolledAt = performance.now(); }, { passive: true });
function highlight() {
  const t = now();
  const current = spans.filter(w => w.s <= t && t < Math.max(w.e, w.s + 0.25));
  if (current.length === lit.length && current.every((w, i) => w === lit[i])) return;
  lit.forEach(w => w.el.classList.remove('now'));
  current.forEach(w => w.el.classList.add('now'));
  lit = current;
  if (current.length && performance.now() - userScrolledAt > 4000) {
    const r = current[0].el.getBoundingClientRect();
    if (r.top < dock.getBoundingClientRect().bottom || r.bottom > innerHeight - 60) current[0].el.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }
}
const heads = Array.from(deck.querySelectorAll('.head'));
const dock = document.querySelector('.dock');
const clock = document.getElementById('clock');
const playButton = document.getElementById('play');
function tick() {
  const t = now();
  if (stopAt !== null && t >= stopAt && !player.paused) {
    player.pause();
    stopAt = null;
  }
  const left = `${DURATION ? Math.min(100, (t / DURATION) * 100) : 0}%`;
  heads.forEach(h => { h.style.left = left; });
  clock.textContent = hms(t);
  playButton.textContent = player.paused ? 'Play' : 'Pause';
  highlight();
  followMaster();
}

// --- Speaker lanes: solo, mute and the speakers' own tracks --------------------------------------

const lanesEl = document.getElementById('lanes');
const note = document.getElementById('mix-note');
const lanes = Array.from(lanesEl.querySelectorAll('.lane')).map(el => ({
  el,
  name: el.dataset.name,
  urls: el.dataset.tracks.split(' ').filter(Boolean),
  solo: false,
  muted: false,
  buffers: [],
  failed: false,
  gain: null,
  analyser: null,
}));
let mode = 'master';
let audio = null;
function say(text) {
  note.textContent = text;
  note.hidden = !text;
}
// The Web Audio graph, made on the first solo or mute (a click, so the context may start): the
// master through its own gain, each lane's tracks through the lane's gain and an analyser.
function graph() {
  if (audio) return audio;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return (audio = { error: 'this browser has no Web Audio' });
  try {
    const ctx = new Context();
    const master = ctx.createGain();
    ctx.createMediaElementSource(player).connect(master).connect(ctx.destination);
    for (const l of lanes) {
      l.gain = ctx.createGain();
      l.analyser = ctx.createAnalyser();
      l.analyser.fftSize = 1024;
      l.gain.connect(l.analyser).connect(ctx.destination);
    }
    const loads = lanes.flatMap(l => l.urls.map(url => fetch(url)
      .then(r => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.arrayBuffer(); })
      .then(bytes => ctx.decodeAudioData(bytes))
      .then(buffer => { l.buffers.push(buffer); }, () => { l.failed = true; })));
    audio = { ctx, master, ready: Promise.all(loads) };
  } catch (e) {
    audio = { error: String(e) };
  }
  return audio;
}
const engaged = () => lanes.some(l => l.solo || l.muted);
const audible = l => !l.muted && (l.solo || !lanes.some(o => o.solo));
function applyGains() {
  for (const l of lanes) {
    l.el.querySelector('.solo').setAttribute('aria-pressed', String(l.solo));
    l.el.querySelector('.mute').setAttribute('aria-pressed', String(l.muted));
    l.el.classList.toggle('silent', !audible(l));
    l.el.dataset.gain = audible(l) ? '1' : '0';
    if (l.gain) l.gain.gain.value = audible(l) ? 1 : 0;
  }
}
async function mixChanged() {
  applyGains();
  if (!engaged()) return useMaster('');
  const a = graph();
  if (a.error) return useMaster(`Solo and mute need Web Audio (${a.error}); playing the mix.`);
  applyGains();
  if (a.ctx.state === 'suspended') a.ctx.resume().catch(() => {});
  if (mode === 'tracks') return;
  say('Loading the speakers\u2019 tracks\u2026');
  await a.ready;
  if (!engaged() || mode === 'tracks') return;
  const missing = lanes.filter(l => l.failed || !l.urls.length).map(l => l.name);
  if (missing.length) return useMaster(`No playable track for ${missing.join(', ')}: playing the mix instead.`);
  say('');
  mode = 'tracks';
  lanesEl.dataset.mode = mode;
  a.master.gain.value = 0;
  restart();
}
function useMaster(why) {
  mode = 'master';
  lanesEl.dataset.mode = mode;
  stop();
  if (audio && audio.master) audio.master.gain.value = 1;
  say(why);
}

// The track sources playing now: where on the room clock they started, and when on the context's.
let running = null;
function stop() {
  if (!running) return;
  for (const s of running.sources) {
    try { s.stop(); } catch (e) { /* never started */ }
    s.disconnect();
  }
  running = null;
}
function restart() {
  stop();
  if (mode !== 'tracks' || player.paused || player.seeking) return;
  const { ctx } = audio;
  const at = now();
  const rate = player.playbackRate;
  const when = ctx.currentTime;
  const sources = [];
  for (const l of lanes) {
    for (const buffer of l.buffers) {
      if (at >= buffer.duration) continue;
      const s = ctx.createBufferSource();
      s.buffer = buffer;
      s.playbackRate.value = rate;
      s.connect(l.gain);
      s.start(when, at);
      sources.push(s);
    }
  }
  running = { sources, at, when, rate };
}
// Keeps the tracks on the master's clock: stopped while it pauses, seeks or waits for data,
// restarted where it is when they drift apart (a seek, a rate change, a stall).
function followMaster() {
  if (mode !== 'tracks') return;
  if (player.paused || player.seeking || player.readyState < 3) return stop();
  if (!running) return restart();
  const expected = running.at + (audio.ctx.currentTime - running.when) * running.rate;
  if (Math.abs(expected - now()) > 0.25 || running.rate !== player.playbackRate) restart();
}
player.addEventListener('pause', stop);
player.addEventListener('seeking', stop);

function level(l) {
  if (!l.analyser) return 0;
  const data = new Float32Array(l.analyser.fftSize);
  l.analyser.getFloatTimeDomainData(data);
  let sum = 0;
  for (const v of data) sum += v * v;
  return Math.sqrt(sum / data.length);
}
for (const l of lanes) {
  l.el.querySelector('.solo').addEventListener('click', () => { l.solo = !l.solo; mixChanged(); });
  l.el.querySelector('.mute').addEventListener('click', () => { l.muted = !l.muted; mixChanged(); });
  l.el.querySelector('.bars').addEventListener('click', ev => {
    const r = ev.currentTarget.getBoundingClientRect();
    seek(((ev.clientX - r.left) / r.width) * DURATION);
  });
}

// --- Controls, chapters, soundbites, keys --------------------------------------------------------

playButton.addEventListener('click', toggle);
document.getElementById('next-turn').addEventListener('click', nextTurn);
document.getElementById('prev-turn').addEventListener('click', prevTurn);
document.getElementById('next-chapter').addEventListener('click', () => go(nextOf(chapters, now())));
document.getElementById('prev-chapter').addEventListener('click', () => go(prevOf(chapters, now())));
for (const a of document.querySelectorAll('#chapters a[data-t]')) {
  a.addEventListener('click', ev => { ev.preventDefault(); seek(parseFloat(a.dataset.t)); });
}
for (const b of document.querySelectorAll('#soundbites .bite')) {
  b.addEventListener('click', () => seek(parseFloat(b.dataset.s), parseFloat(b.dataset.e)));
}
const typing = el => el && el.closest && el.closest('input, textarea, select, [contenteditable], audio');
document.addEventListener('keydown', ev => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
  const keys = {
    ' ': toggle,
    ArrowLeft: () => moveTo(now() - 5),
    ArrowRight: () => moveTo(now() + 5),
    n: nextTurn,
    p: prevTurn,
  };
  const act = keys[ev.key];
  if (!act) return;
  ev.preventDefault();
  act();
});
// A focused button would take the space bar as a click on keyup: the space bar is play/pause.
document.addEventListener('keyup', ev => { if (ev.key === ' ' && !typing(ev.target)) ev.preventDefault(); });

// --- Search inside the room ----------------------------------------------------------------------

const findBox = document.getElementById('find');
const findCount = document.getElementById('find-count');
const plain = s => s.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, '');
let matches = [];
let current = -1;
function find() {
  transcript.querySelectorAll('.hit').forEach(el => el.classList.remove('hit', 'cur'));
  const terms = findBox.value.split(/\s+/).map(plain).filter(Boolean);
  matches = [];
  current = -1;
  if (terms.length) {
    const texts = spans.map(w => plain(w.el.textContent));
    for (let i = 0; i + terms.length <= spans.length; i++) {
      if (terms.every((t, k) => texts[i + k].includes(t))) matches.push(spans.slice(i, i + terms.length));
    }
  }
  matches.flat().forEach(w => w.el.classList.add('hit'));
  findCount.textContent = !terms.length ? '' : matches.length ? `${matches.length} found` : 'not found';
}
function step(by) {
  if (!matches.length) return;
  if (current >= 0) matches[current].forEach(w => w.el.classList.remove('cur'));
  current = (current + by + matches.length) % matches.length;
  const m = matches[current];
  m.forEach(w => w.el.classList.add('cur'));
  findCount.textContent = `${current + 1} of ${matches.length}`;
  m[0].el.scrollIntoView({ block: 'center' });
  moveTo(m[0].s);
}
findBox.addEventListener('input', find);
findBox.addEventListener('keydown', ev => {
  if (ev.key === 'Enter') { ev.preventDefault(); step(ev.shiftKey ? -1 : 1); }
});
document.getElementById('find-next').addEventListener('click', () => step(1));
document.getElementById('find-prev').addEventListener('click', () => step(-1));

// --- Transcript clicks and quote links -----------------------------------------------------------

const selecting = () => { const s = getSelection(); return s && !s.isCollapsed; };
transcript.addEventListener('click', ev => {
  if (ev.target.closest('a.t')) ev.preventDefault();
  if (selecting()) return;
  const w = ev.target.closest('.w');
  const seg = ev.target.closest('.seg');
  if (w) seek(parseFloat(w.dataset.s));
  else if (seg) seek(parseFloat(seg.dataset.start));
});
const quote = document.getElementById('quote');
const quoteLink = document.getElementById('quote-link');
// The words a selection covers, leaving out one it only touches at an edge.
function selectedWords() {
  const sel = getSelection();
  if (!sel.rangeCount || sel.isCollapsed) return [];
  const r = sel.getRangeAt(0);
  if (!transcript.contains(r.commonAncestorContainer)) return [];
  const chosen = spans.filter(w => r.intersectsNode(w.el));
  const last = chosen[chosen.length - 1];
  if (last && r.endOffset === 0 && last.el.contains(r.endContainer)) chosen.pop();
  const first = chosen[0];
  if (first && first.el.contains(r.startContainer) && r.startOffset === (r.startContainer.length ?? -1)) chosen.shift();
  return chosen;
}
document.addEventListener('selectionchange', () => {
  const chosen = selectedWords();
  if (!chosen.length) return;
  const s = chosen[0].s;
  const e = chosen[chosen.length - 1].e;
  quoteLink.href = `${location.pathname}?t=${s.toFixed(2)}&end=${e.toFixed(2)}`;
  quoteLink.textContent = `${hms(s)}\u2013${hms(e)}: \u201c${chosen.map(w => w.el.textContent).join(' ')}\u201d`;
  quote.hidden = false;
});
document.getElementById('quote-copy').addEventListener('click', () => {
  const url = new URL(quoteLink.getAttribute('href'), location.href).href;
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
});

// --- Where the page opens ------------------------------------------------------------------------

if (END !== null) {
  const quoted = spans.filter(w => w.s >= START - 0.005 && w.e <= END + 0.005);
  quoted.forEach(w => w.el.classList.add('quoted'));
  if (quoted.length) quoted[0].el.scrollIntoView({ block: 'center' });
}
if (START > 0 || END !== null) {
  const open = () => {
    player.currentTime = START;
    tick();
    if (END !== null) { stopAt = END; play(); }
  };
  if (player.readyState >= 1) open(); else player.addEventListener('loadedmetadata', open, { once: true });
}

player.addEventListener('timeupdate', tick);
player.addEventListener('seeked', tick);
(function frame() { tick(); requestAnimationFrame(frame); })();

window.roomcastPlayer = {
  turns,
  chapters,
  seek,
  now,
  get mode() { return mode; },
  // What the player is doing, as plain data (for tests and the curious).
  state: () => ({
    mode,
    time: now(),
    paused: player.paused,
    stopAt,
    note: note.textContent,
    lanes: lanes.map(l => ({
      name: l.name,
      solo: l.solo,
      muted: l.muted,
      gain: l.gain ? l.gain.gain.value : audible(l) ? 1 : 0,
      level: level(l),
      tracks: l.buffers.length,
    })),
  }),
};
