# docs/mdmath.awk — Doxygen input filter for the Markdown pages (see
# docs/Doxyfile): GitHub-style math to Doxygen formulas.
#
#   a line that is exactly "$$"   opens / closes a display formula (\f[ \f])
#   $...$ on one line             an inline formula (\f$ ... \f$)
#
# Fenced code blocks and `code spans` are left alone; "\$" is a literal $.
/^[[:space:]]*(```|~~~)/ { fence = !fence; print; next }
fence { print; next }
/^[[:space:]]*\$\$[[:space:]]*$/ {
    sub(/\$\$/, display ? "\\f]" : "\\f["); display = !display; print; next
}
display { print; next }
{
    out = ""; code = 0; math = 0; n = length($0)
    for (i = 1; i <= n; i++) {
        c = substr($0, i, 1)
        if (c == "\\" && substr($0, i + 1, 1) == "$" && !code) { out = out "$"; i++; continue }
        if (c == "`" && !math) code = !code
        if (c == "$" && !code) { out = out (math ? "\\f$" : "\\f$"); math = !math; continue }
        out = out c
    }
    print out
}
