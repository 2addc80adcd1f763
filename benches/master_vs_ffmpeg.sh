#!/usr/bin/env bash
# benches/master_vs_ffmpeg.sh: mixing + mastering benchmark, roomcast vs. plain ffmpeg.
#
# What it does:
#   1. Builds (once, cached) a synthetic 4-speaker conversation of $MINUTES minutes from the public
#      speech clips in /work/shared and imports it into a roomcast session folder.
#   2. Times `roomcast mix` against the ffmpeg command line a user would write for the same job
#      (amix + two-pass loudnorm + libmp3lame), $RUNS times each, interleaved.
#   3. Measures both MP3s with the same independent meter (ffmpeg ebur128, true peak) and prints a
#      Markdown table, also written to $BENCH_DIR/master-results.md.
#
# Usage:   benches/master_vs_ffmpeg.sh                       (60 minutes, 3 runs)
#          MINUTES=2 RUNS=1 benches/master_vs_ffmpeg.sh      (quick smoke test)
# Env:     MINUTES   session length in minutes (default 60)
#          RUNS      timed runs per tool; the median is reported (default 3)
#          BENCH_DIR work/cache folder (default <repo>/bench-data, git-ignored)
#          ROOMCAST  roomcast binary (default <repo>/target/release/roomcast)
#          SAMPLES   folder holding ljspeech/ and librispeech_test_clean/ (default /work/shared/samples)
#
# Nothing from SAMPLES is copied into the repository: the generated audio lives in BENCH_DIR.

set -euo pipefail
export LC_ALL=C   # stable sorting and '.' as the decimal separator in awk/printf

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MINUTES=${MINUTES:-60}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-$REPO_ROOT/bench-data}
ROOMCAST=${ROOMCAST:-$REPO_ROOT/target/release/roomcast}
SAMPLES=${SAMPLES:-${ROOMCAST_SHARED:-$REPO_ROOT/../shared}/samples}

SR=16000                        # the per-speaker WAVs are 16 kHz mono, like a typical call recording
GAINS=(-3 -9 -6 -12)            # per-speaker levels in dB: different on purpose, so leveling matters
SEED=42                         # fixed seed: the same conversation on every machine and every run
TARGET_I=-16 TARGET_TP=-1 TARGET_LRA=11

die() { echo "error: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

[[ $MINUTES =~ ^[0-9]+([.][0-9]+)?$ ]] && awk -v m="$MINUTES" 'BEGIN{exit !(m > 0)}' \
    || die "MINUTES must be a positive number (got '$MINUTES')"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive integer (got '$RUNS')"

# --------------------------------------------------------------------------------------------------
# 0. Tools. Check everything up front and list all that is missing, rather than failing halfway
#    through a 60-minute generation.
# --------------------------------------------------------------------------------------------------
missing=()
for t in sox soxi ffmpeg ffprobe awk sort; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t (not on PATH)")
done
# GNU time, not the bash keyword: only it reports peak RSS (%M).
[[ -x /usr/bin/time ]] || missing+=("/usr/bin/time (GNU time; Debian/Ubuntu package 'time')")
if [[ ! -x $ROOMCAST ]]; then
    missing+=("roomcast binary at $ROOMCAST (build it with 'cargo build --release' or set ROOMCAST=)")
fi
if command -v ffmpeg >/dev/null 2>&1; then
    # (Captured first: 'grep -q' closing the pipe early would fail the pipeline under pipefail.)
    ff_encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null || true)
    ff_filters=$(ffmpeg -hide_banner -filters 2>/dev/null | awk '{print $2}' || true)
    grep -q ' libmp3lame ' <<<"$ff_encoders" || missing+=("ffmpeg built with libmp3lame")
    for f in amix loudnorm ebur128 astats pan aresample; do
        grep -qx "$f" <<<"$ff_filters" || missing+=("ffmpeg filter '$f'")
    done
    # amix's normalize option appeared in ffmpeg 4.4; without it the mix is divided by 4 (-12 dB).
    grep -q 'normalize' <<<"$(ffmpeg -hide_banner -h filter=amix 2>/dev/null || true)" \
        || missing+=("ffmpeg >= 4.4 (amix 'normalize' option)")
