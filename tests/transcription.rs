//! Transcription building blocks on real data: whisper.cpp's Silero VAD (the real weights in
//! ../shared/models) on real speech, and the real tiny.en model on JFK: what transcription relies
//! on to send whisper speech only, and to put its words on the room clock.

mod common;

use common::*;
use roomcast::transcript::pack::Region;
use roomcast::transcript::vad::Vad;

fn read_16k(path: &std::path::Path) -> Vec<f32> {
    let mut reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    reader.samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect()
}

fn vad() -> Vad {
    Vad::load(&shared().join("models/ggml-silero-v6.2.0.bin")).expect("the real Silero VAD loads")
}

#[test]
fn jfk_has_whisper_cpps_four_speech_segments() {
    let samples = read_16k(&shared().join("samples/jfk/jfk.wav"));
    let regions = vad().speech(&samples).unwrap();
    assert_eq!(regions.len(), 4, "whisper.cpp's own test expects 4 segments: {regions:?}");
    for pair in regions.windows(2) {
        assert!(pair[0].end <= pair[1].start, "ordered and apart: {regions:?}");
    }
    assert!(regions[0].start < 0.6 && regions[3].end > 10.0, "{regions:?}");
}

/// Frame-level (10 ms) F1 of detected regions against reference turns.
fn f1(detected: &[Region], reference: &[Region], seconds: f64) -> f64 {
    let frames = (seconds * 100.0) as usize;
    let mark = |regions: &[Region]| {
        let mut v = vec![false; frames];
        for r in regions {
            let (a, b) = ((r.start * 100.0) as usize, ((r.end * 100.0) as usize).min(frames));
            v[a.min(b)..b].fill(true);
        }
        v
    };
    let (d, r) = (mark(detected), mark(reference));
    let tp = d.iter().zip(&r).filter(|(a, b)| **a && **b).count() as f64;
    let (dp, rp) = (d.iter().filter(|x| **x).count() as f64, r.iter().filter(|x| **x).count() as f64);
    2.0 * tp / (dp + rp)
}

#[test]
fn per_speaker_tracks_from_a_real_call_give_each_speakers_turns() {
    // The pyannote sample: a real two-speaker call with reference turns. Each speaker's track is
    // the call with everything outside their turns silenced, as a per-speaker recording would be.
    let dir = shared().join("samples/pyannote_sample");
    let call = read_16k(&dir.join("sample.wav"));
    let rttm = std::fs::read_to_string(dir.join("sample.rttm")).unwrap();
    let mut turns: std::collections::BTreeMap<String, Vec<Region>> = Default::default();
    for line in rttm.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() != Some(&"SPEAKER") {
            continue;
        }
        let (start, len): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        turns.entry(f[7].to_string()).or_default().push(Region { start, end: start + len });
    }
    assert_eq!(turns.len(), 2);
    let mut vad = vad();
    for (speaker, reference) in &turns {
        let mut track = vec![0.0f32; call.len()];
        for r in reference {
            let (a, b) = ((r.start * 16_000.0) as usize, ((r.end * 16_000.0) as usize).min(call.len()));
            track[a..b].copy_from_slice(&call[a..b]);
        }
        let detected = vad.speech(&track).unwrap();
        let score = f1(&detected, reference, call.len() as f64 / 16_000.0);
        eprintln!("{speaker}: {} turns, {} regions, F1 {score:.3}", reference.len(), detected.len());
        assert!(score >= 0.9, "{speaker}: frame-level F1 {score:.3} < 0.9");
    }
}

