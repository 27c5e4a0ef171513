#!/usr/bin/env python3
"""Generates the Unicode tables of src/zip/unicode.c (NFC and simple case
folding for entry names) from the Unicode Character Database.

Usage: unicode_tables.py UCD_DIR OUT.h

UCD_DIR holds UnicodeData.txt, CaseFolding.txt, CompositionExclusions.txt
and DerivedNormalizationProps.txt (Debian's unicode-data package:
/usr/share/unicode).  The output is a C header of static const tables:

  canonical combining classes   runs of up to 8 code points of the same
                                 non-zero class, one uint32 each
                                 (start << 11 | (length - 1) << 8 | class)
  canonical decompositions      one uint64 per code point that has one
                                 (cp << 42 | first << 21 | second), sorted;
                                 decomposed recursively at run time
  primary composites            uint16 indexes into the decompositions,
                                 sorted by (first, second)
  simple case folding (C + S)   runs of code points with the same delta
                                 and a stride of 1 or 2, one uint64 each
  not quick                      ranges of the code points a string in NFC
                                 cannot hold as they are (NFC_Quick_Check
                                 No or Maybe, or a non-zero class), one
                                 uint32 each (start << 11 | (length - 1))
  special                        ranges of the code points that decompose,
                                 fold or have a non-zero class (the others
                                 are their own key), in the same form

Hangul syllables are not in the tables (unicode.c computes them).  The
script checks the assumptions unicode.c makes and fails when a new
version of Unicode breaks one.
"""
import os
import sys


def fail(msg):
    sys.exit(f"unicode_tables.py: {msg}")


def parse_ranges(path, prop):
    """Code points listed with property prop in a UCD property file."""
    out = set()
    for line in open(path, encoding="utf-8"):
        line = line.split("#")[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(";")]
        if fields[1] != prop:
            continue
        lo, _, hi = fields[0].partition("..")
        out.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return out


