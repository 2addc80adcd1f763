# Sourced by the other scripts: checks for the programs roomcast needs and installs the missing
# ones with apt-get when it can (root, or password-less sudo), or says exactly what to install.
#
#   need_tools build        compilers, cmake and libclang: libopus, LAME and whisper.cpp are built from
#                           source by cargo
#   need_tools test         + ffmpeg/ffprobe and opus-tools (opusinfo, opusenc), the independent checkers,
#                           Janus (the real room server the live tests record from), iproute2 (a veth
#                           for the WebRTC test), GStreamer (a second real RTP sender), and chromium
#                           with node/npm (the browser test drives it with playwright-core from npm)
#   need_tools samples      + espeak-ng and sox, to regenerate samples/ (not needed to run anything)
#   need_tools bench        + ripgrep (what the search benchmark compares with) and an English word
#                           list (its synthetic library's vocabulary)

# command -> Debian package
declare -A ROOMCAST_PKG=(
    [cc]=gcc [c++]=g++ [make]=make [cmake]=cmake [pkg-config]=pkg-config
    [ffmpeg]=ffmpeg [ffprobe]=ffmpeg [opusinfo]=opus-tools [opusenc]=opus-tools
    [espeak-ng]=espeak-ng [sox]=sox [janus]=janus [ip]=iproute2 [rg]=ripgrep
    [chromium]=chromium [node]=nodejs [npm]=npm
    [gst-launch-1.0]="gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good"
)

need_tools() {
    local cmds=(cc c++ make cmake pkg-config)
    case "${1:-build}" in
        test) cmds+=(ffmpeg ffprobe opusinfo opusenc janus ip gst-launch-1.0 chromium node npm) ;;
        samples) cmds+=(ffmpeg opusenc espeak-ng sox) ;;
        bench) cmds+=(ffmpeg ffprobe opusinfo opusenc rg) ;;
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
    if ! compgen -G "/usr/lib/llvm-*/lib/libclang*.so*" >/dev/null && ! compgen -G "/usr/lib/*/libclang*.so*" >/dev/null; then
        missing+=(libclang)
        pkgs+=(libclang-dev)
    fi
    if [[ ${1:-build} == bench && ! -f /usr/share/dict/words ]]; then
        missing+=(/usr/share/dict/words)
        pkgs+=(wamerican)
    fi
    if [[ ${1:-build} == test ]] && ! python3 -c 'import webvtt, srt' >/dev/null 2>&1; then
        # Independent parsers for the transcript exports (PyPI: webvtt-py, srt).
        echo "roomcast: installing the Python packages webvtt-py and srt (transcript format checks)" >&2
        python3 -m pip install --quiet webvtt-py srt >&2 || {
            echo "roomcast: could not install webvtt-py and srt; run: python3 -m pip install webvtt-py srt" >&2
            return 1
        }
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

