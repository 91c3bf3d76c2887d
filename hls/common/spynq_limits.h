// Size limits every spynq kernel's parser enforces (one definition: the kernels' parsers,
// their golden models and the host read this file).
#ifndef SPYNQ_LIMITS_H
#define SPYNQ_LIMITS_H
#include <stdint.h>

// The most words one call may write to its out buffer: 2^32 - 4, the largest whole-beat
// count below 2^32. Out word counts travel as 32-bit values (the csim ABI's return, the
// kernels' 32-bit beat counters, the host's word offsets), so a call whose out buffer
// would be larger is rejected by the parser (status BAD_NET, one beat written) instead
// of wrapping; the host rejects it before allocating anything. Counts are computed in
// 64 bits before the comparison. Overridable (-DSPYNQ_MAX_OUT_WORDS=n) only as a test
// switch, so that small calls reach the limit.
#ifndef SPYNQ_MAX_OUT_WORDS
#define SPYNQ_MAX_OUT_WORDS 4294967292
#endif
#endif