fi
clips=()
if [[ -d $SAMPLES ]]; then
    shopt -s nullglob
    clips=("$SAMPLES"/ljspeech/*.wav "$SAMPLES"/librispeech_test_clean/*.flac)
    shopt -u nullglob
fi
((${#clips[@]} >= 8)) || missing+=("speech clips in $SAMPLES/ljspeech/*.wav or $SAMPLES/librispeech_test_clean/*.flac (set SAMPLES=)")
if ((${#missing[@]})); then
    echo "error: missing prerequisites:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
fi

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
SESSION=$BENCH_DIR/session-${MINUTES}m
SPK_DIR=$BENCH_DIR/speakers-${MINUTES}m
OUT_DIR=$BENCH_DIR/out-${MINUTES}m

# --------------------------------------------------------------------------------------------------
# 1a. Speech clips: resample every source clip to 16 kHz mono 16-bit once, and record its exact
#     length in samples (the conversation is laid out in samples, so lengths must be exact).
#     -D disables sox's automatic dither everywhere: silence has to stay digital zero.
# --------------------------------------------------------------------------------------------------
CLIP_DIR=$BENCH_DIR/clips-16k
CLIP_LIST=$CLIP_DIR/clips.tsv
if [[ ! -s $CLIP_LIST ]]; then
    log "resampling ${#clips[@]} speech clips to 16 kHz into $CLIP_DIR"
    mkdir -p "$CLIP_DIR"
    tmp_list=$CLIP_LIST.tmp-$$
    : >"$tmp_list"
    # Sorted by file name so that the clip order (and thus the conversation) never depends on the
    # order the file system lists them in.
    for src in $(printf '%s\n' "${clips[@]}" | sort); do
        dst=$CLIP_DIR/$(basename "${src%.*}").wav
        sox -D "$src" -r $SR -c 1 -b 16 "$dst" rate -v $SR
        printf '%s\t%s\n' "$dst" "$(soxi -s "$dst")" >>"$tmp_list"
    done
    mv "$tmp_list" "$CLIP_LIST"
fi

# --------------------------------------------------------------------------------------------------
# 1b. The conversation. One awk program lays out all turns on a sample-exact timeline:
#     - speakers take turns (never the same speaker twice in a row); a turn is one or a few clips
#       from that speaker's own pool, 5-30 s long, with 0.15-0.5 s breaths between clips;
#     - 0.2-1.5 s pauses between turns, and ~12% of turns start 0.3-1.2 s early (a short overlap);
#     - each speaker is digital silence whenever they are not talking.
#     It uses its own Park-Miller generator instead of awk's rand(): rand() differs between mawk and
#     gawk, this does not, so the same seed gives the same conversation everywhere.
#     For each speaker it writes the clip list to concatenate and the silences to insert between
#     them (sox 'pad' arguments, LENGTHs@POSITIONs in input samples), so each speaker's file is
#     ONE sox call instead of hundreds.
# --------------------------------------------------------------------------------------------------
build_speakers() {
    local work=$SPK_DIR.tmp-$$
    rm -rf "$work" && mkdir -p "$work"
    awk -F'\t' -v seed=$SEED -v sr=$SR -v minutes="$MINUTES" -v work="$work" '
        function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
        function uni(a, b) { return a + (b - a) * rnd() }
        function secs(x) { return int(x * sr + 0.5) }
        { path[NR] = $1; len[NR] = $2 + 0 }
        END {
            nclips = NR
            # Pools: clip i goes to speaker (i mod 4)+1, so every speaker has their own material.
            for (i = 1; i <= nclips; i++) { s = (i - 1) % 4 + 1; pool[s, ++psize[s]] = i }
            # Session length. roomcast 0.1.0 import panics on a WAV whose length is not a multiple
            # of 1152 frames (symphonia WAV packet size; see the report), so round up to that.
            # 60 minutes at 16 kHz is already a multiple; 2 minutes gains 24 ms.
            total = secs(minutes * 60)
            total = int((total + 1151) / 1152) * 1152
            t = secs(uni(0.5, 1.5)); prev = 0; done = 0; nturns = 0
            while (!done && t < total - secs(1)) {
                s = int(rnd() * 3) + 1; if (s >= prev && prev) s++   # anyone but the last speaker
                if (prev == 0) s = int(rnd() * 4) + 1
                start = t > lastend[s] ? t : lastend[s]
                target = secs(uni(5, 30)); pos = start; n = 0
                while (pos - start < target) {
                    c = pool[s, int(rnd() * psize[s]) + 1]
                    gap = n ? secs(uni(0.15, 0.5)) : 0
                    if (n && pos + gap + len[c] - start > secs(30)) break     # cap the turn at 30 s
                    if (pos + gap + len[c] > total) { done = 1; break }       # session is full
                    pos += gap
                    k = ++nseg[s]; segclip[s, k] = c; segpos[s, k] = pos
                    pos += len[c]; n++
                }
                if (n == 0) break
                printf "%d\t%.3f\t%.3f\t%d\n", s, start / sr, pos / sr, n > (work "/turns.tsv")
                nturns++
                lastend[s] = pos; prev = s
                if (rnd() < 0.12) t = pos - secs(uni(0.3, 1.2))   # next speaker cuts in
                else              t = pos + secs(uni(0.2, 1.5))   # a pause
            }
            for (s = 1; s <= 4; s++) {
                inputs = work "/s" s ".inputs"; pads = work "/s" s ".pads"
                printf "" > inputs; printf "" > pads
                ic = 0; oc = 0       # cursors: input (concatenated clips) and output, in samples
                for (k = 1; k <= nseg[s]; k++) {
                    c = segclip[s, k]
                    if (segpos[s, k] > oc) printf "%ds@%ds\n", segpos[s, k] - oc, ic > pads
                    print path[c] > inputs
                    ic += len[c]; oc = segpos[s, k] + len[c]
                }
                if (total > oc) printf "%ds@%ds\n", total - oc, ic > pads
            }
            print total > (work "/total_samples")
            printf "%d turns, %.3f s\n", nturns, total / sr > "/dev/stderr"
        }' "$CLIP_LIST"

    local s inputs pads
    for s in 1 2 3 4; do
        mapfile -t inputs <"$work/s$s.inputs"
        mapfile -t pads <"$work/s$s.pads"
        if ((${#inputs[@]} == 0)); then
            # A speaker who never got a turn (only possible for very short sessions).
            sox -D -n -r $SR -c 1 -b 16 "$work/s$s.wav" trim 0 "$(cat "$work/total_samples")s"
        else
            sox -D "${inputs[@]}" -b 16 "$work/s$s.wav" gain "${GAINS[s - 1]}" pad "${pads[@]}"
        fi
    done
    # Every speaker file must have exactly the session's length.
    local want got
    want=$(cat "$work/total_samples")
    for s in 1 2 3 4; do
        got=$(soxi -s "$work/s$s.wav")
        [[ $got == "$want" ]] || die "speaker $s: $got samples, expected $want"
    done
    rm -rf "$SPK_DIR" && mv "$work" "$SPK_DIR"
}

if [[ ! -f $SESSION/room.json ]]; then
    if [[ ! -f $SPK_DIR/s4.wav ]]; then
        log "generating the ${MINUTES}-minute 4-speaker conversation in $SPK_DIR (seed $SEED)"
        build_speakers
    fi
    log "importing it into $SESSION"
    # Import into a temporary folder and rename, so an interrupted import is never mistaken for
    # a cached session (session folders use relative track paths, so renaming is safe).
    rm -rf "$SESSION.tmp-$$"
    "$ROOMCAST" import \
        --speaker S1="$SPK_DIR/s1.wav" --speaker S2="$SPK_DIR/s2.wav" \
        --speaker S3="$SPK_DIR/s3.wav" --speaker S4="$SPK_DIR/s4.wav" \
        --title "Benchmark room" --out "$SESSION.tmp-$$" --json >/dev/null
    mv "$SESSION.tmp-$$" "$SESSION"
else
    log "using the cached session $SESSION"
fi

shopt -s nullglob
tracks=("$SESSION"/tracks/*.opus)
shopt -u nullglob
((${#tracks[@]} == 4)) || die "expected 4 tracks in $SESSION/tracks, found ${#tracks[@]}"
SESSION_DUR=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "${tracks[0]}")
if command -v jq >/dev/null 2>&1; then
    SESSION_DUR=$(jq -r '.duration' "$SESSION/room.json")   # the room clock, when jq is available
fi

# --------------------------------------------------------------------------------------------------
# 2. The two contenders.
# --------------------------------------------------------------------------------------------------
RC_OUT=$OUT_DIR/roomcast
FF_OUT=$OUT_DIR/ffmpeg
mkdir -p "$RC_OUT" "$FF_OUT"

rc_cmd=("$ROOMCAST" mix "$SESSION" --format mp3 --out "$RC_OUT" --json)

# ffmpeg, the way a careful user would do it:
# - amix with normalize=0: by default amix divides every input by the number of inputs (4 -> -12 dB),
#   which is meant for music beds, not for summing speakers who talk in turn. dropout_transition=0
#   only matters when an input ends early (all tracks have the room's full length here).
# - loudnorm runs on the mono mix with dual_mono=true, so it measures the loudness the stereo file
#   will have (a mono signal on both channels is +3 LU louder than the same mono measured alone),
#   and the mix is duplicated to stereo afterwards: same result as upmixing first, half the work.
# - loudnorm upsamples to 192 kHz internally and outputs 192 kHz, so resample back to 48 kHz.
# - aformat=channel_layouts=mono pins the layout between aresample and pan; without it ffmpeg 5.1
#   fails to negotiate ("Cannot select channel layout ... Parsed_pan").
ff_inputs=()
for t in "${tracks[@]}"; do ff_inputs+=(-i "$t"); done
ff_mix="amix=inputs=4:normalize=0:dropout_transition=0"
ff_ln="loudnorm=I=$TARGET_I:TP=$TARGET_TP:LRA=$TARGET_LRA:dual_mono=true"
ff_tail="aresample=48000,aformat=channel_layouts=mono,pan=stereo|c0=c0|c1=c0"
ff_pass1=(ffmpeg -hide_banner -nostdin -nostats -y "${ff_inputs[@]}"
          -filter_complex "$ff_mix,$ff_ln:print_format=json" -f null -)
# Pass 2 can only be built once pass 1 has measured: sets the array ff_pass2.
set_ff_pass2() {  # $1 = measured_*=...:offset=... for loudnorm
    ff_pass2=(ffmpeg -hide_banner -nostdin -nostats -y "${ff_inputs[@]}"
              -filter_complex "$ff_mix,$ff_ln:$1:linear=true:print_format=summary,$ff_tail"
              -c:a libmp3lame -b:a 128k -compression_level 5 -ar 48000 "$FF_OUT/master.mp3")
}
# Reads one value of loudnorm's pass-1 JSON (stored in $json).
get() { printf '%s' "$json" | sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p"; }

# Runs a command under GNU time; prints "wall_s peak_rss_kb cpu_s". stdout/stderr go to $2/$3.
timed() {
    local out=$1 err=$2; shift 2
    local tf; tf=$(mktemp)
    if ! /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >"$out" 2>"$err"; then
        echo "error: command failed: $*" >&2
        tail -n 20 "$err" >&2
        rm -f "$tf"; exit 1
    fi
    awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$tf"
    rm -f "$tf"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# Warm the page cache so neither tool pays for the first cold read of the tracks.
cat "${tracks[@]}" >/dev/null

rc_wall=() rc_rss=() rc_cpu=() ff_wall=() ff_rss=() ff_cpu=()
for ((run = 1; run <= RUNS; run++)); do
    # Interleaved (roomcast, ffmpeg, roomcast, ...) so drift on a shared machine hits both alike.
    log "run $run/$RUNS: roomcast mix"
    rm -f "$RC_OUT"/master.*
    read -r w m c < <(timed "$RC_OUT/mix.json" "$RC_OUT/mix.stderr" "${rc_cmd[@]}")
    rc_wall+=("$w") rc_rss+=("$m") rc_cpu+=("$c")
    log "    ${w} s, $((m / 1024)) MB"

    log "run $run/$RUNS: ffmpeg amix + loudnorm pass 1 (measure)"
    rm -f "$FF_OUT"/master.*
    read -r w1 m1 c1 < <(timed /dev/null "$FF_OUT/pass1.log" "${ff_pass1[@]}")
    # loudnorm prints its JSON as the last {...} block on stderr.
    json=$(awk '/^\{/{b=""; on=1} on{b=b $0 "\n"} /^\}/{on=0} END{printf "%s", b}' "$FF_OUT/pass1.log")
    measured="measured_I=$(get input_i):measured_TP=$(get input_tp):measured_LRA=$(get input_lra)"
    measured+=":measured_thresh=$(get input_thresh):offset=$(get target_offset)"
    [[ $measured != *"=:"* && $measured != *"=" ]] || die "could not parse loudnorm pass 1 output ($FF_OUT/pass1.log)"
    ff_premix_i=$(get input_i)
    log "run $run/$RUNS: ffmpeg loudnorm pass 2 + MP3 ($measured)"
    set_ff_pass2 "$measured"
    read -r w2 m2 c2 < <(timed /dev/null "$FF_OUT/pass2.log" "${ff_pass2[@]}")
    w=$(awk -v a="$w1" -v b="$w2" 'BEGIN{printf "%.2f", a + b}')   # both passes are the job
    m=$((m1 > m2 ? m1 : m2))                                         # peak of either pass
    c=$(awk -v a="$c1" -v b="$c2" 'BEGIN{printf "%.2f", a + b}')
    ff_wall+=("$w") ff_rss+=("$m") ff_cpu+=("$c")
    log "    ${w} s (pass 1 ${w1} s + pass 2 ${w2} s), $((m / 1024)) MB"
done
ff_norm_type=$(sed -n 's/^Normalization Type: *//p' "$FF_OUT/pass2.log" | tail -n 1)

# --------------------------------------------------------------------------------------------------
# 3. Independent measurement of both MP3s: EBU R128 integrated loudness, LRA and true peak with
#    ffmpeg's ebur128, and the decoded length in samples (astats) against the session length.
# --------------------------------------------------------------------------------------------------
measure() {  # $1 = file; prints "I LRA TP samples"
    ffmpeg -hide_banner -nostdin -nostats -i "$1" \
        -af "ebur128=peak=true:framelog=verbose,astats=measure_perchannel=none:measure_overall=Number_of_samples" \
        -f null - 2>&1 | awk '
            /Summary:/ {s = 1}
            s && $1 == "I:" {i = $2}
            s && $1 == "LRA:" {lra = $2}
            s && $1 == "Peak:" {tp = $2}
            /Number of samples:/ {n = $NF}
            END {print i, lra, tp, n}'
}
rate=$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of csv=p=0 "$RC_OUT/master.mp3")
read -r rc_i rc_lra rc_tp rc_n < <(measure "$RC_OUT/master.mp3")
read -r ff_i ff_lra ff_tp ff_n < <(measure "$FF_OUT/master.mp3")
ff_rate=$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of csv=p=0 "$FF_OUT/master.mp3")
rc_ch=$(ffprobe -v error -select_streams a:0 -show_entries stream=channels -of csv=p=0 "$RC_OUT/master.mp3")
ff_ch=$(ffprobe -v error -select_streams a:0 -show_entries stream=channels -of csv=p=0 "$FF_OUT/master.mp3")
# roomcast's own claim about its MP3, for comparison with the independent meter.
rc_self=""
if command -v jq >/dev/null 2>&1; then
    rc_self=$(jq -r '.outputs[] | select(.format == "mp3") | .measured |
        "\(.integrated_lufs * 100 | round / 100) LUFS, \(.true_peak_dbtp * 100 | round / 100) dBTP"' \
        "$RC_OUT/mix.json" 2>/dev/null || true)
fi

# --------------------------------------------------------------------------------------------------
# 4. Report.
# --------------------------------------------------------------------------------------------------
row() {  # tool, walls, rss list, cpus, I, LRA, TP, samples, rate, channels
    local tool=$1 walls=$2 rsss=$3 cpus=$4 i=$5 lra=$6 tp=$7 n=$8 r=$9 ch=${10}
    local wall rss cpu
    wall=$(tr ' ' '\n' <<<"$walls" | median)
    cpu=$(tr ' ' '\n' <<<"$cpus" | median)
    rss=$(tr ' ' '\n' <<<"$rsss" | sort -n | tail -n 1)
    awk -v tool="$tool" -v wall="$wall" -v cpu="$cpu" -v rss="$rss" -v i="$i" -v lra="$lra" \
        -v tp="$tp" -v n="$n" -v r="$r" -v ch="$ch" -v sd="$SESSION_DUR" -v t="$TARGET_I" 'BEGIN {
        d = n / r; err = i - t; if (err < 0) err = -err
        printf "| %s | %.2f | %.2f | %.1f | %s | %.1f | %s | %s | %.3f s (%+.0f ms), %d ch |\n",
            tool, wall, cpu, rss / 1024, i, err, tp, lra, d, (d - sd) * 1000, ch }'
}
fmt_list() { local IFS=' '; echo "$*"; }

