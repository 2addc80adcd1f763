//! Running whisper (whisper.cpp through whisper-rs) on one packed window, and turning what it says
//! (segments and tokens with centisecond times relative to the window) into words on the room clock.

use std::path::Path;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

use super::pack::Window;
use super::{Segment, Word};

#[derive(Debug, thiserror::Error)]
pub enum WhisperFailure {
    #[error("{path}: cannot load the whisper model: {reason}")]
    Load { path: String, reason: String },
    #[error("whisper failed: {0}")]
    Run(String),
}

/// A token as whisper gave it: times in centiseconds from the start of the window.
#[derive(Debug, Clone, PartialEq)]
pub struct RawToken {
    pub t0: i64,
    pub t1: i64,
    pub text: String,
    pub probability: f32,
}

/// A segment as whisper gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSegment {
    pub t0: i64,
    pub t1: i64,
    pub text: String,
    pub tokens: Vec<RawToken>,
}

#[derive(Debug, Clone, Default)]
pub struct WindowResult {
    pub segments: Vec<RawSegment>,
    /// The language whisper used (detected when asked to).
    pub language: Option<String>,
}

pub struct Engine {
    ctx: WhisperContext,
    threads: i32,
}

impl Engine {
    pub fn load(model: &Path, threads: i32) -> Result<Self, WhisperFailure> {
        whisper_rs::install_logging_hooks();
        let path = model.to_string_lossy().into_owned();
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        let ctx = WhisperContext::new_with_params(&path, params)
            .map_err(|e| WhisperFailure::Load { path: path.clone(), reason: e.to_string() })?;
        Ok(Engine { ctx, threads: threads.max(1) })
    }

    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// The language spoken in `audio` (16 kHz mono, up to 30 s): whisper's language detection
    /// (one encoder pass). An English-only model can only hear English.
    pub fn detect_language(&self, audio: &[f32]) -> Result<String, WhisperFailure> {
        if !self.is_multilingual() {
            return Ok("en".to_string());
        }
        let run_err = |e: whisper_rs::WhisperError| WhisperFailure::Run(e.to_string());
        let mut state = self.ctx.create_state().map_err(run_err)?;
        state.pcm_to_mel(audio, self.threads as usize).map_err(run_err)?;
        let (id, _) = state.lang_detect(0, self.threads as usize).map_err(run_err)?;
        whisper_rs::get_lang_str(id)
            .map(str::to_string)
            .ok_or_else(|| WhisperFailure::Run(format!("language detection gave no language (id {id})")))
    }

    /// Transcribes one window of 16 kHz mono audio. `language`: a code ("en", "de") or `None` to
    /// detect it.
    pub fn run(&self, audio: &[f32], language: Option<&str>) -> Result<WindowResult, WhisperFailure> {
        let run_err = |e: whisper_rs::WhisperError| WhisperFailure::Run(e.to_string());
        let mut state = self.ctx.create_state().map_err(run_err)?;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(self.threads);
        params.set_token_timestamps(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        // Windows are independent stretches of speech: no context carried between them.
        params.set_no_context(true);
        match language {
            Some(code) => params.set_language(Some(code)),
            None => {
                params.set_language(Some("auto"));
                params.set_detect_language(false);
            }
        }
        state.full(params, audio).map_err(run_err)?;
        let eot = self.ctx.token_eot();
        let mut segments = Vec::new();
        for segment in state.as_iter() {
            let mut tokens = Vec::new();
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else { continue };
                // Special tokens (timestamps, end of text) are not words.
                if token.token_id() >= eot {
                    continue;
                }
                let data = token.token_data();
                tokens.push(RawToken {
                    t0: data.t0,
                    t1: data.t1,
                    text: token.to_str_lossy().map(|s| s.into_owned()).unwrap_or_default(),
                    probability: token.token_probability(),
                });
            }
            segments.push(RawSegment {
                t0: segment.start_timestamp(),
                t1: segment.end_timestamp(),
                text: segment.to_str_lossy().map(|s| s.into_owned()).unwrap_or_default(),
                tokens,
            });
        }
        let language = whisper_rs::get_lang_str(state.full_lang_id_from_state()).map(str::to_string);
        Ok(WindowResult { segments, language })
    }
}

/// Words from tokens: a token that starts with a space starts a word; the rest continue it.
fn words(tokens: &[RawToken], window: &Window) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    for t in tokens {
        let text = t.text.as_str();
        let (start, end) = (window.to_room(t.t0 as f64 / 100.0), window.to_room(t.t1 as f64 / 100.0));
        match out.last_mut() {
            Some(w) if !text.starts_with(' ') && !text.trim().is_empty() => {
                w.text.push_str(text);
                w.end = end.max(w.end);
                w.probability = w.probability.min(t.probability);
            }
            _ if text.trim().is_empty() => {}
            _ => out.push(Word {
                start,
                end: end.max(start),
                text: text.trim_start().to_string(),
                probability: t.probability,
            }),
        }
    }
    out
}

/// A speaker as the transcript names them: (id, display name).
pub type SpeakerName = (String, String);