#[test]
fn jfk_through_a_packed_window_comes_back_as_his_words_at_his_times() {
    use roomcast::transcript::align::{Envelope, to_room};
    use roomcast::transcript::pack::{PackOptions, pack};
    use roomcast::transcript::whisper::Engine;
    // The real tiny.en: JFK's 11 s, found by VAD, packed into one window (its four regions with
    // silences between), transcribed, and put back on the clip's clock.
    let engine = Engine::load(&shared().join("models/ggml-tiny.en.bin"), 2).expect("tiny.en loads");
    let samples = read_16k(&shared().join("samples/jfk/jfk.wav"));
    let regions = vad().speech(&samples).unwrap();
    let windows = pack(&regions, &PackOptions { room_end: samples.len() as f64 / 16_000.0, ..Default::default() });
    assert_eq!(windows.len(), 1, "11 s of speech fit one window");
    let gap = vec![0.0; 4_800];
    let mut audio = Vec::new();
    for (i, p) in windows[0].pieces.iter().enumerate() {
        if i > 0 {
            audio.extend_from_slice(&gap);
        }
        let (a, b) = ((p.room_start * 16_000.0) as usize, ((p.room_start + p.len) * 16_000.0) as usize);
        audio.extend_from_slice(&samples[a..b.min(samples.len())]);
    }
    let result = engine.run(&audio, Some("en")).expect("whisper runs");
    let envelope = Envelope::new(&audio, 16_000);
    let segments = to_room(&windows[0], 0.0, &result.segments, &envelope, &("jfk".into(), "JFK".into()));
    let text: String = segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
    assert!(text.contains("ask not what your country can do for you"), "{text}");
    let words: Vec<&roomcast::transcript::Word> = segments.iter().flat_map(|s| &s.words).collect();
    // Word times on the clip's clock, in order, none of zero length. "And" starts at 0.3 s and
    // "country." ends at 10.6 s in the clip (its waveform).
    for pair in words.windows(2) {
        assert!(pair[0].start < pair[1].start && pair[0].end <= pair[1].start + 1e-9, "{pair:?}");
    }
    assert!(words.iter().all(|w| w.end > w.start), "{words:?}");
    let (first, last) = (words[0], words[words.len() - 1]);
    assert!((first.start - 0.3).abs() < 0.15, "'{}' starts at {}", first.text, first.start);
    assert!(last.text.starts_with("country") && (last.end - 10.6).abs() < 0.3, "'{}' ends at {}", last.text, last.end);
}

#[test]
fn the_stand_in_models_load_and_run_without_weights() {
    use roomcast::transcript::whisper::Engine;
    // whisper.cpp's stand-ins: the real file format with no weights, for the load path only.
    for file in ["for-tests-ggml-tiny.en.bin", "for-tests-ggml-tiny.bin"] {
        let engine = Engine::load(&shared().join("models").join(file), 1).expect("stand-in loads");
        engine.run(&vec![0.0; 16_000], Some("en")).expect("runs");
    }
}

#[test]
fn a_missing_or_broken_model_is_a_clear_error() {
    use roomcast::transcript::whisper::Engine;
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("ggml-broken.bin");
    std::fs::write(&broken, b"not a model").unwrap();
    let e = Engine::load(&broken, 1).err().expect("refused").to_string();
    assert!(e.contains("ggml-broken.bin") && e.contains("cannot load"), "{e}");
}

#[test]
fn speech_found_chunk_by_chunk_matches_speech_found_in_one_piece() {
    use roomcast::transcript::speech;
    // jfk.wav as a session track (Ogg Opus on the room clock), as transcribe reads it.
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("jfk");
    let wav = shared().join("samples/jfk/jfk.wav");
    ok(roomcast(&["import", "--speaker", &format!("JFK={}", wav.display()), "--out", session.to_str().unwrap()]));
    let track = session.join("tracks/jfk.opus");
    let (whole, audio) = speech::find(&track, &mut vad(), 0.15, speech::CHUNK).unwrap();
    // 2 s chunks cut the speech in several places; regions meeting at a cut are joined again.
    let (chunked, _) = speech::find(&track, &mut vad(), 0.15, 32_000).unwrap();
    assert_eq!(whole.len(), 4, "whisper.cpp's 4 segments: {whole:?}");
    let total = |r: &[roomcast::transcript::pack::Region]| r.iter().map(|r| r.end - r.start).sum::<f64>();
    assert!((total(&whole) - total(&chunked)).abs() < 0.6, "{whole:?}\n{chunked:?}");
    assert!(chunked.len() <= whole.len() + 2, "{chunked:?}");
    // Only the speech (and a margin) is kept: less than the 11 s of audio, and every region's
    // samples are there.
    assert!(audio.bytes() < 11 * 16_000 * 2, "{} bytes", audio.bytes());
    let mut out = Vec::new();
    let r = whole[0];
    audio.read((r.start * 16_000.0) as usize, (r.end * 16_000.0) as usize, &mut out);
    let rms = (out.iter().map(|s| s * s).sum::<f32>() / out.len() as f32).sqrt();
    assert!(rms > 0.01, "speech kept, not silence: rms {rms}");
}