rc_wall_med=$(printf '%s\n' "${rc_wall[@]}" | median)
ff_wall_med=$(printf '%s\n' "${ff_wall[@]}" | median)
rc_rss_max=$(printf '%s\n' "${rc_rss[@]}" | sort -n | tail -n 1)
ff_rss_max=$(printf '%s\n' "${ff_rss[@]}" | sort -n | tail -n 1)

q() { printf '%q ' "$@"; }   # shell-quoted command lines, ready to copy-paste
report=$(
    cat <<EOF
## Mixing + mastering: roomcast vs. ffmpeg (${MINUTES}-minute, 4-speaker session)

- Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo), $(awk '/^MemTotal/{printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), $(uname -sr)
- Versions: $("$ROOMCAST" --version 2>/dev/null), $(ffmpeg -version | awk 'NR==1{print $1, $2, $3}')
- Benchmark: \`MINUTES=$MINUTES RUNS=$RUNS benches/master_vs_ffmpeg.sh\` (BENCH_DIR=$BENCH_DIR)
- Session: $SESSION (${SESSION_DUR} s, 4 Ogg Opus tracks, speakers at ${GAINS[*]} dB)
- Target: $TARGET_I LUFS integrated, $TARGET_TP dBTP true peak, 48 kHz stereo MP3 at 128 kbps

| tool | median wall s | median CPU s (user+sys) | peak RSS MB | integrated LUFS | \|error\| vs $TARGET_I LU | true peak dBTP | LRA LU | duration (vs session) |
|---|---|---|---|---|---|---|---|---|
$(row roomcast "$(fmt_list "${rc_wall[@]}")" "$(fmt_list "${rc_rss[@]}")" "$(fmt_list "${rc_cpu[@]}")" "$rc_i" "$rc_lra" "$rc_tp" "$rc_n" "$rate" "$rc_ch")
$(row "ffmpeg (2-pass loudnorm)" "$(fmt_list "${ff_wall[@]}")" "$(fmt_list "${ff_rss[@]}")" "$(fmt_list "${ff_cpu[@]}")" "$ff_i" "$ff_lra" "$ff_tp" "$ff_n" "$ff_rate" "$ff_ch")

- Speed: ffmpeg / roomcast wall time = $(awk -v a="$ff_wall_med" -v b="$rc_wall_med" 'BEGIN{printf "%.2f", a / b}')x (median of $RUNS run(s); all walls: roomcast $(fmt_list "${rc_wall[@]}") s, ffmpeg $(fmt_list "${ff_wall[@]}") s)
- Memory: roomcast $(awk -v m="$rc_rss_max" 'BEGIN{printf "%.1f", m / 1024}') MB, ffmpeg $(awk -v m="$ff_rss_max" 'BEGIN{printf "%.1f", m / 1024}') MB peak RSS (ffmpeg: max of its two passes)
- Loudness, true peak, LRA: ffmpeg ebur128 (peak=true) on the decoded MP3s; duration: decoded samples (astats) / sample rate.
- roomcast's own measurement of its MP3 (master.json): ${rc_self:-n/a (needs jq)}
- ffmpeg: amix input (pre-loudnorm) integrated loudness ${ff_premix_i} LUFS (as dual-mono); loudnorm pass 2 normalization type: ${ff_norm_type:-unknown}

Commands (timed with \`/usr/bin/time -f '%e %M %U %S'\`):

\`\`\`sh
# roomcast
$(q "${rc_cmd[@]}")
# ffmpeg pass 1 (measure)
$(q "${ff_pass1[@]}")
# ffmpeg pass 2 (normalize + encode), with the values pass 1 measured
$(q "${ff_pass2[@]}")
\`\`\`
EOF
)
echo
echo "$report"
echo "$report" >"$BENCH_DIR/master-results.md"
log "written to $BENCH_DIR/master-results.md"
