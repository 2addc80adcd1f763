// The room page's player, inlined by pages.rs after `const START` and `const END`; no build step.
//
// The master <audio id="player"> is the transport: play, pause, seek and the highlight always
// follow its clock. With a speaker soloed or muted, the master goes quiet (it is routed through a
// GainNode) and each speaker's own track, streamed by an <audio> element of its own through the
// lane's gain, plays from the same moment, kept on the master's clock; the tracks all start at
// room time 0, so one offset lines them up. When a track cannot be had, the master keeps playing
// and a note says why.

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
  tracks: [],
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
// master through its own gain, each lane's tracks through the lane's gain and an analyser. A track
// plays in an <audio> element of its own, streamed in byte ranges as the master is: decoding a
// whole track up front would hold every sample of it at once (about 700 MB a speaker-hour).
function graph() {
  if (audio) return audio;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return (audio = { error: 'this browser has no Web Audio' });
  try {
    const ctx = new Context();
    const master = ctx.createGain();
    ctx.createMediaElementSource(player).connect(master).connect(ctx.destination);
    const loads = [];
    for (const l of lanes) {
      l.gain = ctx.createGain();
      l.analyser = ctx.createAnalyser();
      l.analyser.fftSize = 1024;
      l.gain.connect(l.analyser).connect(ctx.destination);
      for (const url of l.urls) {
        const el = document.createElement('audio');
        el.hidden = true;
        el.preload = 'metadata';
        el.src = url;
        l.el.append(el);
        ctx.createMediaElementSource(el).connect(l.gain);
        // lead: how far ahead of the master a seek should aim, learnt from the last one.
        const track = { el, lead: 0.3, cuedAt: null, timer: null };
        l.tracks.push(track);
        loads.push(new Promise(loaded => {
          el.addEventListener('loadedmetadata', loaded, { once: true });
          el.addEventListener('error', loaded, { once: true });
        }));
        el.addEventListener('error', () => {
          l.failed = true;
          if (mode === 'tracks') mixChanged();
        });
        el.addEventListener('seeked', () => {
          if (track.cuedAt !== null) track.lead = Math.min(3, Math.max(0.1, (1.5 * (performance.now() - track.cuedAt)) / 1000));
          track.cuedAt = null;
          followMaster();
        });
      }
    }
    audio = { ctx, master, ready: Promise.all(loads) };
  } catch (e) {
    audio = { error: String(e) };
  }
  return audio;
}
const engaged = () => lanes.some(l => l.solo || l.muted);
const audible = l => !l.muted && (l.solo || !lanes.some(o => o.solo));
const allTracks = () => lanes.flatMap(l => l.tracks);
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
  const missing = () => lanes.filter(l => l.failed || !l.urls.length).map(l => l.name);
  if (mode === 'tracks' && !missing().length) return;
  if (mode !== 'tracks') say('Loading the speakers\u2019 tracks\u2026');
  await a.ready;
  if (!engaged() || (mode === 'tracks' && !missing().length)) return;
  if (missing().length) return useMaster(`No playable track for ${missing().join(', ')}: playing the mix instead.`);
  say('');
  mode = 'tracks';
  lanesEl.dataset.mode = mode;
  // From now on a track buffers ahead as it plays, as the master does.
  for (const track of allTracks()) track.el.preload = 'auto';
  handedOver = false;
  followMaster();
}
function useMaster(why) {
  mode = 'master';
  lanesEl.dataset.mode = mode;
  for (const track of allTracks()) track.el.pause();
  if (audio && audio.master) audio.master.gain.value = 1;
  say(why);
}

// Keeping the tracks on the master's clock. Within DEAD_BAND a track plays at the master's rate;
// further off it catches up by playing up to NUDGE faster or slower (too little to hear in
// speech); past SEEK_BEYOND (a seek, a stall) it seeks to where the master will be once the seek
// is done, waits there, and starts as the master reaches it.
const DEAD_BAND = 0.008;
// A waiting track this little behind starts at once and catches up: seeking again would leave a gap.
const LATE_START = 0.05;
const SEEK_BEYOND = 0.15;
const NUDGE = 0.05;
// Switching to the tracks while playing, the master stays on until every track has started, so
// that nothing goes silent while they seek.
let handedOver = false;
function followMaster() {
  if (mode !== 'tracks') return;
  const rolling = !player.paused && !player.seeking && player.readyState >= 3;
  const t = now();
  let started = true;
  for (const track of allTracks()) {
    follow(track, t, rolling);
    started &&= !track.el.paused || t >= track.el.duration;
  }
  if (!handedOver && (started || !rolling)) {
    handedOver = true;
    audio.master.gain.value = 0;
  }
}
function follow(track, t, rolling) {
  const { el } = track;
  const rate = player.playbackRate;
  const drift = el.currentTime - t;
  if (!rolling || t >= el.duration) {
    if (!el.paused) el.pause();
    // Stopped, a track waits where the master is, so that both start together.
    if (!el.seeking && Math.abs(drift) > DEAD_BAND && t < el.duration) cue(track, t);
    return;
  }
  if (el.seeking) return;
  const ahead = t + track.lead * rate;
  if (el.paused) {
    if (drift < -LATE_START || drift > track.lead * rate + 1) cue(track, ahead);
    else if (drift <= DEAD_BAND) start(track);
    else if (!track.timer) track.timer = setTimeout(() => { track.timer = null; followMaster(); }, (drift / rate) * 1000);
    return;
  }
  if (Math.abs(drift) > SEEK_BEYOND) {
    el.pause();
    cue(track, ahead);
    return;
  }
  // In steps of half a percent: a rate changed on every frame would keep the decoder re-tuning.
  const nudge = Math.abs(drift) < DEAD_BAND ? 0 : Math.round(Math.max(-NUDGE, Math.min(NUDGE, drift)) * 200) / 200;
  el.playbackRate = rate * (1 - nudge);
}
function cue(track, at) {
  clearTimeout(track.timer);
  track.timer = null;
  track.cuedAt = performance.now();
  track.el.currentTime = at;
}
function start(track) {
  track.el.playbackRate = player.playbackRate;
  const p = track.el.play();
  if (p) p.catch(() => {});
}
for (const ev of ['play', 'playing', 'pause', 'seeking', 'waiting', 'ratechange']) player.addEventListener(ev, followMaster);

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
      tracks: l.tracks.filter(t => t.el.readyState >= 1).length,
    })),
  }),
};
