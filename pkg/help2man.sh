#!/bin/bash
# pkg/help2man.sh PROG VERSION < HELP > PROG.1
#
# A man page from a program's --help, which uweb's programs write in man
# page form: section titles in capitals at the left margin (NAME,
# SYNOPSIS, OPTIONS, ...), their text indented.  Each section becomes .SH
# with its text kept as laid out (.nf); NAME's line "prog - what" becomes
# the page's name line.  Help without a NAME section is kept whole under
# DESCRIPTION.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: pkg/help2man.sh PROG VERSION < HELP" >&2; exit 2; }
prog=$1 version=$2
upper=$(echo "$prog" | tr a-z A-Z)
# SOURCE_DATE_EPOCH keeps the page reproducible (the tree's last commit).
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%d)
echo ".TH \"$upper\" 1 \"$date\" \"uweb $version\" \"uweb manual\""
awk -v prog="$prog" '
function esc(s) {
    gsub(/\\/, "\\e", s)
    if (s ~ /^[.\x27]/) s = "\\&" s
    return s
}
BEGIN { insec = 0; sawname = 0; first = 1 }
/^[A-Z][A-Z0-9 ]*[A-Z0-9]$/ {
    if (insec == 2) print ".fi"
    sec = $0; print ".SH " sec; first = 0
    if (sec == "NAME") { insec = 1; sawname = 1 } else { insec = 2; print ".nf" }
    next
}
{
    if (first) {
        print ".SH NAME"; print prog " \\- a uweb program"
        print ".SH DESCRIPTION"; print ".nf"; insec = 2; first = 0
    }
    line = $0; sub(/^    /, "", line)
    if (insec == 1) {
        if (line ~ /^[ \t]*$/) next
        sub(/^[ \t]+/, "", line)
        line = esc(line); sub(/ - /, " \\- ", line)
        print line
        next
    }
    print esc(line)
}
END { if (insec == 2) print ".fi" }
'