/// Puts whisper's segments of one window on the room clock. A window can hold several speakers'
/// pieces: every token goes to the speaker of the piece it lies in, and a segment whose tokens
/// come from two speakers is split between them, so names stay exact.
pub fn to_room(window: &Window, raw: &[RawSegment], speakers: &[SpeakerName]) -> Vec<Segment> {
    let source_at = |cs: f64| window.locate(cs / 100.0).map_or(0, |(p, _)| p.source);
    let mut out = Vec::new();
    for s in raw.iter().filter(|s| !s.text.trim().is_empty()) {
        // Runs of tokens from one piece's speaker.
        let mut groups: Vec<(usize, Vec<RawToken>)> = Vec::new();
        for t in &s.tokens {
            let source = source_at((t.t0 + t.t1) as f64 / 2.0);
            match groups.last_mut() {
                Some((g, tokens)) if *g == source => tokens.push(t.clone()),
                _ => groups.push((source, vec![t.clone()])),
            }
        }
        if groups.is_empty() {
            groups.push((source_at((s.t0 + s.t1) as f64 / 2.0), Vec::new()));
        }
        let single = groups.len() == 1;
        for (source, tokens) in groups {
            let Some((id, name)) = speakers.get(source) else { continue };
            let words = words(&tokens, window);
            let (t0, t1) =
                if single || tokens.is_empty() { (s.t0, s.t1) } else { (tokens[0].t0, tokens[tokens.len() - 1].t1) };
            let start = window.to_room(t0 as f64 / 100.0);
            let end = window.to_room(t1 as f64 / 100.0).max(start);
            let text = if single {
                s.text.trim().to_string()
            } else {
                tokens.iter().map(|t| t.text.as_str()).collect::<String>().trim().to_string()
            };
            if text.is_empty() {
                continue;
            }
            out.push(Segment {
                speaker: id.clone(),
                name: name.clone(),
                start: words.first().map_or(start, |w| w.start.min(start.max(w.start))),
                end: words.last().map_or(end, |w| w.end.max(end.min(w.end))),
                text,
                words,
                overlap: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::pack::{PackOptions, Region, pack};

    fn token(t0: i64, t1: i64, text: &str) -> RawToken {
        RawToken { t0, t1, text: text.to_string(), probability: 0.8 }
    }

    #[test]
    fn times_in_a_window_of_several_regions_map_back_to_the_room() {
        // Two regions far apart in the room, packed into one window: 12.0-14.0 and 100.0-101.0,
        // padded by 0.2 s, so the window holds 11.8-14.2 at 0.0 and 99.8-101.2 at 2.7.
        let window = &pack(
            &[Region { start: 12.0, end: 14.0 }, Region { start: 100.0, end: 101.0 }],
            &PackOptions { pad: 0.2, ..Default::default() },
        )[0];
        let raw = vec![
            RawSegment {
                t0: 20,
                t1: 230,
                text: " Hello there.".into(),
                tokens: vec![token(20, 60, " Hel"), token(60, 90, "lo"), token(100, 230, " there.")],
            },
            RawSegment { t0: 290, t1: 390, text: " Bye.".into(), tokens: vec![token(290, 390, " Bye.")] },
        ];
        let segments = to_room(window, &raw, &[("maya".into(), "Maya".into())]);
        assert_eq!(segments.len(), 2);
        let words: Vec<(&str, f64, f64)> =
            segments[0].words.iter().map(|w| (w.text.as_str(), w.start, w.end)).collect();
        assert_eq!(words.len(), 2, "subword tokens joined into words: {words:?}");
        assert_eq!(words[0].0, "Hello");
        assert!((words[0].1 - 12.0).abs() < 1e-9 && (words[0].2 - 12.7).abs() < 1e-9, "{words:?}");
        assert!((words[1].2 - 14.1).abs() < 1e-9);
        // 2.9 s into the window is 0.2 s into the second piece: room 100.0.
        assert!(
            (segments[1].start - 100.0).abs() < 1e-9 && (segments[1].end - 101.0).abs() < 1e-9,
            "{:?}",
            segments[1]
        );
        assert_eq!((segments[1].name.as_str(), segments[1].text.as_str()), ("Maya", "Bye."));
    }

    #[test]
    fn a_window_shared_by_two_speakers_gives_each_their_own_words() {
        use crate::transcript::pack::pack_tracks;
        // Maya speaks 10-12 s, Theo 20-21 s: one window, Maya's piece at 0, Theo's after a silence.
        let tracks = vec![vec![Region { start: 10.0, end: 12.0 }], vec![Region { start: 20.0, end: 21.0 }]];
        let windows = pack_tracks(&tracks, &PackOptions { pad: 0.2, ..Default::default() });
        assert_eq!(windows.len(), 1);
        let theo_at = windows[0].pieces[1].at;
        let theo_cs = (theo_at * 100.0).round() as i64;
        // Whisper ran the two together into one segment.
        let raw = vec![RawSegment {
            t0: 0,
            t1: theo_cs + 100,
            text: " Over to you. Thanks.".into(),
            tokens: vec![
                token(30, 80, " Over"),
                token(80, 120, " to"),
                token(120, 200, " you."),
                token(theo_cs + 20, theo_cs + 90, " Thanks."),
            ],
        }];
        let speakers = [("maya".to_string(), "Maya".to_string()), ("theo".to_string(), "Theo".to_string())];
        let segments = to_room(&windows[0], &raw, &speakers);
        let got: Vec<(&str, &str)> = segments.iter().map(|s| (s.name.as_str(), s.text.as_str())).collect();
        assert_eq!(got, vec![("Maya", "Over to you."), ("Theo", "Thanks.")]);
        assert!((segments[1].words[0].start - 20.0).abs() < 1e-9, "Theo's word at his room time: {:?}", segments[1]);
    }
}
