# docs/mdmath.awk — Doxygen input filter for the Markdown pages (see
# docs/Doxyfile): GitHub-style math to Doxygen formulas.
#
#   $$ ... $$      a display formula (\f[ ... \f]): the $$ may stand alone on
#                  their lines or open and close it on the formula's own
#                  lines, which may be several
#   $...$ on one line   an inline formula (\f$ ... \f$)
#
# Fenced code blocks and `code spans` are left alone; "\$" is a literal $.
/^[[:space:]]*(```|~~~)/ && !display { fence = !fence; print; next }
fence { print; next }
{
    out = ""; code = 0; math = 0; n = length($0)
    for (i = 1; i <= n; i++) {
        c = substr($0, i, 1); d = substr($0, i + 1, 1)
        if (display) {
            if (c == "$" && d == "$") { out = out "\\f]"; display = 0; i++; continue }
            out = out c; continue
        }
        if (c == "\\" && d == "$" && !code) { out = out "$"; i++; continue }
        if (c == "`" && !math) code = !code
        if (c == "$" && !code) {
            if (!math && d == "$") { out = out "\\f["; display = 1; i++; continue }
            out = out "\\f$"; math = !math; continue
        }
        out = out c
    }
    print out
}
