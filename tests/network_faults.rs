//! The RTP receiver under a bad network, deterministically: a simulated room of senders (with drift,
//! DTX, a pause that does not advance the timestamp, an SSRC change) goes through a simulated network
//! (loss, reordering, duplicates, jitter, very late packets) into the sans-I/O receiver, and what it
//! outputs is written into real Ogg Opus tracks and read back.
//!
//! What a user relies on: every packet that arrived in time is in the right speaker's track bit for
//! bit, at most 20 ms from where the truth puts it, and the loss/late/duplicate counts are exact.

use std::collections::HashMap;
use std::io::Cursor;
use std::time::Duration;

use roomcast::rtp::packet::{AudioLevel, build_rtp};
use roomcast::rtp::rtcp::{self, SenderReport};
use roomcast::rtp::{Output, Receiver, ReceiverConfig};
use roomcast::track::{OpusHead, OpusTags, TrackReader, TrackWriter};

const NTP_1970: f64 = 2_208_988_800.0;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// One datagram as sent, with the truth about it.
#[derive(Clone)]
struct Sent {
    at: f64,
    bytes: Vec<u8>,
    /// For RTP: (true speaker, payload); RTCP has none.
    audio: Option<(usize, Vec<u8>)>,
    /// The first and last packets of a stream are never dropped: nothing could reveal their loss.
    edge_of_stream: bool,
}

struct SenderSpec {
    name: &'static str,
    ppm: f64,
    start: f64,
    end: f64,
    /// Real time at which the sender stops for `pause.1` seconds without advancing its timestamp.
    pause: Option<(f64, f64)>,
    /// Real time at which the sender restarts with a new SSRC, sequence and timestamp base.
    ssrc_change: Option<f64>,
    sender_reports: bool,
}

struct Stream {
    packets: u64,
    ssrc: u32,
    seq: u16,
    ts0: u32,
}

/// Generates a speaker's datagrams: talk spurts of 3-8 s, DTX silences of 1-4 s (timestamp advances,
/// nothing is sent), RTCP SDES every 5 s and, when asked, sender reports with the true NTP time.
/// Returns the datagrams and the number of talk spurts.
fn speaker_traffic(index: usize, spec: &SenderSpec, rng: &mut Rng) -> (Vec<Sent>, usize) {
    let mut out = Vec::new();
    let new_stream =
        |rng: &mut Rng| Stream { packets: 0, ssrc: rng.next() as u32, seq: rng.next() as u16, ts0: rng.next() as u32 };
    let mut stream = new_stream(rng);
    let rate = 1.0 + spec.ppm * 1e-6;
    // Sender clock samples at real time t: (t - start) * rate * 48000 - ts_lag, where ts_lag grows by
    // the pause so the timestamp does not advance across it.
    let mut ts_lag = 0.0;
    let mut t = spec.start;
    let mut spurts = 0;
    let mut next_rtcp = spec.start;
    let mut paused = false;
    let mut changed = false;
    let cname = format!("{}@sim", spec.name);
    while t < spec.end {
        let spurt_end = (t + rng.range(3.0, 8.0)).min(spec.end);
        spurts += 1;
        let mut frame_t = t;
        while frame_t < spurt_end {
            let ts = ((frame_t - spec.start) * rate * 48_000.0 - ts_lag).round() as u64;
            if frame_t >= next_rtcp {
                let mut bytes = Vec::new();
                if spec.sender_reports {
                    bytes.extend(rtcp::build_sender_report(&SenderReport {
                        ssrc: stream.ssrc,
                        ntp: rtcp::ntp_from_secs(NTP_1970 + 1.7e9 + frame_t),
                        rtp_timestamp: stream.ts0.wrapping_add(ts as u32),
                        packets: 0,
                        octets: 0,
                    }));
                } else {
                    bytes.extend(rtcp::build_receiver_report(stream.ssrc, &[]));
                }
                bytes.extend(rtcp::build_sdes(stream.ssrc, &cname, Some(spec.name)));
                out.push(Sent { at: frame_t, bytes, audio: None, edge_of_stream: false });
                next_rtcp = frame_t + 5.0;
            }
            let mut payload = vec![0xFC, index as u8];
            payload.extend_from_slice(&(out.len() as u32).to_be_bytes());
            payload.extend((0..rng.next() % 60).map(|_| rng.next() as u8));
            let level = AudioLevel { voice: true, level: 20 };
            let bytes = build_rtp(
                111,
                false,
                stream.seq,
                stream.ts0.wrapping_add(ts as u32),
                stream.ssrc,
                Some((1, level)),
                &payload,
            );
            stream.seq = stream.seq.wrapping_add(1);
            let first = stream.packets == 0;
            stream.packets += 1;
            out.push(Sent { at: frame_t, bytes, audio: Some((index, payload)), edge_of_stream: first });
            frame_t += 0.020 / rate;
        }
        t = frame_t;
        if let Some((at, length)) = spec.pause.filter(|(at, _)| !paused && t >= *at) {
            paused = true;
            let _ = at;
            ts_lag += length * rate * 48_000.0;
            t += length;
        }
        if spec.ssrc_change.is_some_and(|at| !changed && t >= at) {
            changed = true;
            mark_last(&mut out);
            out.push(Sent { at: t, bytes: rtcp::build_bye(stream.ssrc), audio: None, edge_of_stream: false });
            stream = new_stream(rng);
            next_rtcp = t;
        }
        t += rng.range(1.0, 4.0);
    }
    mark_last(&mut out);
    (out, spurts)
}