def main():
    if len(sys.argv) != 3:
        fail("usage: unicode_tables.py UCD_DIR OUT.h")
    ucd, out_path = sys.argv[1], sys.argv[2]
    ccc, decomp = {}, {}
    for line in open(os.path.join(ucd, "UnicodeData.txt"), encoding="utf-8"):
        f = line.split(";")
        cp = int(f[0], 16)
        if int(f[3]):
            ccc[cp] = int(f[3])
        if f[5] and not f[5].startswith("<"):
            decomp[cp] = [int(x, 16) for x in f[5].split()]
    fold = {}
    for line in open(os.path.join(ucd, "CaseFolding.txt"), encoding="utf-8"):
        line = line.split("#")[0].strip()
        if not line:
            continue
        code, status, mapping = [x.strip() for x in line.split(";")[:3]]
        if status in ("C", "S"):
            fold[int(code, 16)] = int(mapping, 16)
    exclusions = set()
    for line in open(os.path.join(ucd, "CompositionExclusions.txt"), encoding="utf-8"):
        line = line.split("#")[0].strip()
        if line:
            exclusions.add(int(line, 16))
    dnp = os.path.join(ucd, "DerivedNormalizationProps.txt")
    full_exclusion = parse_ranges(dnp, "Full_Composition_Exclusion")
    version = open(dnp, encoding="utf-8").readline().strip("# \n").replace("DerivedNormalizationProps-", "").replace(".txt", "")

    # Full_Composition_Exclusion = the listed exclusions, singletons and
    # non-starter decompositions: derive it and compare.
    derived = set(exclusions)
    for cp, d in decomp.items():
        if len(d) == 1 or ccc.get(cp, 0) or ccc.get(d[0], 0):
            derived.add(cp)
    if derived != full_exclusion:
        fail("Full_Composition_Exclusion differs from what CompositionExclusions.txt implies")

    def full(cp):
        return [y for x in decomp[cp] for y in full(x)] if cp in decomp else [cp]

    def utf8_len(cp):
        return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4

    # What unicode.c relies on.
    hangul = range(0xAC00, 0xAC00 + 11172)
    if any(cp in decomp for cp in hangul):
        fail("Hangul syllables are in UnicodeData.txt's decompositions")
    if min(decomp) < 0xC0:
        fail("a decomposition below U+00C0")
    for cp in sorted(set(decomp) | set(fold)):  # the others map to themselves
        f = fold.get(cp, cp)
        if cp not in decomp and f in decomp:
            fail(f"U+{cp:04X} does not decompose but its folding does (keys fold in place)")
        key = [y for x in full(cp) for y in full(fold.get(x, x))]
        n = max(len(full(cp)), len(key))
        if 2 * n > 3 * utf8_len(cp):
            fail(f"U+{cp:04X} expands to {n} code points: more than 3 per 2 bytes of UTF-8")
        if cp > 0x7F and (set(full(cp)) | {f}) & {0x2E, 0x2F, 0x5C}:
            fail(f"U+{cp:04X} becomes '.', '/' or '\\'")
        if cp >= 0x20 and any(x < 0x20 or x == 0x7F for x in full(cp) + [f]):
            fail(f"U+{cp:04X} becomes a control character")
    if max(len(full(cp)) for cp in decomp) > 4:
        fail("a full decomposition longer than 4")

    # Combining classes: runs of up to 8 code points of the same class.
    ccc_words = []
    for cp in sorted(ccc):
        if ccc_words:
            w = ccc_words[-1]
            start, n, c = w >> 11, ((w >> 8) & 7) + 1, w & 0xFF
            if start + n == cp and c == ccc[cp] and n < 8:
                ccc_words[-1] = (start << 11) | (n << 8) | c
                continue
        ccc_words.append((cp << 11) | ccc[cp])
    if min(ccc) < 0x300:
        fail("a combining class below U+0300")

    # Decompositions and primary composites.
    dec = sorted(decomp)
    dec_words = [(cp << 42) | (decomp[cp][0] << 21) | (decomp[cp][1] if len(decomp[cp]) > 1 else 0) for cp in dec]
    comp = sorted((i for i, cp in enumerate(dec) if len(decomp[cp]) == 2 and cp not in full_exclusion),
                  key=lambda i: (decomp[dec[i]][0], decomp[dec[i]][1]))
    if len(dec) > 65535:
        fail("too many decompositions for uint16 indexes")
    second_min = min(decomp[dec[i]][1] for i in comp)

    # Simple case folding: runs (start, count, stride, delta).
    runs = []
    for cp in sorted(fold):
        delta = fold[cp] - cp
        if runs:
            start, count, stride, d = runs[-1]
            last = start + (count - 1) * stride
            gap = cp - last
            if d == delta and count < 1024 and (
                    (count > 1 and gap == stride) or
                    (count == 1 and gap in (1, 2))) and (gap == 1 or last + 1 not in fold):
                runs[-1] = (start, count + 1, gap, d)
                continue
        runs.append((cp, 1, 1, delta))
    fold_words = [(s << 43) | ((n - 1) << 33) | ((st - 1) << 32) | (d & 0xFFFFFFFF) for s, n, st, d in runs]
    for (s, n, st, d) in runs:  # round trip
        for k in range(n):
            if fold.get(s + k * st) != s + k * st + d:
                fail("case folding runs do not reproduce CaseFolding.txt")

    def range_words(cps):
        words = []
        for cp in sorted(cps):
            if words:
                start, n = words[-1] >> 11, (words[-1] & 0x7FF) + 1
                if start + n == cp and n < 2048:
                    words[-1] = (start << 11) | n
                    continue
            words.append(cp << 11)
        return words

    quick_check = parse_ranges(dnp, "NFC_QC")  # the file lists N and M only
    not_quick = range_words(quick_check | set(ccc))
    special = range_words(set(decomp) | set(fold) | set(ccc))
    if min(quick_check | set(ccc)) < 0x300 or min(set(decomp) | set(fold) | set(ccc)) < 0x41:
        fail("unicode.c's fast paths assume nothing special below U+0300 (U+0041 for keys)")

    sizes = {
        "combining classes": 4 * len(ccc_words),
        "decompositions": 8 * len(dec_words),
        "composites": 2 * len(comp),
        "folding": 8 * len(fold_words),
        "not quick": 4 * len(not_quick),
        "special": 4 * len(special),
    }
    with open(out_path + ".tmp", "w") as o:
        w = o.write
        w(f"/* Generated by src/zip/unicode_tables.py from Unicode {version}; do not edit.\n")
        w(" * Sizes: " + ", ".join(f"{k} {v} bytes" for k, v in sizes.items()) +
          f"; {sum(sizes.values())} in all. */\n")
        w("#include <stdint.h>\n\n")
        w(f'#define UNI_VERSION "{version}"\n')
        w(f"#define UNI_TABLE_BYTES {sum(sizes.values())}\n")
        w("#define UNI_EXPAND_NUM 3   /* a code point expands to at most 3 per 2 bytes of its UTF-8 */\n")
        w("#define UNI_EXPAND_DEN 2\n")
        w(f"#define UNI_CCC_FIRST 0x{min(ccc):X}\n#define UNI_CCC_COUNT {len(ccc_words)}\n")
        w(f"#define UNI_DECOMP_FIRST 0x{dec[0]:X}\n#define UNI_DECOMP_COUNT {len(dec)}\n")
        w(f"#define UNI_COMP_SECOND_MIN 0x{second_min:X}\n#define UNI_COMP_COUNT {len(comp)}\n")
        w(f"#define UNI_FOLD_COUNT {len(fold_words)}\n")
        w(f"#define UNI_NOT_QUICK_COUNT {len(not_quick)}\n#define UNI_SPECIAL_COUNT {len(special)}\n\n")

        def array(ctype, name, values, per_line, fmt):
            w(f"static const {ctype} {name}[{len(values)}] = {{\n")
            for i in range(0, len(values), per_line):
                w("    " + ", ".join(fmt(v) for v in values[i:i + per_line]) + ",\n")
            w("};\n\n")

        array("uint32_t", "uni_ccc", ccc_words, 6, lambda v: f"0x{v:08X}u")
        array("uint64_t", "uni_decomp", dec_words, 3, lambda v: f"0x{v:016X}u")
        array("uint16_t", "uni_comp", comp, 12, str)
        array("uint64_t", "uni_fold", fold_words, 3, lambda v: f"0x{v:016X}u")
        array("uint32_t", "uni_not_quick", not_quick, 6, lambda v: f"0x{v:08X}u")
        array("uint32_t", "uni_special", special, 6, lambda v: f"0x{v:08X}u")
    os.replace(out_path + ".tmp", out_path)


if __name__ == "__main__":
    main()
