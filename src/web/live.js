// The live room page: captions arrive per speaker as Server-Sent Events from /rooms/ID/live.
// A partial caption is provisional (grey, in its speaker's lane and at the end of the list) and is
// replaced by the next line of the same utterance; a final one stays as it is. The page was
// rendered with every final caption up to SINCE, so the stream starts after it: a reload neither
// loses nor repeats a line. When the room ends the page says so, and once the room is published
// it shows the replay.
(function () {
  const list = document.getElementById('captions');
  const state = document.getElementById('live-state');
  const badge = document.getElementById('live-badge');
  const lanes = {};
  for (const lane of document.querySelectorAll('.live-lane')) lanes[lane.dataset.speaker] = lane;

  function clock(t) {
    const s = Math.max(0, Math.floor(t));
    return Math.floor(s / 3600) + ':' + String(Math.floor(s / 60) % 60).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0');
  }

  function lane(c) {
    let l = lanes[c.speaker];
    if (!l) {
      l = document.createElement('div');
      l.className = 'live-lane';
      l.dataset.speaker = c.speaker;
      const who = document.createElement('span');
      who.className = 'who';
      l.appendChild(who);
      const now = document.createElement('span');
      now.className = 'now';
      l.appendChild(now);
      document.getElementById('live-lanes').appendChild(l);
      lanes[c.speaker] = l;
    }
    l.querySelector('.who').textContent = c.name;
    return l;
  }

  // One paragraph per utterance: made by its first line, kept up to date by the next.
  function line(c, final) {
    let p = list.querySelector('p[data-u="' + c.utterance + '"]');
    if (p && p.classList.contains('final')) return; // final text never changes
    if (final && !c.text.trim()) {
      if (p) p.remove();
      lane(c).querySelector('.now').textContent = '';
      return;
    }
    if (!p) {
      p = document.createElement('p');
      p.dataset.u = c.utterance;
      p.innerHTML = '<span class="who"></span><span class="t"></span><span class="text"></span>';
      list.appendChild(p);
    }
    p.className = final ? 'final' : 'partial';
    p.dataset.speaker = c.speaker;
    p.querySelector('.who').textContent = c.name;
    p.querySelector('.t').textContent = clock(c.start);
    p.querySelector('.text').textContent = c.text;
    const now = lane(c).querySelector('.now');
    now.textContent = c.text;
    now.className = final ? 'now' : 'now partial';
    if (list.lastElementChild === p) p.scrollIntoView({ block: 'nearest' });
  }

  function ended(text) {
    if (badge) badge.remove();
    state.textContent = text;
    state.hidden = false;
    for (const p of list.querySelectorAll('p.partial')) p.remove();
    // The replay, once the room is published (a master to play).
    const poll = () => fetch('/api/rooms/' + encodeURIComponent(ROOM))
      .then((r) => (r.ok ? r.json() : null))
      .then((room) => {
        if (room && room.outputs.some((o) => o.startsWith('master.'))) location.reload();
        else setTimeout(poll, 3000);
      })
      .catch(() => setTimeout(poll, 3000));
    setTimeout(poll, 3000);
  }

  const source = new EventSource('/rooms/' + encodeURIComponent(ROOM) + '/live' + (SINCE === null ? '' : '?since=' + SINCE));
  source.addEventListener('partial', (e) => line(JSON.parse(e.data), false));
  source.addEventListener('final', (e) => line(JSON.parse(e.data), true));
  source.addEventListener('note', (e) => {
    const n = JSON.parse(e.data);
    const p = document.createElement('p');
    p.className = 'note muted';
    p.textContent = n.text;
    list.appendChild(p);
  });
  source.addEventListener('end', () => {
    source.close();
    ended('The room has ended. Its replay appears here once it is published.');
  });
  source.onerror = () => {
    // The browser reconnects by itself (with Last-Event-ID); a room no longer live answers 404,
    // after which it stops.
    if (source.readyState === EventSource.CLOSED) ended('The room is no longer live.');
  };
})();