fn mark_last(out: &mut [Sent]) {
    if let Some(last) = out.iter_mut().rev().find(|s| s.audio.is_some()) {
        last.edge_of_stream = true;
    }
}

struct Network {
    loss: f64,
    reorder: f64,
    duplicate: f64,
    jitter: f64,
    /// One-way base delay per speaker (index), seconds.
    base: Vec<f64>,
    /// Every n-th RTP packet arrives a whole second late.
    very_late_every: usize,
}

#[derive(Default, Debug, PartialEq, Eq)]
struct Truth {
    lost: u64,
    late: u64,
    duplicates: u64,
}

/// Delivers datagrams as the network would: returns (arrival, bytes) sorted by arrival, and the truth.
fn deliver(sent: &[(usize, Sent)], net: &Network, rng: &mut Rng) -> (Vec<(f64, Vec<u8>)>, Truth) {
    let mut arrivals = Vec::new();
    let mut truth = Truth::default();
    let mut rtp_count = 0;
    for (speaker, s) in sent {
        let base = net.base[*speaker];
        if s.audio.is_none() {
            arrivals.push((s.at + base, s.bytes.clone()));
            continue;
        }
        rtp_count += 1;
        if !s.edge_of_stream && rng.unit() < net.loss {
            truth.lost += 1;
            continue;
        }
        let mut delay = base + rng.range(0.0, net.jitter);
        if rng.unit() < net.reorder {
            delay += 0.080;
        }
        if !s.edge_of_stream && rtp_count % net.very_late_every == 0 {
            truth.late += 1;
            arrivals.push((s.at + delay + 1.0, s.bytes.clone()));
            continue;
        }
        arrivals.push((s.at + delay, s.bytes.clone()));
        if rng.unit() < net.duplicate {
            truth.duplicates += 1;
            arrivals.push((s.at + base + rng.range(0.0, net.jitter * 3.0), s.bytes.clone()));
        }
    }
    arrivals.sort_by(|a, b| a.0.total_cmp(&b.0));
    (arrivals, truth)
}

struct Recorded {
    outputs: Vec<Output>,
    receiver: Receiver,
}

/// Feeds arrivals to the receiver with a 10 ms timer tick between them, as the live recorder does.
fn receive(arrivals: &[(f64, Vec<u8>)], end: f64) -> Recorded {
    let mut receiver = Receiver::new(ReceiverConfig::default(), 1);
    let mut outputs = Vec::new();
    let mut tick = 0.0;
    for (at, bytes) in arrivals {
        while tick < *at {
            receiver.handle_timeout(Duration::from_secs_f64(tick));
            tick += 0.010;
        }
        receiver.handle_datagram(bytes, Duration::from_secs_f64(*at));
        outputs.extend(std::iter::from_fn(|| receiver.poll_output()));
    }
    receiver.finish(Duration::from_secs_f64(end));
    outputs.extend(std::iter::from_fn(|| receiver.poll_output()));
    Recorded { outputs, receiver }
}

