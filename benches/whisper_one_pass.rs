//! Whisper over one file in one pass, the way whisper.cpp's own CLI runs it (greedy, its default
//! context and thresholds), through whisper-rs: the baseline a mixed-down recording gets. Used by
//! benches/transcript_quality.sh.
//!
//!   whisper_one_pass MODEL AUDIO_16K_MONO.wav THREADS   -> the text on stdout

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, wav, threads] = args.as_slice() else {
        eprintln!("usage: whisper_one_pass MODEL AUDIO_16K_MONO.wav THREADS");
        std::process::exit(2);
    };
    whisper_rs::install_logging_hooks();
    let mut reader = hound::WavReader::open(wav).expect("a 16 kHz mono 16-bit WAV");
    assert_eq!((reader.spec().sample_rate, reader.spec().channels), (16_000, 1), "{wav}: 16 kHz mono");
    let audio: Vec<f32> = reader.samples::<i16>().map(|s| s.expect("sample") as f32 / 32768.0).collect();
    let ctx = WhisperContext::new_with_params(model, WhisperContextParameters::default()).expect("model");
    let mut state = ctx.create_state().expect("state");
    let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    params.set_n_threads(threads.parse().expect("threads"));
    params.set_language(Some("en"));
    params.set_print_progress(false);
    params.set_print_realtime(false);
    state.full(params, &audio).expect("whisper");
    let text: Vec<String> = state.as_iter().map(|s| s.to_str_lossy().unwrap().into_owned()).collect();
    println!("{}", text.join(" "));
}