#[test]
fn speech_is_found_from_its_first_sound_wherever_the_vads_pass_starts() {
    use roomcast::transcript::speech;
    // "It must be remembered": a soft first word. The VAD examines a track a chunk at a time and
    // skips digital silence, so speech can begin right where it starts listening: at the track's
    // first sample, after skipped silence, at a chunk boundary. whisper.cpp's Silero starts each
    // pass with a cleared state and, heard cold, found this speech 0.2-0.4 s late: "It" was cut
    // off before whisper heard it.
    let clip = ffmpeg_decode(&shared().join("samples/ljspeech/LJ001-0099.wav"));
    // Where the clip's sound starts: the first 10 ms within 45 dB of its loudest (rooms.py's).
    let frames: Vec<f32> = clip.chunks(RATE as usize / 100).map(|c| c.iter().map(|s| s * s).sum::<f32>()).collect();
    let loudest = frames.iter().cloned().fold(0.0, f32::max);
    let sound = frames.iter().position(|&e| e > loudest * 10f32.powf(-4.5)).unwrap() as f64 / 100.0;
    let mut seed = 11u64;
    let mut tone = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                ((seed >> 33) as f64 / (1u64 << 31) as f64 - 0.5) as f32 * 0.004
            })
            .collect()
    };
    let over = |lead: Vec<f32>, gain: f32, tone: Vec<f32>| -> Vec<f32> {
        let mut track = lead;
        track.extend(clip.iter().map(|s| s * gain));
        track.extend(vec![0.0; RATE as usize]);
        for (t, n) in track.iter_mut().zip(tone) {
            *t += n;
        }
        track
    };
    // Room tone for the longest track: the clip, a lead of up to 2 s and a second after it.
    let n = clip.len() + 3 * RATE as usize;
    let cases: [(&str, Vec<f32>, f64, usize); 3] = [
        (
            "at the track's first sample, 6 dB quieter over room tone",
            over(Vec::new(), 0.5, tone(n)),
            0.0,
            speech::CHUNK,
        ),
        (
            "after 2 s of digital silence, 6 dB quieter",
            over(vec![0.0; 2 * RATE as usize], 0.5, Vec::new()),
            2.0,
            speech::CHUNK,
        ),
        ("at a chunk boundary, over room tone", over(vec![0.0; 2 * RATE as usize], 0.5, tone(n)), 2.0, 32_000),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (case, samples, at, chunk)) in cases.into_iter().enumerate() {
        let wav = dir.path().join(format!("ana{i}.wav"));
        write_wav(&wav, RATE, &samples);
        let session = dir.path().join(format!("room{i}"));
        ok(roomcast(&["import", "--speaker", &format!("Ana={}", wav.display()), "--out", session.to_str().unwrap()]));
        let (regions, _) = speech::find(&session.join("tracks/ana.opus"), &mut vad(), 0.15, chunk).unwrap();
        let first = regions.first().unwrap_or_else(|| panic!("{case}: no speech found"));
        let starts = at + sound;
        // Silero's regions begin 30 ms before the speech it hears.
        assert!(
            (first.start - starts).abs() <= 0.05,
            "{case}: speech starts at {starts:.2} s, found from {:.2} s ({regions:?})",
            first.start
        );
    }
}