/// Writes each speaker's packets into a real Ogg Opus track and reads it back: (room pos, payload).
fn tracks(outputs: &[Output], room_end: u64) -> HashMap<usize, Vec<(u64, Vec<u8>)>> {
    let mut writers: HashMap<usize, TrackWriter<Cursor<Vec<u8>>>> = HashMap::new();
    for output in outputs {
        if let Output::Packet { speaker, pos, payload } = output {
            let writer = writers.entry(*speaker).or_insert_with(|| {
                TrackWriter::new(Cursor::new(Vec::new()), &OpusHead::new(2, 312), &OpusTags::new("sim"), 7).unwrap()
            });
            writer.write_at(pos + 312, payload).unwrap();
        }
    }
    writers
        .into_iter()
        .map(|(speaker, writer)| {
            let bytes = writer.finish(Some(room_end)).unwrap().into_inner();
            let mut reader = TrackReader::new(Cursor::new(bytes)).unwrap();
            let mut packets = Vec::new();
            while let Some(p) = reader.next_packet().unwrap() {
                if !roomcast::track::is_silence_frame(&p.data) {
                    packets.push((p.start - 312, p.data));
                }
            }
            (speaker, packets)
        })
        .collect()
}

fn speaker_keys(outputs: &[Output]) -> HashMap<String, usize> {
    let mut keys = HashMap::new();
    for output in outputs {
        if let Output::Joined { speaker, name, .. } = output {
            keys.insert(name.clone(), *speaker);
        }
    }
    keys
}

/// Checks every sent packet that arrived in time: in its speaker's track, bit-exact, once, within
/// `tolerance` seconds of its send time plus `latency`. Returns the worst error seen.
fn check_alignment(
    sent: &[(usize, Sent)],
    tracks: &HashMap<usize, Vec<(u64, Vec<u8>)>>,
    key_of: &[usize],
    latency: f64,
    tolerance: f64,
) -> f64 {
    let mut truth_at: HashMap<&[u8], f64> = HashMap::new();
    for (_, s) in sent {
        if let Some((_, payload)) = &s.audio {
            truth_at.insert(payload, s.at);
        }
    }
    let mut worst: f64 = 0.0;
    for (speaker, key) in key_of.iter().enumerate() {
        let track = &tracks[key];
        let mut seen = std::collections::HashSet::new();
        for (pos, payload) in track {
            assert_eq!(
                payload[1] as usize, speaker,
                "a packet of speaker {} is in speaker {speaker}'s track",
                payload[1]
            );
            assert!(seen.insert(payload.clone()), "a packet is in the track twice");
            let at = *truth_at.get(payload.as_slice()).expect("every packet in the track was sent, bit for bit");
            let error = *pos as f64 / 48_000.0 - (at + latency);
            if error.abs() > tolerance {
                let i = track.iter().position(|(p, _)| p == pos).unwrap();
                for (p, pl) in &track[i.saturating_sub(5)..(i + 5).min(track.len())] {
                    eprintln!("  pos {:.4} sent {:.4}", *p as f64 / 48000.0, truth_at[pl.as_slice()]);
                }
            }
            worst = worst.max(error.abs());
            assert!(error.abs() <= tolerance, "speaker {speaker}: packet sent at {at:.3} s is off by {error:.4} s");
        }
    }
    worst
}

