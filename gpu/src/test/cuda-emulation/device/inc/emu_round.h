// emu_round.h: rounding a double to a narrower binary format (round to nearest, ties to even), shared by the
// __half and __nv_bfloat16 stand-ins. Exact: the scaling by powers of two and nearbyint (in the default rounding
// mode) are the only operations on the value.
#pragma once

#include <algorithm>
#include <cmath>

namespace emu {

// |a| rounded to p significant bits with the smallest normal exponent emin (subnormals below 2^emin).
inline double round_to_format(double a, int p, int emin) {
    a = std::fabs(a);
    if (a == 0.0 || !std::isfinite(a)) return a;
    int e;
    std::frexp(a, &e);                      // a in [2^(e-1), 2^e)
    int lead = std::max(e - 1, emin);       // exponent of the leading bit, clamped for subnormals
    int unit = lead - (p - 1);              // exponent of one unit in the last place
    return std::ldexp(std::nearbyint(std::ldexp(a, -unit)), unit);
}

}  // namespace emu
