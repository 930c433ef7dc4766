#!/usr/bin/env python3
"""Writes jobs/src/main/resources/sample/corpus.jsonl: the demo's retrieval corpus.

500 WordNet 3.0 noun synsets (Debian package wordnet-base, /usr/share/wordnet/data.noun; WordNet licence, free to
redistribute with its notice, written beside it as WORDNET-LICENSE) from the lexicographer files closest to the
sample's e-mails (acts, artifacts, cognition, communication, events, groups, possession) whose first lemma occurs
at least twice in the sample's texts (so the demo's events have related documents), each as one corpus record:
  {"type":"corpus","version":1,"doc_id":"wn-n02084071","op":"upsert","text":"dog, domestic dog: a member of ...",
   "attributes":{"lexfile":"noun.animal","source":"wordnet-3.0"}}
Deterministic (seeded); standard library only. Run: python3 jobs/scripts/make-sample-corpus.py
"""
import json
import os
import random

DATA = "/usr/share/wordnet/data.noun"
LEXFILES = {4: "noun.act", 6: "noun.artifact", 9: "noun.cognition", 10: "noun.communication", 11: "noun.event",
            14: "noun.group", 21: "noun.possession"}
COUNT = 500
SAMPLE_DIR = os.path.join(os.path.dirname(__file__), "..", "src", "main", "resources", "sample")
OUT = os.path.join(SAMPLE_DIR, "corpus.jsonl")
TEXTS = os.path.join(SAMPLE_DIR, "text-events.jsonl")


def sample_words():
    counts = {}
    with open(TEXTS, encoding="utf-8") as f:
        for line in f:
            try:
                text = json.loads(line).get("text")
            except ValueError:
                continue
            if isinstance(text, str):
                for w in "".join(c.lower() if c.isalnum() else " " for c in text).split():
                    counts[w] = counts.get(w, 0) + 1
    return counts


def synsets():
    with open(DATA, encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):
                continue  # licence header
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            offset, lexfile, words = fields[0], int(fields[1]), int(fields[3], 16)
            lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(words)]
            gloss = gloss.strip()
            if lexfile in LEXFILES and len(gloss) >= 40:
                yield offset, LEXFILES[lexfile], lemmas, gloss


def main():
    words = sample_words()
    pool = [s for s in synsets() if words.get(s[2][0].lower(), 0) >= 2]
    chosen = sorted(random.Random(12).sample(pool, COUNT))
    with open(OUT, "w", encoding="utf-8") as out:
        for offset, lexfile, lemmas, gloss in chosen:
            record = {"type": "corpus", "version": 1, "doc_id": "wn-n" + offset, "op": "upsert",
                      "text": ", ".join(dict.fromkeys(lemmas)) + ": " + gloss,
                      "attributes": {"lexfile": lexfile, "source": "wordnet-3.0"}}
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    with open(DATA, encoding="utf-8") as f, open(os.path.join(SAMPLE_DIR, "WORDNET-LICENSE"), "w") as lic:
        for line in f:
            if not line.startswith("  "):
                break
            lic.write(line[2:].split(" ", 1)[1].rstrip() + "\n" if " " in line[2:] else "\n")
    print(f"wrote {COUNT} of {len(pool)} synsets to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