#[test]
fn a_bad_network_keeps_tracks_aligned_bit_exact_and_counted() {
    let mut rng = Rng(0x5eed_0001);
    let specs = [
        // Host: there from the start, pauses 30 s without advancing its timestamp (the Janus bug).
        SenderSpec {
            name: "Maya",
            ppm: 0.0,
            start: 0.0,
            end: 360.0,
            pause: Some((120.0, 30.0)),
            ssrc_change: None,
            sender_reports: false,
        },
        // Joins late, its clock runs 100 ppm fast.
        SenderSpec {
            name: "Theo",
            ppm: 100.0,
            start: 20.0,
            end: 360.0,
            pause: None,
            ssrc_change: None,
            sender_reports: false,
        },
        // 100 ppm slow, leaves early, and restarts with a new SSRC halfway.
        SenderSpec {
            name: "Priya",
            ppm: -100.0,
            start: 5.0,
            end: 300.0,
            pause: None,
            ssrc_change: Some(150.0),
            sender_reports: false,
        },
    ];
    let mut sent = Vec::new();
    let mut spurts = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let (traffic, n) = speaker_traffic(i, spec, &mut rng);
        spurts.push(n);
        sent.extend(traffic.into_iter().map(|s| (i, s)));
    }
    let net = Network {
        loss: 0.10,
        reorder: 0.05,
        duplicate: 0.01,
        jitter: 0.060,
        base: vec![0.020; 3],
        very_late_every: 997,
    };
    let (arrivals, truth) = deliver(&sent, &net, &mut rng);
    let recorded = receive(&arrivals, 361.0);
    let stats = &recorded.receiver.stats;

    assert_eq!(Truth { lost: stats.lost, late: stats.late, duplicates: stats.duplicates }, truth);
    assert!(truth.lost > 3000 && truth.late > 10 && truth.duplicates > 100, "the network really was bad: {truth:?}");
    assert_eq!(stats.malformed, 0);

    let keys = speaker_keys(&recorded.outputs);
    let key_of: Vec<usize> = specs.iter().map(|s| keys[s.name]).collect();
    assert_eq!(keys.len(), 3, "the SSRC change kept Priya one speaker: {keys:?}");
    let tracks = tracks(&recorded.outputs, 361 * 48_000);
    let delivered: usize = tracks.values().map(Vec::len).sum();
    let rtp_sent = sent.iter().filter(|(_, s)| s.audio.is_some()).count();
    assert_eq!(
        delivered as u64,
        rtp_sent as u64 - truth.lost - truth.late,
        "every packet that arrived in time is kept"
    );
    let worst = check_alignment(&sent, &tracks, &key_of, 0.020, 0.020);
    eprintln!("worst alignment error {:.1} ms, stats {stats:?}", worst * 1000.0);
    assert!(stats.reanchors >= 1, "the pause without timestamp advance was noticed");
    assert!(stats.drift_corrections >= 2, "100 ppm drift was followed");

    // Talking: one talking/stopped-talking pair per spurt (DTX gaps are at least a second).
    for (i, spec) in specs.iter().enumerate() {
        let talking = recorded
            .outputs
            .iter()
            .filter(|o| matches!(o, Output::Talking { speaker, .. } if *speaker == key_of[i]))
            .count();
        let stopped = recorded
            .outputs
            .iter()
            .filter(|o| matches!(o, Output::StoppedTalking { speaker, .. } if *speaker == key_of[i]))
            .count();
        assert_eq!((talking, stopped), (spurts[i], spurts[i]), "{}", spec.name);
    }
}

#[test]
fn sender_reports_put_speakers_with_different_network_delays_in_sync() {
    let mut rng = Rng(0x5eed_0002);
    let specs = [
        SenderSpec {
            name: "Near",
            ppm: 0.0,
            start: 0.0,
            end: 120.0,
            pause: None,
            ssrc_change: None,
            sender_reports: true,
        },
        SenderSpec {
            name: "Far",
            ppm: 80.0,
            start: 3.0,
            end: 120.0,
            pause: None,
            ssrc_change: None,
            sender_reports: true,
        },
    ];
    let mut sent = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        sent.extend(speaker_traffic(i, spec, &mut rng).0.into_iter().map(|s| (i, s)));
    }
    // "Far" is 80 ms further away: without sender reports it would be placed 80 ms late.
    let net = Network {
        loss: 0.02,
        reorder: 0.0,
        duplicate: 0.0,
        jitter: 0.020,
        base: vec![0.010, 0.090],
        very_late_every: usize::MAX,
    };
    let (arrivals, _) = deliver(&sent, &net, &mut rng);
    let recorded = receive(&arrivals, 121.0);
    let keys = speaker_keys(&recorded.outputs);
    let key_of: Vec<usize> = specs.iter().map(|s| keys[s.name]).collect();
    let tracks = tracks(&recorded.outputs, 121 * 48_000);
    check_alignment(&sent, &tracks, &key_of, 0.010, 0.020);
}

