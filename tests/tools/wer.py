#!/usr/bin/env python3
"""Word error rate, scored the way whisper's authors score it: OpenAI's own English text normalizer
(from the openai-whisper package, loaded by path so torch is not needed) and jiwer for the
alignment. Independent of roomcast's own code.

stdin:  {"pairs": [{"ref": "...", "hyp": "..."}, ...]}
stdout: {"whisper": {"wer": ..., "errors": ..., "words": ...},   # whisper's English normalizer
         "plain":   {...},                                         # lowercased, punctuation removed
         "items":   [{"whisper": wer, "plain": wer, "first_word_lost": bool}, ...]}
first_word_lost: the alignment deletes the reference's first word.
WERs are corpus-level: all errors over all reference words.
"""
import importlib.util
import json
import os
import re
import sys

import jiwer


def whisper_normalizer():
    spec = importlib.util.find_spec("whisper")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("wer.py: the openai-whisper package is not installed (pip install --no-deps openai-whisper)")
    folder = os.path.join(list(spec.submodule_search_locations)[0], "normalizers")
    # Load whisper.normalizers as a package of its own: whisper/__init__.py imports torch.
    pkg = importlib.util.spec_from_file_location(
        "whisper_normalizers", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
    )
    module = importlib.util.module_from_spec(pkg)
    sys.modules["whisper_normalizers"] = module
    pkg.loader.exec_module(module)
    return module.EnglishTextNormalizer()


def plain(text):
    text = text.lower().replace("'", "")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def first_word_deleted(ref, hyp):
    """The alignment drops the reference's first word (a misheard first word is a substitution,
    not a loss)."""
    if not ref.split():
        return False
    if not hyp.split():
        return True
    chunks = jiwer.process_words(ref, hyp).alignments[0]
    return chunks[0].type == "delete" and chunks[0].ref_start_idx == 0


def score(refs, hyps):
    pairs = [(r, h) for r, h in zip(refs, hyps) if r.strip()]
    if not pairs:
        return {"wer": 0.0, "errors": 0, "words": 0}
    out = jiwer.process_words([r for r, _ in pairs], [h if h.strip() else "" for _, h in pairs])
    errors = out.substitutions + out.deletions + out.insertions
    words = out.substitutions + out.deletions + out.hits
    return {"wer": errors / words, "errors": errors, "words": words}


def main():
    data = json.load(sys.stdin)
    norm = whisper_normalizer()
    refs = [p["ref"] for p in data["pairs"]]
    hyps = [p["hyp"] for p in data["pairs"]]
    w_refs, w_hyps = [norm(r) for r in refs], [norm(h) for h in hyps]
    p_refs, p_hyps = [plain(r) for r in refs], [plain(h) for h in hyps]
    items = []
    for wr, wh, pr, ph in zip(w_refs, w_hyps, p_refs, p_hyps):
        items.append({
            "whisper": score([wr], [wh])["wer"],
            "plain": score([pr], [ph])["wer"],
            "first_word_lost": first_word_deleted(pr, ph),
        })
    print(json.dumps({"whisper": score(w_refs, w_hyps), "plain": score(p_refs, p_hyps), "items": items}))


if __name__ == "__main__":
    main()