#[test]
fn garbage_and_non_opus_streams_are_counted_and_dropped_without_disturbing_a_speaker() {
    let mut receiver = Receiver::new(ReceiverConfig::default(), 1);
    let mut rng = Rng(7);
    let mut t = 0.0;
    for n in 0..500u16 {
        let opus = build_rtp(111, false, n, n as u32 * 960, 42, None, &[0xF8, 0xFF, 0xFE]);
        receiver.handle_datagram(&opus, Duration::from_secs_f64(t));
        // PCMU from another sender on the same port.
        receiver.handle_datagram(
            &build_rtp(0, false, n, n as u32 * 160, 99, None, &[0xff; 160]),
            Duration::from_secs_f64(t),
        );
        let junk: Vec<u8> = (0..rng.next() % 200).map(|_| rng.next() as u8).collect();
        receiver.handle_datagram(&junk, Duration::from_secs_f64(t));
        t += 0.02;
    }
    receiver.finish(Duration::from_secs_f64(t));
    let outputs: Vec<Output> = std::iter::from_fn(|| receiver.poll_output()).collect();
    let packets = outputs.iter().filter(|o| matches!(o, Output::Packet { .. })).count();
    assert_eq!(packets, 500);
    let warnings: Vec<&Output> = outputs.iter().filter(|o| matches!(o, Output::Warning(_))).collect();
    assert_eq!(warnings.len(), 1, "one warning for the PCMU stream, not one per packet");
    assert!(matches!(warnings[0], Output::Warning(w) if w.contains("payload type 0")));
    assert!(receiver.stats.unsupported >= 500);
    assert!(receiver.stats.malformed > 300, "junk counted: {:?}", receiver.stats);
}

#[test]
fn a_silent_source_leaves_after_the_timeout_and_bye_ends_a_speaker_at_once() {
    let config = ReceiverConfig { timeout: Duration::from_secs(5), ..Default::default() };
    let mut receiver = Receiver::new(config, 1);
    for n in 0..50u16 {
        let t = Duration::from_millis(n as u64 * 20);
        receiver.handle_datagram(&build_rtp(111, false, n, n as u32 * 960, 1, None, &[0xF8, 0xFF, 0xFE]), t);
        receiver.handle_datagram(&build_rtp(111, false, n, n as u32 * 960, 2, None, &[0xF8, 0xFF, 0xFE]), t);
    }
    receiver.handle_datagram(&rtcp::build_bye(2), Duration::from_millis(1000));
    receiver.handle_timeout(Duration::from_millis(1300));
    let early: Vec<Output> = std::iter::from_fn(|| receiver.poll_output()).collect();
    let left: Vec<&Output> = early.iter().filter(|o| matches!(o, Output::Left { .. })).collect();
    assert_eq!(left, vec![&Output::Left { speaker: 1, at: 48_000 }], "BYE: left at the end of its last packet");
    receiver.handle_timeout(Duration::from_secs(7));
    let late: Vec<Output> = std::iter::from_fn(|| receiver.poll_output()).collect();
    assert_eq!(late, vec![Output::Left { speaker: 0, at: 48_000 }]);
    let rr = receiver.receiver_report(Duration::from_secs(7));
    assert!(rr.is_none(), "no report about sources that are gone");
}

#[test]
fn receiver_reports_tell_the_sender_about_loss_and_jitter() {
    let mut receiver = Receiver::new(ReceiverConfig::default(), 0xabc);
    for n in (0..100u16).filter(|n| n % 10 != 3) {
        let t = Duration::from_millis(n as u64 * 20);
        receiver.handle_datagram(&build_rtp(111, false, n, n as u32 * 960, 5, None, &[0xF8, 0xFF, 0xFE]), t);
    }
    receiver.handle_timeout(Duration::from_secs(3));
    let report = receiver.receiver_report(Duration::from_secs(3)).expect("a report");
    let parsed = rtcp::parse(&report).expect("parses");
    let rtcp::Rtcp::ReceiverReport { ssrc, reports } = &parsed[0] else { panic!("not an RR: {parsed:?}") };
    assert_eq!(*ssrc, 0xabc);
    assert_eq!(reports[0].ssrc, 5);
    assert_eq!(reports[0].cumulative_lost, 10);
    assert_eq!(reports[0].highest_sequence, 99);
    assert_eq!(reports[0].fraction_lost, (10 * 256 / 100) as u8);
}

#[test]
fn corrupted_datagrams_never_panic_the_receiver() {
    // Valid RTP, RTCP and extension-bearing packets with random bytes flipped, truncated or grown:
    // whatever arrives, the receiver counts and carries on.
    let mut rng = Rng(0xbad_5eed);
    let mut receiver = Receiver::new(ReceiverConfig::default(), 1);
    let level = AudioLevel { voice: true, level: 40 };
    let mut templates = [
        build_rtp(111, true, 1, 960, 5, Some((1, level)), &[0xFC, 0xFF, 0xFE]),
        rtcp::build_sender_report(&SenderReport { ssrc: 5, ntp: 1 << 40, rtp_timestamp: 0, packets: 1, octets: 3 }),
        rtcp::build_sdes(5, "x@y", Some("X")),
        rtcp::build_bye(5),
        rtcp::build_receiver_report(9, &[Default::default()]),
    ];
    templates[2].extend(rtcp::build_bye(6));
    for i in 0..200_000u64 {
        let mut d = templates[(rng.next() % templates.len() as u64) as usize].clone();
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() as usize) % d.len();
            d[at] ^= 1 << (rng.next() % 8);
        }
        match rng.next() % 4 {
            0 => d.truncate((rng.next() as usize) % (d.len() + 1)),
            1 => d.extend((0..rng.next() % 20).map(|_| rng.next() as u8)),
            _ => {}
        }
        receiver.handle_datagram(&d, Duration::from_millis(i / 10));
        if i % 1000 == 0 {
            receiver.handle_timeout(Duration::from_millis(i / 10));
            while receiver.poll_output().is_some() {}
            let _ = receiver.receiver_report(Duration::from_millis(i / 10));
        }
    }
    receiver.finish(Duration::from_secs(30));
    assert!(receiver.stats.malformed > 0);
}

/// An SDES packet with 31 empty chunks, one per made-up SSRC: the most sources one RTCP datagram
/// can name.
fn sdes_flood(first_ssrc: u32) -> Vec<u8> {
    let mut body = Vec::new();
    for i in 0..31u32 {
        body.extend_from_slice(&(first_ssrc + i).to_be_bytes());
        body.extend_from_slice(&[0, 0, 0, 0]); // end of items, padded to 32 bits
    }
    let mut out = vec![0x80 | 31, 202];
    out.extend_from_slice(&((body.len() / 4) as u16).to_be_bytes());
    out.extend(body);
    out
}

#[test]
fn rtcp_about_made_up_ssrcs_stays_within_the_source_bound_and_a_real_speaker_still_gets_in() {
    use roomcast::rtp::receiver::MAX_SOURCES;
    let mut receiver = Receiver::new(ReceiverConfig::default(), 1);
    // 1,000 datagrams naming 31,000 SSRCs, none of which ever sends audio.
    for d in 0..1_000u32 {
        receiver.handle_datagram(&sdes_flood(1_000 + d * 31), Duration::from_millis(d as u64));
    }
    assert!(receiver.source_count() <= MAX_SOURCES, "{} sources", receiver.source_count());
    assert!(receiver.stats.malformed >= 31_000 - MAX_SOURCES as u64, "{:?}", receiver.stats);
    // They are forgotten once silent for the timeout; a speaker arriving then is recorded.
    let start = ReceiverConfig::default().timeout + Duration::from_secs(2);
    for n in 0..100u16 {
        let at = start + Duration::from_millis(20 * n as u64);
        receiver.handle_timeout(at);
        receiver.handle_datagram(&build_rtp(111, false, n, n as u32 * 960, 42, None, &[0xF8, 0x01, 0x02]), at);
    }
    receiver.finish(start + Duration::from_secs(3));
    let outputs: Vec<Output> = std::iter::from_fn(|| receiver.poll_output()).collect();
    let packets = outputs.iter().filter(|o| matches!(o, Output::Packet { .. })).count();
    assert_eq!(packets, 100);
    assert!(receiver.source_count() < 10, "{} sources left", receiver.source_count());
}
